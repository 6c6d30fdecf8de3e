"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0, §2.1) over the log's event hashes.

Leaves are the events in log order; a leaf's input is the 32 bytes of the event's SHA-256. Generation
(``root``, ``inclusion_proof``, ``consistency_proof``) follows §2.1.1–2.1.4; verification
(``verify_inclusion``, ``verify_consistency``) follows the verification algorithms of §2.1.3.2 and
§2.1.4.2, written separately so that each checks the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Subtrees:
    """Proofs over a tree whose subtree hashes come from ``hash(lo, hi)`` (the tree's ``size`` leaves)."""

    size: int

    def hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        raise NotImplementedError

    def root(self, size: int | None = None) -> bytes:
        """The tree head's root for the first ``size`` leaves (default: all)."""
        return self.hash(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(m, D[0:n]) (§2.1.3.1)."""
        if not 0 <= index < size <= self.size:
            raise ValueError("the leaf is not in a tree of that size")
        return self._path(index, 0, size)

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*self._path(m, lo, lo + k), self.hash(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self.hash(lo, lo + k)]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """PROOF(m, D[0:n]) (§2.1.4.1)."""
        if not 0 < first <= second <= self.size:
            raise ValueError("consistency needs 0 < first <= second <= the tree's size")
        if first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self.hash(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self.hash(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.hash(lo, lo + k)]


class Tree(Subtrees):
    """The tree over a sequence of leaf hashes held in memory, computing subtree hashes on demand (memoised)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves
        self._memo: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:  # type: ignore[override]
        """How many leaves."""
        return len(self.leaves)

    def hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaves[lo]
        key = (lo, hi)
        found = self._memo.get(key)
        if found is None:
            k = _split(n)
            found = node_hash(self.hash(lo, lo + k), self.hash(lo + k, hi))
            if n >= 64:  # keep the memo small: only larger subtrees
                self._memo[key] = found
        return found


@dataclass(frozen=True)
class Node:
    """A perfect subtree: the ``2**level`` leaves from ``index * 2**level``, its hash, and the log position of its
    first leaf."""

    level: int
    index: int
    hash: bytes
    first_position: int


class CompactRange:
    """The right border of the tree: the hashes of the perfect subtrees its leaves decompose into, largest first
    (at most one per bit of the size: O(log n) memory, whatever the log's length)."""

    def __init__(self, size: int = 0, nodes: Sequence[Node] = ()) -> None:
        self.size = size
        self.nodes = list(nodes)
        if sum(1 << n.level for n in self.nodes) != size:
            raise ValueError("the compact range does not cover its size")

    def append(self, leaf: bytes, position: int) -> list[Node]:
        """Adds a leaf hash (of the event at ``position``); returns the perfect subtrees it completed (itself first)."""
        node = Node(0, self.size, leaf, position)
        self.size += 1
        made = [node]
        while self.nodes and self.nodes[-1].level == node.level:
            left = self.nodes.pop()
            node = Node(node.level + 1, left.index >> 1, node_hash(left.hash, node.hash), left.first_position)
            made.append(node)
        self.nodes.append(node)
        return made

    def root(self) -> bytes:
        """MTH of every leaf so far (RFC 9162: the perfect subtrees folded from the right)."""
        if not self.nodes:
            return EMPTY_ROOT
        h = self.nodes[-1].hash
        for node in reversed(self.nodes[:-1]):
            h = node_hash(node.hash, h)
        return h


HASH_SIZE = 32  # SHA-256


def _is_size(n: object) -> bool:
    """A tree size or index as the verifiers accept it: an int, not a bool (JSON ``true`` is not 1)."""
    return isinstance(n, int) and not isinstance(n, bool)


def _are_hashes(*hashes: object) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove the leaf hash ``leaf`` at ``index`` in the tree ``root``?

    Refuses what the algorithm does not define: ``index`` outside ``0 <= index < size`` (a negative index
    would shift forever in Python's arithmetic and can be steered to a match) and hashes not 32 bytes long.
    """
    if not (_is_size(index) and _is_size(size) and 0 <= index < size):
        return False
    if not _are_hashes(leaf, root, *path):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree of ``second`` leaves extends the one of ``first``?

    Both sizes must be at least 1 (no tree head of the empty log is ever signed here, and RFC 9162 defines
    no proof from it), ``first`` at most ``second``, and every hash 32 bytes long.
    """
    if not (_is_size(first) and _is_size(second) and 0 < first <= second):
        return False
    if not _are_hashes(first_root, second_root, *proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # first is an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
