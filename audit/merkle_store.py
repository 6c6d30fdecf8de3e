"""The log's Merkle tree without holding its leaves: the compact range (O(log n) hashes) in memory, and the perfect
subtrees of ``2**STORED_LEVEL`` leaves and more in a table beside the views; smaller subtrees are hashed from the
leaves (the history view's event hashes, in log order) when a proof needs them.

The table is derived data and never goes stale: a perfect subtree's hash is fixed once its leaves are in the log
(the log only grows), so a rebuild of the views leaves it valid, and two processes write the same rows."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from audit.merkle import EMPTY_ROOT
from audit.merkle import CompactRange
from audit.merkle import Node
from audit.merkle import Subtrees
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.merkle import node_hash
from projections.history import hashes_after
from projections.history import hashes_from
from projections.storage import Tx
from projections.storage import ViewSpec
from projections.storage import ensure_current_schema

STORED_LEVEL = 8  # subtrees of 256 leaves and more are stored (≈ one row per 128 events); smaller ones are hashed
BLOCK = 1 << STORED_LEVEL
PAGE = 5000  # leaves read at a time when catching up with the log
CACHE = 4096  # subtree hashes kept in memory (a bounded cache: memory does not grow with the log)

MERKLE_SPEC = ViewSpec(
    name="view_merkle",
    tables={
        "view_merkle": "level INTEGER NOT NULL, idx BIGINT NOT NULL, hash TEXT NOT NULL, first_position BIGINT "
        "NOT NULL, PRIMARY KEY (level, idx)",
        "view_merkle_state": "id INTEGER PRIMARY KEY, size BIGINT NOT NULL, last_position BIGINT NOT NULL, "
        "nodes TEXT NOT NULL",
    },
)


def _is_perfect(lo: int, n: int) -> bool:
    return n & (n - 1) == 0 and lo % n == 0


class MerkleStore:
    """The tree over the log as far as it has been read: ``extend`` reads new leaves, ``tree`` answers proofs."""

    def __init__(self, recorder: Any, history: Callable[[], AbstractContextManager[Tx]]) -> None:
        self.recorder = recorder  # a view recorder over MERKLE_SPEC, in the views' database
        self.history = history  # a read transaction on the history view
        self.range = CompactRange()
        self.last_position = 0
        self._cache: OrderedDict[tuple[int, int], Node] = OrderedDict()
        self._blocks: OrderedDict[int, list[bytes]] = OrderedDict()
        self._lock = threading.Lock()
        ensure_current_schema(recorder)
        self._load()

    @classmethod
    def beside(cls, history_view: Any, history: Callable[[], AbstractContextManager[Tx]]) -> MerkleStore:
        """The store in the same database as the history view (``history_view``: its recorder)."""
        recorder = type(history_view)(history_view.datastore, MERKLE_SPEC)
        recorder.env = getattr(history_view, "env", {})
        return cls(recorder, history)

    @property
    def size(self) -> int:
        """How many leaves have been read."""
        return self.range.size

    def _load(self) -> None:
        with self.recorder.read() as tx:
            row = tx.one("SELECT size, last_position, nodes FROM {view_merkle_state} WHERE id = 1")
        if row is not None:
            nodes = [Node(lv, i, bytes.fromhex(h), p) for lv, i, h, p in json.loads(row["nodes"])]
            self.range = CompactRange(int(row["size"]), nodes)
            self.last_position = int(row["last_position"])

    def extend(self) -> int:
        """Reads the leaves the history view holds past the last one read, storing the subtrees they complete and
        the compact range (one transaction per page); returns how many were read."""
        read = 0
        while True:
            with self.history() as tx:
                rows = hashes_after(tx, self.last_position, PAGE)
            if not rows:
                return read
            stored: list[tuple[int, int, str, int]] = []
            for r in rows:
                for node in self.range.append(leaf_hash(bytes.fromhex(r["hash"])), int(r["position"])):
                    if node.level >= STORED_LEVEL:
                        stored.append((node.level, node.index, node.hash.hex(), node.first_position))
            self.last_position = int(rows[-1]["position"])
            self._save(stored)
            read += len(rows)
            if len(rows) < PAGE:
                return read

    def _save(self, nodes: list[tuple[int, int, str, int]]) -> None:
        state = json.dumps([[n.level, n.index, n.hash.hex(), n.first_position] for n in self.range.nodes])
        with self.recorder.write(None) as tx:
            tx.executemany(
                "INSERT INTO {view_merkle} (level, idx, hash, first_position) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (level, idx) DO NOTHING",
                nodes,
            )
            tx.execute(  # another process may have gone further: the state only moves forward
                "INSERT INTO {view_merkle_state} (id, size, last_position, nodes) VALUES (1, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET size = excluded.size, last_position = excluded.last_position, "
                "nodes = excluded.nodes WHERE excluded.size > {view_merkle_state}.size",
                (self.range.size, self.last_position, state),
            )

    # --- subtree hashes -----------------------------------------------------------------------

    def tree(self, size: int | None = None) -> StoredTree:
        """The tree of the first ``size`` leaves read (default: all)."""
        return StoredTree(self, self.size if size is None else size)

    def root(self) -> bytes:
        """The root over every leaf read (from the compact range: no read)."""
        return self.range.root()

    def node(self, level: int, index: int) -> Node:
        """The perfect subtree of ``2**level`` leaves from ``index * 2**level`` (among the leaves read)."""
        if (index + 1) << level > self.size:
            raise ValueError("that subtree is not complete in the tree")
        for node in self.range.nodes:  # the right border: in memory
            if node.level == level and node.index == index:
                return node
        key = (level, index)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        if level >= STORED_LEVEL:
            with self.recorder.read() as tx:
                row = tx.one(
                    "SELECT hash, first_position FROM {view_merkle} WHERE level = %s AND idx = %s", (level, index)
                )
            if row is None:
                raise LookupError(f"the Merkle table lacks the subtree {level}/{index}")
            found = Node(level, index, bytes.fromhex(row["hash"]), int(row["first_position"]))
        else:
            start = index << level
            leaves = self._block(start >> STORED_LEVEL)
            offset = start % BLOCK
            found = Node(level, index, Tree(leaves).hash(offset, offset + (1 << level)), -1)
        with self._lock:
            self._cache[key] = found
            if len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return found

    def _block(self, block: int) -> list[bytes]:
        """The leaf hashes of a block of ``BLOCK`` leaves (the last one may be partial)."""
        with self._lock:
            found = self._blocks.get(block)
            if found is not None and len(found) == min(BLOCK, self.size - block * BLOCK):
                return found
        start = block * BLOCK
        if start + BLOCK <= self.size:
            first = self.node(STORED_LEVEL, block).first_position
        else:  # the block being filled: its leaves are the compact range's nodes below the stored level
            first = next(n.first_position for n in self.range.nodes if n.level < STORED_LEVEL)
        with self.history() as tx:
            hashes = hashes_from(tx, first, min(BLOCK, self.size - start))
        leaves = [leaf_hash(bytes.fromhex(h)) for h in hashes]
        with self._lock:
            self._blocks[block] = leaves
            if len(self._blocks) > 8:
                self._blocks.popitem(last=False)
        return leaves


class StoredTree(Subtrees):
    """Proofs over the first ``size`` leaves of a ``MerkleStore``: each perfect subtree is one stored hash (or is
    hashed from at most ``BLOCK`` leaves), any other range is split as RFC 9162 splits it (O(log n) lookups)."""

    def __init__(self, store: MerkleStore, size: int) -> None:
        if not 0 <= size <= store.size:
            raise ValueError("the tree has not that many leaves")
        self.store, self.size = store, size

    def hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if hi == self.store.size and lo == 0:
            return self.store.root()
        if _is_perfect(lo, n):
            level = n.bit_length() - 1
            return self.store.node(level, lo >> level).hash
        k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
        return node_hash(self.hash(lo, lo + k), self.hash(lo + k, hi))

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        if not 0 <= index < self.size:
            raise ValueError("no such leaf")
        return self.store.node(0, index).hash
