"""RFC 9162 Merkle trees: the reference roots, inclusion proofs in trees of 1..65 leaves, consistency
proofs between every pair of sizes up to 17 — generated, verified, and refused when tampered with."""

from __future__ import annotations

import hashlib

import pytest

from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.merkle import node_hash
from audit.merkle import verify_consistency
from audit.merkle import verify_inclusion

# The test data of Certificate Transparency's reference implementation, and its tree heads.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH straight from the definition (§2.1.1)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


LEAVES = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(65)]
TREE = Tree(LEAVES)


def test_reference_tree_heads() -> None:
    tree = Tree([leaf_hash(d) for d in CT_LEAVES])
    assert [tree.root(n).hex() for n in range(1, 9)] == CT_ROOTS
    assert Tree([]).root().hex() == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("size", range(1, 66))
def test_inclusion_proofs_in_trees_of_1_to_65_leaves(size: int) -> None:
    root = TREE.root(size)
    assert root == naive_root(LEAVES[:size])
    for index in range(size):
        path = TREE.inclusion_proof(index, size)
        assert verify_inclusion(LEAVES[index], index, size, path, root)
        assert not verify_inclusion(LEAVES[(index + 1) % 65], index, size, path, root)
        if path:
            bent = [*path[:-1], bytes(32)]
            assert not verify_inclusion(LEAVES[index], index, size, bent, root)
            assert not verify_inclusion(LEAVES[index], index, size, path[:-1], root)
        assert not verify_inclusion(LEAVES[index], index, size, [*path, bytes(32)], root)
        assert not verify_inclusion(LEAVES[index], size, size, path, root)


@pytest.mark.parametrize("second", range(1, 18))
def test_consistency_proofs_between_every_pair_of_sizes_up_to_17(second: int) -> None:
    for first in range(1, second + 1):
        proof = TREE.consistency_proof(first, second)
        first_root, second_root = TREE.root(first), TREE.root(second)
        assert verify_consistency(first, second, first_root, second_root, proof), (first, second)
        if first < second:
            assert not verify_consistency(
                first, second, first_root, TREE.root(second - 1) if second > 1 else bytes(32), proof
            )
            assert not verify_consistency(first, second, bytes(32), second_root, proof)
            assert not verify_consistency(first, second, first_root, second_root, proof[:-1])
            # a history rewritten under the first head: the proof no longer holds
            other = Tree([leaf_hash(b"forged"), *LEAVES[1:second]])
            assert not verify_consistency(first, second, other.root(first), second_root, proof)
