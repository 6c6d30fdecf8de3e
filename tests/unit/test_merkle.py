"""RFC 9162 Merkle trees: the reference roots, inclusion proofs in trees of 1..65 leaves, consistency
proofs between every pair of sizes up to 17 — generated, verified, and refused when tampered with."""

from __future__ import annotations

import hashlib
from typing import Any

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


# --- transparency-dev/merkle's published vectors (testonly/constants.go, proof/verify_test.go) ---------------


def h(hex_: str) -> bytes:
    return bytes.fromhex(hex_)


# RootHashes(): the root of the tree of the first n CT_LEAVES, n = 0 … 8
REFERENCE_ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    *(h(r) for r in CT_ROOTS),
]
# NodeHashes(): every complete subtree, level by level (level 0: the leaf hashes)
REFERENCE_NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
# inclusionProofs: (leaf number, 1-based; tree size; audit path)
REFERENCE_INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# consistencyProofs: (first size, second size, proof)
REFERENCE_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_TREE = REFERENCE_ROOTS[0]
CT_TREE = Tree([leaf_hash(d) for d in CT_LEAVES])


def test_reference_roots_for_sizes_0_to_8() -> None:
    assert [CT_TREE.root(n) for n in range(9)] == REFERENCE_ROOTS


def test_reference_node_hashes_of_every_complete_subtree() -> None:
    for level, nodes in enumerate(REFERENCE_NODES):
        width = 2**level
        assert [CT_TREE.hash(i * width, (i + 1) * width).hex() for i in range(len(nodes))] == nodes


@pytest.mark.parametrize(("leaf", "size", "path"), REFERENCE_INCLUSION)
def test_reference_inclusion_proofs(leaf: int, size: int, path: list[str]) -> None:
    proof = [h(p) for p in path]
    assert CT_TREE.inclusion_proof(leaf - 1, size) == proof  # we generate the reference's proof …
    assert verify_inclusion(
        leaf_hash(CT_LEAVES[leaf - 1]), leaf - 1, size, proof, REFERENCE_ROOTS[size]
    )  # … and accept it


@pytest.mark.parametrize(("first", "second", "path"), REFERENCE_CONSISTENCY)
def test_reference_consistency_proofs(first: int, second: int, path: list[str]) -> None:
    proof = [h(p) for p in path]
    assert CT_TREE.consistency_proof(first, second) == proof
    assert verify_consistency(first, second, REFERENCE_ROOTS[first], REFERENCE_ROOTS[second], proof)


def flipped(proof: list[bytes], i: int, mask: int) -> list[bytes]:
    """The proof with one bit of its i-th hash flipped."""
    return [bytes([p[0] ^ mask, *p[1:]]) if j == i else p for j, p in enumerate(proof)]


def inclusion_mutations(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> dict[str, tuple[Any, ...]]:
    """Every way the reference's verifier test corrupts an inclusion proof, and the malformed inputs of issue 11."""
    cases: dict[str, tuple[Any, ...]] = {
        "index - 1": (leaf, index - 1, size, proof, root),
        "index + 1": (leaf, index + 1, size, proof, root),
        "index ^ 2": (leaf, index ^ 2, size, proof, root),
        "index -1": (leaf, -1, size, proof, root),
        "index = size": (leaf, size, size, proof, root),
        "index far beyond": (leaf, size + 2**40, size, proof, root),
        "size * 2": (leaf, index, size * 2, proof, root),
        "size / 2": (leaf, index, size // 2, proof, root),
        "size 0": (leaf, index, 0, proof, root),
        "negative size": (leaf, index, -size, proof, root),
        "wrong leaf": (b"WrongLeaf", index, size, proof, root),
        "another leaf": (leaf_hash(b"another"), index, size, proof, root),
        "empty root": (leaf, index, size, proof, EMPTY_TREE),
        "random root": (leaf, index, size, proof, SOME_HASH),
        "root truncated": (leaf, index, size, proof, root[:31]),
        "root extended": (leaf, index, size, proof, root + b"\x00"),
        "leaf truncated": (leaf[:31], index, size, proof, root),
        "trailing garbage": (leaf, index, size, [*proof, b""], root),
        "trailing root": (leaf, index, size, [*proof, root], root),
        "preceding garbage": (leaf, index, size, [b"", *proof], root),
        "preceding root": (leaf, index, size, [root, *proof], root),
    }
    for i in range(len(proof)):
        cases[f"proof[{i}] bit 3 flipped"] = (leaf, index, size, flipped(proof, i, 8), root)
        cases[f"proof[{i}] last bit flipped"] = (
            leaf,
            index,
            size,
            [*proof[:i], proof[i][:31] + bytes([proof[i][31] ^ 1]), *proof[i + 1 :]],
            root,
        )
        cases[f"proof[{i}] of 31 bytes"] = (leaf, index, size, [*proof[:i], proof[i][:31], *proof[i + 1 :]], root)
        cases[f"proof[{i}] of 33 bytes"] = (leaf, index, size, [*proof[:i], proof[i] + b"\x00", *proof[i + 1 :]], root)
    if proof:
        cases["removed component"] = (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        cases["inserted component"] = (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)
    return cases


@pytest.mark.parametrize(("leaf", "size", "path"), REFERENCE_INCLUSION)
def test_mutated_reference_inclusion_proofs_are_all_rejected(leaf: int, size: int, path: list[str]) -> None:
    proof = [h(p) for p in path]
    cases = inclusion_mutations(leaf - 1, size, leaf_hash(CT_LEAVES[leaf - 1]), proof, REFERENCE_ROOTS[size])
    accepted = [name for name, args in cases.items() if verify_inclusion(*args)]
    assert accepted == []


def consistency_mutations(
    first: int, second: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> dict[str, tuple[Any, ...]]:
    """Every way the reference's verifier test corrupts a consistency proof, and the malformed inputs of issue 11."""
    cases: dict[str, tuple[Any, ...]] = {
        "first - 1": (first - 1, second, r1, r2, proof),
        "first + 1": (first + 1, second, r1, r2, proof),
        "first ^ 2": (first ^ 2, second, r1, r2, proof),
        "first 0": (0, second, r1, r2, proof),
        "first negative": (-first, second, r1, r2, proof),
        "second * 2": (first, second * 2, r1, r2, proof),
        "second / 2": (first, second // 2, r1, r2, proof),
        "second 0": (first, 0, r1, r2, proof),
        "first > second": (second, first, r2, r1, proof),
        "wrong root1": (first, second, b"WrongRoot", r2, proof),
        "wrong root2": (first, second, r1, b"WrongRoot", proof),
        "swapped roots": (first, second, r2, r1, proof),
        "root1 of 31 bytes": (first, second, r1[:31], r2, proof),
        "root2 of 33 bytes": (first, second, r1, r2 + b"\x00", proof),
        "empty proof": (first, second, r1, r2, []),
        "trailing garbage": (first, second, r1, r2, [*proof, b""]),
        "trailing root1": (first, second, r1, r2, [*proof, r1]),
        "trailing root2": (first, second, r1, r2, [*proof, r2]),
        "preceding garbage": (first, second, r1, r2, [b"", *proof]),
        "preceding root1": (first, second, r1, r2, [r1, *proof]),
        "preceding root2": (first, second, r1, r2, [r2, *proof]),
        "preceding proof[0]": (first, second, r1, r2, [proof[0], *proof]),
        "truncated proof": (first, second, r1, r2, proof[:-1]),
    }
    for i in range(len(proof)):
        cases[f"proof[{i}] bit 4 flipped"] = (first, second, r1, r2, flipped(proof, i, 16))
        cases[f"proof[{i}] of 31 bytes"] = (first, second, r1, r2, [*proof[:i], proof[i][:31], *proof[i + 1 :]])
    return cases


@pytest.mark.parametrize(("first", "second", "path"), [c for c in REFERENCE_CONSISTENCY if c[2]])
def test_mutated_reference_consistency_proofs_are_all_rejected(first: int, second: int, path: list[str]) -> None:
    proof = [h(p) for p in path]
    cases = consistency_mutations(first, second, REFERENCE_ROOTS[first], REFERENCE_ROOTS[second], proof)
    accepted = [name for name, args in cases.items() if verify_consistency(*args)]
    assert accepted == []


def test_mutations_of_every_generated_proof_are_rejected() -> None:
    """Beyond the reference's five proofs: each proof of the 65-leaf tree, mutated every way above."""
    accepted = []
    for size in range(1, 66):
        root = TREE.root(size)
        for index in range(size):
            cases = inclusion_mutations(index, size, LEAVES[index], TREE.inclusion_proof(index, size), root)
            accepted += [(size, index, name) for name, args in cases.items() if verify_inclusion(*args)]
    for second in range(2, 34):
        for first in range(1, second):
            proof = TREE.consistency_proof(first, second)
            cases = consistency_mutations(first, second, TREE.root(first), TREE.root(second), proof)
            accepted += [(first, second, name) for name, args in cases.items() if verify_consistency(*args)]
    assert accepted == []


def test_the_reference_edge_cases() -> None:
    """proof/verify_test.go's TestVerifyInclusion(SingleEntry) and TestVerifyConsistency probes.

    Where the reference accepts a proof from the empty tree (sizes 0–0 and 0–1, empty proof), we refuse:
    no tree head of size 0 is signed here, and an inspector holding one has nothing to compare."""
    single = leaf_hash(b"data")
    assert verify_inclusion(single, 0, 1, [], single)
    assert not verify_inclusion(single, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], single)
    assert not verify_inclusion(b"", 0, 1, [], b"")
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], b"")
        assert not verify_inclusion(b"", index, size, [], EMPTY_TREE)
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_TREE)
    r1, r2 = hashlib.sha256(b"don't care 1").digest(), hashlib.sha256(b"don't care 2").digest()
    refused = [
        (0, 0, r1, r2, []),
        (1, 1, r1, r2, []),
        (0, 0, r1, r1, []),  # the reference accepts this one
        (0, 1, r1, r2, []),  # and this one
        (1, 0, r1, r2, []),
        (2, 1, r1, r2, []),
        (1, 2, r1, r2, []),
        (0, 0, EMPTY_TREE, r2, []),
        (1, 1, EMPTY_TREE, r2, []),
        (0, 0, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE]),
        (0, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE]),
        (1, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE]),
    ]
    assert [args for args in refused if verify_consistency(*args)] == []
    assert verify_consistency(1, 1, r2, r2, [])
    assert not verify_consistency(1, 1, b"short", b"short", [])  # equal, but not hashes
    assert not verify_inclusion(LEAVES[1], True, 2, TREE.inclusion_proof(1, 2), TREE.root(2))  # JSON true is not 1
