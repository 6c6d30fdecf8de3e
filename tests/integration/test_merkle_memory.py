"""The checkpointer holds no leaf (issue 12, finding 11): its memory after 100 k events is that after 10 k, and its
proofs — read from stored subtree hashes — are byte for byte those of the tree over every leaf in memory."""

from __future__ import annotations

import gc
import hashlib
import tracemalloc
from contextlib import AbstractContextManager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteDatastore

from application.clock import SettableClock
from application.store import MemoryRecorder
from audit.checkpoints import Checkpointer
from audit.checkpoints import SigningKey
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.merkle import verify_consistency
from audit.merkle import verify_inclusion
from projections.history import HistoryProjection
from projections.storage import SQLiteView
from projections.storage import Tx
from projections.storage import ensure_current_schema


def event_hash(i: int) -> str:
    """The synthetic log's i-th event hash (positions are 2i + 1: the log has gaps, as a real one may)."""
    return hashlib.sha256(str(i).encode()).hexdigest()


def position(i: int) -> int:
    return 2 * i + 1


class SyntheticLog:
    """A history view filled with synthetic events, and what the checkpointer needs around it."""

    def __init__(self, path: Path) -> None:
        self.view = SQLiteView(SQLiteDatastore(str(path / "views.sqlite")), HistoryProjection.spec)
        ensure_current_schema(self.view)
        self.size = 0
        self.views = {"history": SimpleNamespace(view=self.view)}
        side = MemoryRecorder()  # holds the signed checkpoints
        self.app = SimpleNamespace(recorder=side, side_tables=side, clock=SettableClock())

    def grow(self, to: int) -> None:
        rows = [
            (position(i), f"z{i}", 1, "Synthetic", "2024-01-01T00:00:00+00:00", event_hash(i), "")
            for i in range(self.size, to)
        ]
        with self.view.write(None) as tx:
            tx.insert_many("view_history", ("position", "zone_id", "seq", "type", "at", "hash", "prev_hash"), rows)
        self.size = to

    # the view runner's part
    def read(self, name: str) -> AbstractContextManager[Tx]:
        return self.view.read()

    def wait_for(self, position: int | None, timeout: float = 5.0) -> None:
        return None


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(bytes.fromhex(event_hash(i))) for i in range(n)]


def retained(log: SyntheticLog, checkpointer: Checkpointer, size: int) -> int:
    """The memory still allocated after the checkpointer has read the log up to ``size`` and signed it."""
    log.grow(size)
    checkpointer.sign("test")
    checkpointer.inclusion(position(size // 3), size)
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_the_checkpointers_memory_does_not_grow_with_the_log(tmp_path: Path) -> None:
    log = SyntheticLog(tmp_path)
    tracemalloc.start()
    try:
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        checkpointer = Checkpointer(log.app, log, SigningKey.generate())
        at_10k = retained(log, checkpointer, 10_000) - base
        at_100k = retained(log, checkpointer, 100_000) - base
    finally:
        tracemalloc.stop()
    # the old checkpointer kept every leaf and position: ≈ 10 MB more at 100 k; now a compact range, bounded caches
    assert at_100k <= 1.1 * at_10k + 256 * 1024, (at_10k, at_100k)
    # and the proofs are still those of the whole tree
    tree = Tree(leaves(100_000))
    heads = log.app.side_tables.get_checkpoints()
    assert [h.tree_size for h in heads] == [10_000, 100_000]
    assert heads[-1].root_hash == tree.root().hex()
    proof = checkpointer.consistency(10_000, 100_000)
    assert proof["proof"] == [p.hex() for p in tree.consistency_proof(10_000, 100_000)]
    assert verify_consistency(
        10_000, 100_000, tree.root(10_000), tree.root(), [bytes.fromhex(p) for p in proof["proof"]]
    )
    included = checkpointer.inclusion(position(77_777), 100_000)
    assert included["leaf_index"] == 77_777
    assert included["audit_path"] == [p.hex() for p in tree.inclusion_proof(77_777, 100_000)]


SIZES = [1, 2, 3, 7, 255, 256, 257, 300, 511, 512, 513, 767, 1024, 1100]


@pytest.mark.parametrize("steps", [[1100], [1, 2, 255, 256, 257, 600, 1023, 1100]], ids=["at once", "in steps"])
def test_stored_proofs_are_those_of_the_tree_in_memory(tmp_path: Path, steps: list[int]) -> None:
    log = SyntheticLog(tmp_path)
    checkpointer = Checkpointer(log.app, log, SigningKey.generate())
    for size in steps:  # read incrementally, the compact range saved and stored subtrees written on the way
        log.grow(size)
        assert checkpointer.tree().size == size
    reopened = Checkpointer(log.app, log, SigningKey.generate())  # state read back from the table
    everything = leaves(1100)
    for checker in (checkpointer, reopened):
        tree = checker.tree()
        for n in SIZES:
            whole = Tree(everything[:n])
            assert tree.root(n) == whole.root()
            for m in sorted({1, min(2, n), n // 3 or 1, n // 2 or 1, max(n - 1, 1), n}):
                assert tree.consistency_proof(m, n) == whole.consistency_proof(m, n)
            for index in sorted({0, n // 2, n - 1}):
                got = checker.inclusion(position(index), n)
                assert got["leaf_hash"] == everything[index].hex()
                path = [bytes.fromhex(p) for p in got["audit_path"]]
                assert path == whole.inclusion_proof(index, n)
                assert verify_inclusion(everything[index], index, n, path, whole.root())


def test_a_leaf_not_in_the_log_has_no_index(tmp_path: Path) -> None:
    log = SyntheticLog(tmp_path)
    log.grow(10)
    checkpointer: Any = Checkpointer(log.app, log, SigningKey.generate())
    with pytest.raises(KeyError):
        checkpointer.leaf_index(2)  # positions are odd
    with pytest.raises(KeyError):
        checkpointer.leaf_index(position(10))  # not yet in the log
    assert checkpointer.leaf_index(position(9)) == 9
