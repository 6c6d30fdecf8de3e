"""Export the log for an inspector, and verify an export with no database and no server.

An export is a folder: ``events.ndjson`` (every event in log order, as stored), ``checkpoints.json``
(the signed tree heads), ``public-key.pem`` (the signing key's public half) and ``manifest.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from uuid import UUID

from audit.checkpoints import key_id_of
from audit.checkpoints import load_public_key
from audit.checkpoints import verify_tree_head
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.merkle import verify_consistency
from domain.integrity import GENESIS_HASH
from domain.integrity import UnknownHashSchemeError
from domain.integrity import event_hash

EVENTS, CHECKPOINTS, PUBLIC_KEY, MANIFEST = "events.ndjson", "checkpoints.json", "public-key.pem", "manifest.json"


def export(
    app: Any, checkpoints: list[dict[str, Any]], public_key_pem: str, out: Path, progress: Any = None
) -> dict[str, Any]:
    """Writes the whole log (streaming), the checkpoints and the public key to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    count, position = 0, 0
    with (out / EVENTS).open("w", encoding="utf-8") as f:
        while True:
            page = app.recorder.select_notifications(start=position + 1, limit=1000)
            for n in page:
                state = app.mapper.transcoder.decode(n.state)
                record = {
                    "position": n.id,
                    "originator_id": str(n.originator_id),
                    "version": n.originator_version,
                    "topic": n.topic,
                    "timestamp": state.pop("timestamp").isoformat(),
                    "hash": state.pop("hash"),
                    "body": state,
                }
                f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += len(page)
            if progress is not None and page:
                progress(len(page))
            if len(page) < 1000:
                break
            position = page[-1].id
    (out / CHECKPOINTS).write_text(json.dumps(checkpoints, ensure_ascii=False, indent=1), "utf-8")
    (out / PUBLIC_KEY).write_text(public_key_pem, "utf-8")
    manifest = {
        "log": "zonecase",
        "events": count,
        "latest_tree_size": max((c["tree_size"] for c in checkpoints), default=0),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1), "utf-8")
    return manifest


@dataclass
class Report:
    """What the verification found, by position."""

    events_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    key_source: str = ""

    @property
    def ok(self) -> bool:
        """Whether nothing was found."""
        return not self.problems

    def add(self, problem: str, *, position: int | None = None, line: int | None = None, **extra: Any) -> None:
        """Records one finding."""
        self.problems.append({"position": position, "line": line, "problem": problem, **extra})

    def as_dict(self) -> dict[str, Any]:
        """The report as printed."""
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "key": self.key_source,
            "problems": self.problems,
        }


def verify_export(folder: Path, public_key_file: Path | None = None) -> Report:
    """Checks every hash, every link, every checkpoint signature and the consistency of the checkpoints."""
    report = Report()
    pinned = public_key_file is not None
    key_pem = (public_key_file or folder / PUBLIC_KEY).read_text("utf-8")
    public = load_public_key(key_pem)
    report.key_source = f"{'the pinned key' if pinned else 'the export’s key'} {key_id_of(public)[:16]}…"
    if not pinned:
        report.key_source += " (pin the bureau's published key with --public-key to detect a re-signed export)"

    leaves: list[bytes] = []
    positions: list[int] = []
    chains: dict[str, tuple[int, str]] = {}
    with (folder / EVENTS).open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            report.events_checked += 1
            try:
                e = json.loads(line)
                position, zone, version = int(e["position"]), str(e["originator_id"]), e["version"]
                if type(version) is not int or UUID(zone).urn[9:] != zone:
                    raise ValueError("the version is not an integer or the id not a lower-case UUID")
                # the current scheme hashes the event's fields as exported (the timestamp's text as written)
                recomputed = event_hash(e["topic"], zone, version, e["timestamp"], e["body"])
            except UnknownHashSchemeError as err:
                report.add(f"{err} (edited, or recorded by newer code)", line=line_no)
                leaves.append(leaf_hash(b""))
                continue
            except Exception as err:  # an edit that leaves no readable event
                report.add(f"unreadable event ({type(err).__name__})", line=line_no)
                leaves.append(leaf_hash(b""))
                continue
            if positions and position <= positions[-1]:
                report.add(
                    f"out of order: position {position} comes after {positions[-1]} (reordered or inserted)",
                    position=position,
                    line=line_no,
                )
            if recomputed != e.get("hash"):
                report.add("its content does not match its hash (edited)", position=position, line=line_no)
            last_version, last_hash = chains.get(zone, (0, GENESIS_HASH))
            if version != last_version + 1:
                what = (
                    "missing before it (removed)" if version > last_version + 1 else "repeated (inserted or reordered)"
                )
                report.add(
                    f"event {version} of {zone} follows event {last_version}: {what}", position=position, line=line_no
                )
            elif e["body"].get("prev_hash") != last_hash:
                report.add(
                    "its prev_hash is not the hash of the event before it (chain broken)",
                    position=position,
                    line=line_no,
                )
            chains[zone] = (version, str(e.get("hash")))
            positions.append(position)
            leaves.append(leaf_hash(bytes.fromhex(recomputed)))

    tree = Tree(leaves)
    checkpoints = json.loads((folder / CHECKPOINTS).read_text("utf-8"))
    previous: dict[str, Any] | None = None
    for cp in sorted(checkpoints, key=lambda c: int(c["tree_size"])):
        report.checkpoints_checked += 1
        size = int(cp["tree_size"])
        if not verify_tree_head(public, cp):
            report.add(
                f"checkpoint of size {size}: the signature is not the bureau's key's (forged or re-signed)",
                tree_size=size,
            )
        if size > len(leaves):
            report.add(
                f"checkpoint of size {size} covers more events than the export holds ({len(leaves)}): "
                f"the log was truncated after position {positions[-1] if positions else 0}",
                tree_size=size,
            )
        elif tree.root(size).hex() != cp["root_hash"]:
            report.add(
                f"checkpoint of size {size}: its root does not match the events "
                f"(the first {size} events were altered, removed, inserted or reordered)",
                tree_size=size,
            )
        if previous is not None and int(previous["tree_size"]) <= len(leaves) and size <= len(leaves):
            first = int(previous["tree_size"])
            proof = tree.consistency_proof(first, size) if first <= size else []
            if not verify_consistency(
                first, size, bytes.fromhex(previous["root_hash"]), bytes.fromhex(cp["root_hash"]), proof
            ):
                report.add(
                    f"checkpoints of size {first} and {size} are not consistent (the log did not only grow)",
                    tree_size=size,
                )
        previous = cp
    return report
