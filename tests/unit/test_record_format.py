"""docs/record-format.md cannot drift from the code: every hash, key id, message and signature it quotes is
recomputed here from the values it quotes — once with nothing but hashlib, rfc8785 and Ed25519 (as a
verifier written from the document would), once with zonecase's own functions."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoints import key_id_of
from audit.checkpoints import load_public_key
from audit.checkpoints import tree_head_message
from audit.checkpoints import verify_tree_head
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.merkle import verify_inclusion
from domain.integrity import event_hash

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "record-format.md").read_text("utf-8")
EXAMPLES = {m.group(1): m.group(2) for m in re.finditer(r"<!-- example: (\S+) -->\n```\w*\n(.*?)\n```", DOC, re.DOTALL)}


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH, as §4 states it."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def hash_document(e: dict[str, Any]) -> bytes:
    """§3.1: the exported event without position and hash, in JCS."""
    return rfc8785.dumps({k: v for k, v in e.items() if k not in ("position", "hash")})


def events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLES["events.ndjson"].split("\n")]


def test_the_document_quotes_every_example() -> None:
    assert set(EXAMPLES) == {
        "events.ndjson",
        "event",
        "event-document",
        "event-hash",
        "leaves",
        "nodes",
        "inclusion",
        "public-key",
        "public-key-raw",
        "checkpoint",
        "tree-head-message",
        "legacy-event",
        "legacy-document",
        "legacy-hash",
    }


def test_every_exported_event_hashes_and_chains_as_section_3_says() -> None:
    last: dict[str, str] = {}
    for e in events():
        assert set(e) == {"position", "originator_id", "version", "topic", "timestamp", "hash", "body"}
        assert e["body"]["hash_scheme"] == "jcs-sha256/1"
        assert sha256(hash_document(e)).hex() == e["hash"]
        assert event_hash(e["topic"], e["originator_id"], e["version"], e["timestamp"], e["body"]) == e["hash"]
        assert e["body"]["prev_hash"] == last.get(e["originator_id"], "0" * 64)
        assert ("originator_topic" in e["body"]) == (e["version"] == 1)
        last[e["originator_id"]] = e["hash"]


def test_the_worked_event_its_bytes_and_its_hash() -> None:
    e = json.loads(EXAMPLES["event"])
    assert e == events()[3]
    document = EXAMPLES["event-document"].encode("utf-8")
    assert document == hash_document(e)
    assert sha256(document).hex() == EXAMPLES["event-hash"] == e["hash"]
    # the number rule, shown by the example: decimals as objects, integers as integers, no float anywhere
    assert '{"$decimal":"0.6"}' in EXAMPLES["event-document"] and '"value":12000000000' in EXAMPLES["event-document"]
    assert not any(isinstance(v, float) for v in scalars(json.loads(document)))


def scalars(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in scalars(v)]
    return [value]


def test_the_leaves_and_the_nodes_of_the_tree() -> None:
    table = json.loads(EXAMPLES["leaves"])
    assert [(r["position"], r["topic"], r["hash"]) for r in table] == [
        (e["position"], e["topic"], e["hash"]) for e in events()
    ]
    leaves = [sha256(b"\x00" + bytes.fromhex(r["hash"])) for r in table]  # the 32 raw bytes, not the hex
    assert [leaf.hex() for leaf in leaves] == [r["leaf"] for r in table]
    assert [leaf_hash(bytes.fromhex(r["hash"])).hex() for r in table] == [r["leaf"] for r in table]
    nodes = json.loads(EXAMPLES["nodes"])
    assert nodes == {
        "0-2": sha256(b"\x01" + leaves[0] + leaves[1]).hex(),
        "2-4": sha256(b"\x01" + leaves[2] + leaves[3]).hex(),
        "0-4": mth(leaves[:4]).hex(),
        "0-5": sha256(b"\x01" + mth(leaves[:4]) + leaves[4]).hex(),
    }
    assert nodes["0-5"] == mth(leaves).hex() == Tree(leaves).root().hex()


def test_the_inclusion_proof_and_each_step_the_document_shows() -> None:
    proof = json.loads(EXAMPLES["inclusion"])
    leaves = [bytes.fromhex(r["leaf"]) for r in json.loads(EXAMPLES["leaves"])]
    index, size = proof["leaf_index"], proof["tree_size"]
    path = [bytes.fromhex(p) for p in proof["audit_path"]]
    assert bytes.fromhex(proof["leaf_hash"]) == leaves[index]
    assert path == Tree(leaves).inclusion_proof(index, size)
    assert verify_inclusion(leaves[index], index, size, path, bytes.fromhex(proof["root_hash"]))
    # the three steps of §4.2, as written there
    section = DOC[DOC.index("Verification (RFC 9162 §2.1.3.2)") : DOC.index("The proof holds")]
    quoted = re.findall(r"= `([0-9a-f]{64})`", section)
    r = leaves[index]
    r1 = sha256(b"\x01" + path[0] + r)
    r2 = sha256(b"\x01" + path[1] + r1)
    r3 = sha256(b"\x01" + r2 + path[2])
    assert quoted == [r1.hex(), r2.hex(), r3.hex()]
    assert r3.hex() == proof["root_hash"] == json.loads(EXAMPLES["checkpoint"])["root_hash"]


def test_the_key_its_id_the_signed_message_and_the_signature() -> None:
    pem = EXAMPLES["public-key"] + "\n"
    public = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public, Ed25519PublicKey)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    raw = bytes.fromhex(EXAMPLES["public-key-raw"])
    assert der == bytes.fromhex("302a300506032b6570032100") + raw
    checkpoint = json.loads(EXAMPLES["checkpoint"])
    assert set(checkpoint) == {"tree_size", "root_hash", "issued_at", "key_id", "signature", "reason"}
    assert checkpoint["key_id"] == sha256(raw).hex() == key_id_of(load_public_key(pem))
    message = (
        f'{{"issued_at":"{checkpoint["issued_at"]}","key_id":"{checkpoint["key_id"]}","log":"zonecase",'
        f'"root_hash":"{checkpoint["root_hash"]}","tree_size":{checkpoint["tree_size"]}}}'
    ).encode()
    assert EXAMPLES["tree-head-message"].encode() == message
    assert message == tree_head_message(
        checkpoint["tree_size"], checkpoint["root_hash"], checkpoint["issued_at"], checkpoint["key_id"]
    )
    signature = base64.b64decode(checkpoint["signature"], validate=True)
    assert len(checkpoint["signature"]) == 88 and len(signature) == 64
    public.verify(signature, message)  # raises if it does not verify
    assert verify_tree_head(load_public_key(pem), checkpoint)
    assert checkpoint["tree_size"] == len(events())
    assert checkpoint["root_hash"] == json.loads(EXAMPLES["nodes"])["0-5"]


def test_the_legacy_example_is_a_real_stored_event_hashed_by_the_old_rule() -> None:
    line = EXAMPLES["legacy-event"]
    assert line in (ROOT / "tests/data/v2-export/events.ndjson").read_text("utf-8").splitlines()
    e = json.loads(line)
    assert "hash_scheme" not in e["body"]
    doc = {
        "topic": e["topic"],
        "originator_id": e["originator_id"],
        "originator_version": e["version"],
        "timestamp": e["timestamp"],
        "body": e["body"],
    }
    document = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert EXAMPLES["legacy-document"].encode("utf-8") == document
    assert sha256(document).hex() == EXAMPLES["legacy-hash"] == e["hash"]
    at = datetime.fromisoformat(e["timestamp"])
    assert event_hash(e["topic"], e["originator_id"], e["version"], at, e["body"]) == e["hash"]
