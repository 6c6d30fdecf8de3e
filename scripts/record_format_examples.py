"""Prints the worked examples of docs/record-format.md, made by the real code (run from the repository root:
``PYTHONPATH=$PWD python scripts/record_format_examples.py``; paste its output over the examples' blocks).

A fresh SQLite store under a temporary folder: the first batch's call, one application rejected at formal
review, one working-day calendar entered — five events under the current scheme — then a tree head signed
with a key derived from a fixed seed (a documentation key, never used elsewhere), exported with
``audit.offline.export``. The legacy example is the smallest event of tests/data/v2-export (made by 5b2c57e).
tests/unit/test_record_format.py recomputes every hash the document quotes from the values it quotes.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.clock import SettableClock
from application.sample import BUREAU
from application.sample import SONGSHAN
from application.sample import Walk
from application.sample import at
from application.settings import Settings
from audit.checkpoints import SigningKey
from audit.checkpoints import public_pem
from audit.checkpoints import tree_head_message
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.offline import export
from domain.integrity import hash_document
from domain.integrity import jcs
from domain.integrity import legacy_hash
from zonecase.wiring import build

ROOT = Path(__file__).resolve().parents[1]
SEED = hashlib.sha256(b"zonecase docs/record-format.md example key").digest()
INCLUDED = 3  # the leaf whose inclusion is shown: the rejection


def block(name: str, lang: str, text: str) -> str:
    return f"<!-- example: {name} -->\n```{lang}\n{text}\n```\n"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="record-format-"))
    clock = SettableClock(at("2021-07-15"))
    settings = Settings(database_url=f"sqlite:///{work}/s.sqlite", data_dir=work / "d")
    c = build(settings, clock=clock, check_documents=False)
    app = c.app
    app.import_calls()
    walk = Walk(app, clock).apply("2021-07-15", SONGSHAN, "松山湖软件和信息技术服务业集聚区")
    walk.step("2021-07-16", lambda z: app.formal_review(z, BUREAU, outcome="rejected", reasons="不属于软件园区。"))
    clock.set(at("2021-07-16", 11))
    app.enter_calendar(BUREAU, year=2027, holidays=[date(2027, 1, 1)], working_days=[], source="国办发明电 (example)")
    clock.set(at("2021-07-16", 12))
    key = SigningKey(Ed25519PrivateKey.from_private_bytes(SEED))
    c.start_checkpoints(key).sign("docs/record-format.md")
    out = work / "export"
    export(app, [x.as_dict() for x in app.side_tables.get_checkpoints()], public_pem(key.public), out)
    c.close()

    lines = (out / "events.ndjson").read_text("utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    (checkpoint,) = json.loads((out / "checkpoints.json").read_text("utf-8"))
    leaves = [leaf_hash(bytes.fromhex(e["hash"])) for e in events]
    tree = Tree(leaves)
    assert tree.root().hex() == checkpoint["root_hash"]
    e = events[INCLUDED]
    document = jcs(hash_document(e["topic"], e["originator_id"], e["version"], e["timestamp"], e["body"]))
    assert hashlib.sha256(document).hexdigest() == e["hash"]
    raw_key = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    message = tree_head_message(checkpoint["tree_size"], checkpoint["root_hash"], checkpoint["issued_at"], key.key_id)
    path = tree.inclusion_proof(INCLUDED, len(leaves))
    nodes = {f"{lo}-{hi}": tree.hash(lo, hi).hex() for lo, hi in ((0, 2), (2, 4), (0, 4), (0, 5))}

    old_lines = (ROOT / "tests/data/v2-export/events.ndjson").read_text("utf-8").splitlines()
    old_line = min(old_lines, key=len)
    old = json.loads(old_line)
    old_at = datetime.fromisoformat(old["timestamp"])
    old_doc = {
        "topic": old["topic"],
        "originator_id": old["originator_id"],
        "originator_version": old["version"],
        "timestamp": old["timestamp"],
        "body": old["body"],
    }
    old_bytes = json.dumps(old_doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert legacy_hash(old["topic"], old["originator_id"], old["version"], old_at, old["body"]) == old["hash"]

    table: list[dict[str, Any]] = [
        {"position": ev["position"], "topic": ev["topic"], "hash": ev["hash"], "leaf": leaf.hex()}
        for ev, leaf in zip(events, leaves, strict=True)
    ]
    print(block("events.ndjson", "text", "\n".join(lines)))
    print(block("event", "json", lines[INCLUDED]))
    print(block("event-document", "text", document.decode("utf-8")))
    print(block("event-hash", "text", e["hash"]))
    print(block("leaves", "json", json.dumps(table, ensure_ascii=False, indent=1)))
    print(block("nodes", "json", json.dumps(nodes, indent=1)))
    print(block("public-key", "text", public_pem(key.public).strip()))
    print(block("public-key-raw", "text", raw_key.hex()))
    print(block("checkpoint", "json", json.dumps(checkpoint, ensure_ascii=False, indent=1)))
    print(block("tree-head-message", "text", message.decode("utf-8")))
    proof = {
        "leaf_index": INCLUDED,
        "tree_size": len(leaves),
        "leaf_hash": leaves[INCLUDED].hex(),
        "audit_path": [p.hex() for p in path],
        "root_hash": checkpoint["root_hash"],
    }
    print(block("inclusion", "json", json.dumps(proof, indent=1)))
    print(block("legacy-event", "json", old_line))
    print(block("legacy-document", "text", old_bytes.decode("utf-8")))
    print(block("legacy-hash", "text", old["hash"]))


if __name__ == "__main__":
    main()
