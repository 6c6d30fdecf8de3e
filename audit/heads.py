"""Signed tree heads as an inspector receives them — in an export's ``checkpoints.json``, saved from
``GET /checkpoints/latest``, or copied from the notice board as ``SIZE:ROOT`` — read strictly: every field
checked for what it must be, and each fault described in words, never raised as a traceback."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

HEX64 = re.compile(r"[0-9a-fA-F]{64}")
SIGNATURE_BYTES = 64  # Ed25519


class TreeHeadError(ValueError):
    """A trusted tree head given to ``verify`` that cannot be read (the message says why)."""


@dataclass(frozen=True)
class Head:
    """A well-formed tree head: the first ``tree_size`` events have Merkle root ``root_hash``."""

    tree_size: int
    root_hash: str  # 64 hex digits, lower case
    issued_at: str = ""
    key_id: str = ""
    signature: str = ""

    @property
    def signed(self) -> bool:
        """Whether it carries a signature (a ``SIZE:ROOT`` head does not)."""
        return bool(self.signature)

    def as_dict(self) -> dict[str, Any]:
        """The fields the signature covers, as ``verify_tree_head`` reads them."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "issued_at": self.issued_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def _kind(value: Any) -> str:
    """How a JSON value reads to a person: 'a string ("16")', 'a list', 'null' …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:20] + "…"
        return f"a string ({json.dumps(shown, ensure_ascii=False)})"
    return "a list" if isinstance(value, list) else "an object"


def _hex64(entry: dict[str, Any], name: str, what: str) -> list[str]:
    value = entry[name]
    if not isinstance(value, str):
        return [f"{name} is {_kind(value)}, not a string of 64 hex digits"]
    if re.fullmatch(r"[0-9a-fA-F]*", value) is None:
        return [f"{name} is not hexadecimal ({json.dumps(value[:20], ensure_ascii=False)}…)"]
    if len(value) != 64:
        return [f"{name} has {len(value)} hex digits; {what} has 64"]
    return []


def head_problems(entry: Any) -> list[str]:
    """What is wrong with one tree head as a JSON value (empty: it is well formed)."""
    if not isinstance(entry, dict):
        return [f"it is {_kind(entry)}, not an object"]
    missing = [f for f in ("tree_size", "root_hash", "issued_at", "key_id", "signature") if f not in entry]
    problems = [f"it has no {f}" for f in missing]
    size = entry.get("tree_size")
    if "tree_size" in entry:
        if isinstance(size, bool) or not isinstance(size, int):
            problems.append(f"tree_size is {_kind(size)}, not an integer")
        elif size < 1:
            problems.append(f"tree_size is {size}: a signed tree head covers at least one event")
    if "root_hash" in entry:
        problems += _hex64(entry, "root_hash", "a SHA-256")
    if "key_id" in entry:
        problems += _hex64(entry, "key_id", "a key id (the SHA-256 of the raw public key)")
    if "issued_at" in entry:
        issued = entry["issued_at"]
        if not isinstance(issued, str):
            problems.append(f"issued_at is {_kind(issued)}, not an ISO 8601 instant")
        else:
            try:
                aware = datetime.fromisoformat(issued).tzinfo is not None
            except ValueError:
                aware = False
            if not aware:
                problems.append(f"issued_at ({json.dumps(issued[:40])}) is not an ISO 8601 instant with offset")
    if "signature" in entry:
        problems += _signature_problems(entry["signature"])
    return problems


def _signature_problems(signature: Any) -> list[str]:
    if not isinstance(signature, str):
        return [f"signature is {_kind(signature)}, not base64"]
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return ["signature is not base64"]
    if len(raw) != SIGNATURE_BYTES:
        return [f"signature is {len(raw)} bytes; an Ed25519 signature is {SIGNATURE_BYTES}"]
    return []


def read_head(entry: Any) -> Head | None:
    """The tree head, or None when ``head_problems`` finds anything."""
    return None if head_problems(entry) else _head(entry)


def _head(entry: dict[str, Any]) -> Head:
    return Head(entry["tree_size"], entry["root_hash"].lower(), entry["issued_at"], entry["key_id"], entry["signature"])


def read_checkpoints_file(path: Path) -> tuple[list[Any], str | None]:
    """The entries of ``checkpoints.json``, or what keeps it from being a list of them."""
    if not path.is_file():
        return [], f"{path.name} is missing: no signed checkpoint covers the events"
    try:
        data = json.loads(path.read_text("utf-8"))
    except UnicodeDecodeError:
        return [], f"{path.name} is not UTF-8 text"
    except json.JSONDecodeError as e:
        return [], f"{path.name} is not JSON (line {e.lineno}, column {e.colno}: {e.msg})"
    if not isinstance(data, list):
        return [], f"{path.name} is {_kind(data)}, not a list of checkpoints"
    return data, None


def parse_tree_head_argument(value: str) -> tuple[Head, str]:
    """``--tree-head``: ``SIZE:ROOT`` (root in hex), or a file holding one checkpoint as
    ``GET /checkpoints/latest`` serves it. Returns the head and where it came from."""
    size_text, sep, root = value.partition(":")
    if sep and size_text.strip().isdigit() and not Path(value).is_file():
        size, root = int(size_text), root.strip()
        if size < 1:
            raise TreeHeadError(f"--tree-head {value}: the size must be at least 1")
        if HEX64.fullmatch(root) is None:
            raise TreeHeadError(f"--tree-head {value}: the root must be 64 hex digits (a SHA-256)")
        return Head(size, root.lower()), f"the tree head {size}:{root.lower()} given on the command line"
    path = Path(value)
    if not path.is_file():
        raise TreeHeadError(f"--tree-head {value}: neither SIZE:ROOT (e.g. 28:3fa2…, 64 hex digits) nor a file")
    try:
        entry = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TreeHeadError(f"--tree-head {value}: the file is not JSON ({e})") from None
    problems = head_problems(entry)
    if problems:
        raise TreeHeadError(f"--tree-head {value}: not a signed tree head: {'; '.join(problems)}")
    return _head(entry), f"the signed tree head in {path}"
