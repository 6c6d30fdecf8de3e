"""Export the log for an inspector, and verify an export with no database and no server.

An export is a folder: ``events.ndjson`` (every event in log order, as stored), ``checkpoints.json``
(the signed tree heads), ``public-key.pem`` (the signing key's public half) and ``manifest.json`` (unsigned:
a summary for people, which the verification does not rely on).

The verification passes only when a checkpoint signed by the key covers every exported event: anyone can
write a chain of events whose hashes and links agree, and only the signature ties them to the bureau.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoints import key_id_of
from audit.checkpoints import load_public_key
from audit.checkpoints import verify_tree_head
from audit.heads import HEX64
from audit.heads import Head
from audit.heads import head_problems
from audit.heads import read_checkpoints_file
from audit.heads import read_head
from audit.merkle import Tree
from audit.merkle import leaf_hash
from audit.merkle import verify_consistency
from audit.public import export_record
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
                f.write(json.dumps(export_record(app, n), ensure_ascii=False, sort_keys=True) + "\n")
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


class InputError(ValueError):
    """The inspector's own input to ``verify`` (the pinned key) cannot be read."""


@dataclass
class Report:
    """What the verification found, by position."""

    events_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    key_source: str = ""
    covered_by: dict[str, Any] | None = None
    tree_head: dict[str, Any] | None = None

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
            "covered_by": self.covered_by,
            "tree_head": self.tree_head,
            "problems": self.problems,
        }


def record_hash(e: dict[str, Any]) -> str:
    """The hash an exported event's fields give, recomputed as the event was hashed when recorded (the current
    scheme hashes the fields as exported: the id's and the timestamp's text as written)."""
    return event_hash(e["topic"], e["originator_id"], e["version"], e["timestamp"], e["body"])


def _event_problem(e: Any) -> str | None:
    """What keeps a parsed line from being an exported event (None: it has every field, each of its type)."""
    if not isinstance(e, dict):
        return "it is not a JSON object"
    for name in ("position", "version"):
        value = e.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f"{name} is {json.dumps(value)}, not a whole number from 1"
    for name in ("originator_id", "topic", "timestamp", "hash"):
        if not isinstance(e.get(name), str):
            return f"{name} is {json.dumps(e.get(name), ensure_ascii=False)[:40]}, not a string"
    try:
        lower_case = UUID(e["originator_id"]).urn[9:] == e["originator_id"]
    except ValueError:
        lower_case = False
    if not lower_case:
        return f"originator_id {json.dumps(e['originator_id'][:40])} is not a UUID in lower case"
    try:
        aware = datetime.fromisoformat(e["timestamp"]).tzinfo is not None
    except ValueError:
        aware = False
    if not aware:
        return f"timestamp {json.dumps(e['timestamp'][:40])} is not an ISO 8601 instant with offset"
    if HEX64.fullmatch(e["hash"]) is None:
        return "hash is not 64 hex digits"
    if not isinstance(e.get("body"), dict):
        return "body is not a JSON object"
    return None


def _check_events(path: Path, report: Report) -> tuple[list[bytes], list[int | None]]:
    """Every event's hash and link to its predecessor; the tree's leaves and the events' log positions."""
    leaves: list[bytes] = []
    positions: list[int | None] = []
    if not path.is_file():
        report.add(f"{path.name} is missing: there are no events to verify")
        return leaves, positions
    chains: dict[str, tuple[int, str]] = {}
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            report.events_checked += 1
            try:
                e = json.loads(raw.decode("utf-8"))
                wrong = _event_problem(e)
                recomputed = record_hash(e) if wrong is None else ""
            except UnicodeDecodeError:
                wrong = "it is not UTF-8 text"
            except UnknownHashSchemeError as err:
                wrong = f"{err} (edited, or recorded by newer code)"
            except json.JSONDecodeError as err:
                wrong = f"it is not JSON ({err.msg} at column {err.colno})"
            except (TypeError, ValueError) as err:  # a body the hash cannot be computed over (NaN, say)
                wrong = f"its hash cannot be computed ({err})"
            if wrong is not None:  # an edit that leaves no readable event: a leaf no checkpoint can match
                report.add(f"line {line_no} is not a readable event: {wrong}", line=line_no)
                leaves.append(leaf_hash(b""))
                positions.append(None)
                continue
            position, zone, version = e["position"], e["originator_id"], e["version"]
            last_position = next((p for p in reversed(positions) if p is not None), 0)
            if position <= last_position:
                report.add(
                    f"out of order: position {position} comes after {last_position} (reordered or inserted)",
                    position=position,
                    line=line_no,
                )
            if recomputed != e["hash"]:
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
            chains[zone] = (version, e["hash"])
            positions.append(position)
            leaves.append(leaf_hash(bytes.fromhex(recomputed)))
    return leaves, positions


def _signer_problem(public: Ed25519PublicKey | None, head: Head, whose: str) -> str | None:
    """Why the head is not signed by the key (None: it is)."""
    if public is None:
        return "cannot be checked: there is no public key to check it with"
    expected = key_id_of(public)
    if head.key_id.lower() != expected:
        return f"is signed by key {head.key_id[:16]}…, not {whose} ({expected[:16]}…): forged or re-signed"
    if not verify_tree_head(public, head.as_dict()):
        return f"has a signature that is not {whose}'s (forged, re-signed or altered)"
    return None


def _check_checkpoints(
    path: Path, report: Report, public: Ed25519PublicKey | None, whose: str, tree: Tree, positions: list[int | None]
) -> int:
    """Every checkpoint read strictly and checked against the key and the events; the number of events the
    largest good one covers (0: none)."""
    entries, unreadable = read_checkpoints_file(path)
    if unreadable:
        report.add(unreadable)
    n, covered = len(tree.leaves), 0
    previous: tuple[int, Head] | None = None  # the last well-formed checkpoint in growing order
    for number, entry in enumerate(entries, start=1):
        report.checkpoints_checked += 1
        head = read_head(entry)
        if head is None:
            for wrong in head_problems(entry):
                report.add(f"checkpoint {number}: {wrong}", checkpoint=number)
            continue
        size, where = head.tree_size, f"checkpoint {number} (tree size {head.tree_size})"

        def add(problem: str, size: int = size, number: int = number) -> None:
            report.add(problem, checkpoint=number, tree_size=size)

        signer = _signer_problem(public, head, whose)
        if signer:
            add(f"{where} {signer}")
        root_matches = False
        if size > n:
            last = next((p for p in reversed(positions) if p is not None), 0)
            add(f"{where} covers more events than the export holds ({n}): the log was truncated after position {last}")
        else:
            root_matches = tree.root(size).hex() == head.root_hash
            if not root_matches:
                add(
                    f"{where}: its root does not match the events "
                    f"(the first {size} events were altered, removed, inserted or reordered)"
                )
        if previous is not None and size <= previous[1].tree_size:
            earlier, before = previous
            if size == before.tree_size:
                fork = "" if head.root_hash == before.root_hash else ", with another root: two histories of one size"
                add(f"{where} repeats the tree size of checkpoint {earlier}{fork}")
            else:
                add(
                    f"{where} comes after checkpoint {earlier} of tree size {before.tree_size}: "
                    "checkpoints are listed smallest first, each larger than the one before"
                )
            continue
        if previous is not None and size <= n:
            first, before = previous[1].tree_size, previous[1]
            proof = tree.consistency_proof(first, size)
            if not verify_consistency(
                first, size, bytes.fromhex(before.root_hash), bytes.fromhex(head.root_hash), proof
            ):
                add(f"checkpoints of size {first} and {size} are not consistent (the log did not only grow)")
        previous = (number, head)
        if signer is None and root_matches and size > covered:
            covered = size
            report.covered_by = {"checkpoint": number, **head.as_dict()}
    if covered < n:
        first_uncovered = covered + 1
        span, they = (f"event {n} is", "it") if first_uncovered == n else (f"events {first_uncovered}–{n} are", "they")
        if not entries and not unreadable:
            why = f"{path.name} lists none"
        elif covered == 0:
            why = "none is both signed by the key and matches the events"
        else:
            why = f"the largest that is covers events 1–{covered}"
        report.add(
            f"{span} not covered by any signed checkpoint ({why}): {they} may have been appended or rewritten "
            "after the last tree head the bureau signed",
            position=positions[covered],
            line=first_uncovered,
            first=first_uncovered,
            last=n,
        )
    return covered


def _check_trusted_head(
    report: Report, trusted: Head, source: str, public: Ed25519PublicKey | None, whose: str, tree: Tree
) -> None:
    """The export's log must equal or extend the head the inspector already trusts (by consistency proof)."""
    m, n = trusted.tree_size, len(tree.leaves)
    report.tree_head = {"tree_size": m, "root_hash": trusted.root_hash, "source": source, "consistent": False}
    if trusted.signed:
        signer = _signer_problem(public, trusted, whose)
        if signer:
            report.add(f"the trusted tree head of size {m} {signer}", tree_size=m)
    if m > n:
        report.add(
            f"the trusted tree head covers {m} events, the export only {n}: events {n + 1}–{m} are missing "
            "from it (a log only grows; this export is older than that head, or cut short)",
            tree_size=m,
        )
        return
    proof = tree.consistency_proof(m, n)
    if not verify_consistency(m, n, bytes.fromhex(trusted.root_hash), tree.root(n), proof):
        report.add(
            f"the export does not extend the trusted tree head {m}:{trusted.root_hash[:16]}…: its first {m} events "
            f"have the root {tree.root(m).hex()[:16]}… (altered, removed, inserted or reordered since that head)",
            tree_size=m,
        )
        return
    report.tree_head["consistent"] = True
    report.tree_head["extended_by"] = n - m


def _public_key(folder: Path, public_key_file: Path | None, report: Report) -> Ed25519PublicKey | None:
    """The pinned key (an unreadable one is the inspector's error: ``InputError``), else the export's own."""
    if public_key_file is not None:
        try:
            public = load_public_key(public_key_file.read_bytes())
        except (OSError, ValueError, TypeError) as e:
            raise InputError(f"{public_key_file} is not an Ed25519 public key in PEM ({e})") from None
        report.key_source = f"the pinned key {key_id_of(public)[:16]}…"
        return public
    try:
        public = load_public_key((folder / PUBLIC_KEY).read_bytes())
    except (OSError, ValueError, TypeError):
        report.add(f"{PUBLIC_KEY} is missing or not an Ed25519 public key in PEM: no signature can be checked")
        report.key_source = "none"
        return None
    report.key_source = (
        f"the export’s key {key_id_of(public)[:16]}… "
        "(pin the bureau's published key with --public-key to detect a re-signed export)"
    )
    return public


def verify_export(folder: Path, public_key_file: Path | None = None, trusted: tuple[Head, str] | None = None) -> Report:
    """Checks every hash and link, every checkpoint (read strictly) against the key and the events, that a
    signed checkpoint covers every event, and — given a tree head the inspector trusts — that the export
    extends it."""
    report = Report()
    public = _public_key(folder, public_key_file, report)
    whose = "the pinned key" if public_key_file is not None else "the export's key"
    leaves, positions = _check_events(folder / EVENTS, report)
    tree = Tree(leaves)
    _check_checkpoints(folder / CHECKPOINTS, report, public, whose, tree, positions)
    if trusted is not None:
        _check_trusted_head(report, *trusted, public, whose, tree)
    return report
