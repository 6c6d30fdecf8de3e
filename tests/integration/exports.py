"""Exports for the offline verifier's tests, and the ways an attacker who holds one rewrites it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from audit.checkpoints import SigningKey
from audit.checkpoints import public_pem
from audit.checkpoints import tree_head_message
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.offline import CHECKPOINTS
from audit.offline import EVENTS
from audit.offline import PUBLIC_KEY
from audit.offline import export
from audit.offline import record_hash
from domain.integrity import GENESIS_HASH

from ..conftest import make_container
from ..unit import case
from .test_application import walk_to_grant

CALL = 2  # the log opens with the first batch's publication and the case the first zone opened in it
SIZES = (CALL + 14, CALL + 26, CALL + 36)  # a checkpoint after each of the three zones
EVENTS_IN_EXPORT = SIZES[-1]


def make_export(root: Path) -> Path:
    """An export of the first batch's call and three zones' histories, a checkpoint after each zone (SQLite),
    with the bureau's public key beside it as ``bureau-key.pem``."""
    c = make_container(f"sqlite:///{root / 'store.sqlite'}", root)
    checkpointer = c.start_checkpoints(SigningKey.generate())
    walk_to_grant(c)
    checkpointer.sign("after the first zone")
    c.app.save(case.granted())
    checkpointer.sign("after the second")
    c.app.save(case.in_notice())
    checkpointer.sign("after the third")
    checkpoints = [cp.as_dict() for cp in c.app.side_tables.get_checkpoints()]
    export(c.app, checkpoints, public_pem(checkpointer.key.public), root / "out")
    (root / "bureau-key.pem").write_text(public_pem(checkpointer.key.public))
    c.close()
    return root


def copy(exported: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(exported / "out", out)
    return out


def lines(folder: Path) -> list[str]:
    return (folder / EVENTS).read_text("utf-8").splitlines(keepends=True)


def write(folder: Path, rows: list[str]) -> None:
    (folder / EVENTS).write_text("".join(rows), "utf-8")


def checkpoints(folder: Path) -> list[dict[str, Any]]:
    return list(json.loads((folder / CHECKPOINTS).read_text("utf-8")))


def write_checkpoints(folder: Path, heads: Any) -> None:
    (folder / CHECKPOINTS).write_text(json.dumps(heads), "utf-8")


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n"


def rewritten_from(rows: list[str], start: int) -> list[str]:
    """Every event from row ``start`` on given another reason, and every chain re-hashed to hold together:
    each hash and each link is right again, as a forger with the published hash rules would make them."""
    last: dict[str, str] = {}
    out = []
    for i, row in enumerate(rows):
        e = json.loads(row)
        if i >= start:
            e["body"]["reason"] = f"rewritten: {e['body']['reason']}"
            e["body"]["prev_hash"] = last.get(e["originator_id"], GENESIS_HASH)
            e["hash"] = record_hash(e)
        last[e["originator_id"]] = e["hash"]
        out.append(dumps(e))
    return out


def forged_append(rows: list[str]) -> list[str]:
    """One more event after the last, correctly chained to its zone's last event and hashed."""
    e = json.loads(rows[-1])
    e["position"] += 1
    e["version"] += 1
    e["body"]["prev_hash"] = e["hash"]
    e["body"]["reason"] = "a decision nobody took"
    e["hash"] = record_hash(e)
    return [*rows, dumps(e)]


def signed_heads(key: SigningKey, rows: list[str], sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Tree heads over ``rows`` signed with ``key``, as the service would sign them."""
    tree = Tree([leaf_hash(bytes.fromhex(json.loads(r)["hash"])) for r in rows])
    heads = []
    for size in sizes:
        head = {
            "tree_size": size,
            "root_hash": tree.root(size).hex(),
            "issued_at": "2026-01-01T00:00:00+00:00",
            "key_id": key.key_id,
            "reason": "forged",
        }
        head["signature"] = key.sign(tree_head_message(size, head["root_hash"], head["issued_at"], key.key_id))
        heads.append(head)
    return heads


def re_sign(folder: Path, rows: list[str], sizes: tuple[int, ...]) -> SigningKey:
    """Signs ``rows`` with a key of the forger's own and puts that key in the export."""
    forger = SigningKey.generate()
    write(folder, rows)
    write_checkpoints(folder, signed_heads(forger, rows, sizes))
    (folder / PUBLIC_KEY).write_text(public_pem(forger.public))
    return forger
