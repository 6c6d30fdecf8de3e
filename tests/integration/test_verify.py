"""``zonecase verify`` cannot be fooled (issue 11): a rewritten history passes only if a checkpoint signed by
the pinned key covers every event; a tree head the inspector already holds must be extended; a hostile
``checkpoints.json`` or ``events.ndjson`` is reported by position, exit 1, never a traceback."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit.checkpoints import SigningKey
from audit.heads import TreeHeadError
from audit.heads import parse_tree_head_argument
from audit.offline import CHECKPOINTS
from audit.offline import EVENTS
from audit.offline import PUBLIC_KEY
from audit.offline import Report
from audit.offline import verify_export
from zonecase.cli import cli

from .exports import EVENTS_IN_EXPORT
from .exports import SIZES
from .exports import checkpoints
from .exports import copy
from .exports import forged_append
from .exports import lines
from .exports import re_sign
from .exports import rewritten_from
from .exports import signed_heads
from .exports import write
from .exports import write_checkpoints

UNCOVERED = "not covered by any signed checkpoint"


def verify(folder: Path, exported: Path, tree_head: str | None = None) -> Report:
    trusted = parse_tree_head_argument(tree_head) if tree_head else None
    return verify_export(folder, exported / "bureau-key.pem", trusted)


def problems(report: Report) -> list[str]:
    return [p["problem"] for p in report.problems]


# --- the three ways issue 11 fooled it ------------------------------------------------------------------------


def test_checkpoints_emptied_and_every_event_rewritten_and_re_hashed(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    write(folder, rewritten_from(lines(folder), 0))
    write_checkpoints(folder, [])
    report = verify(folder, exported)
    assert problems(report) == [
        f"events 1–{EVENTS_IN_EXPORT} are {UNCOVERED} (checkpoints.json lists none): they may have been appended "
        "or rewritten after the last tree head the bureau signed"
    ]  # every hash and link holds: only the missing signature gives it away
    assert (report.problems[0]["line"], report.problems[0]["position"]) == (1, 1)
    assert report.covered_by is None


def test_only_an_early_checkpoint_kept_and_every_later_event_rewritten(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    write(folder, rewritten_from(lines(folder), SIZES[0]))
    write_checkpoints(folder, checkpoints(folder)[:1])
    report = verify(folder, exported)
    assert problems(report) == [
        f"events {SIZES[0] + 1}–{EVENTS_IN_EXPORT} are {UNCOVERED} (the largest that is covers events "
        f"1–{SIZES[0]}): they may have been appended or rewritten after the last tree head the bureau signed"
    ]
    assert report.problems[0]["first"] == report.problems[0]["position"] == SIZES[0] + 1
    assert report.covered_by is not None and report.covered_by["tree_size"] == SIZES[0]


def test_a_forged_event_appended_after_the_last_checkpoint(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    write(folder, forged_append(lines(folder)))
    report = verify(folder, exported)
    forged = EVENTS_IN_EXPORT + 1
    assert [p.split(" (")[0] for p in problems(report)] == [f"event {forged} is {UNCOVERED}"]
    assert report.problems[0]["position"] == forged


def test_rewritten_under_kept_checkpoints_fails_each_and_the_tail(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    write(folder, rewritten_from(lines(folder), SIZES[0]))  # the checkpoints stay: their roots no longer match
    found = problems(verify(folder, exported))
    assert [p for p in found if "its root does not match" in p] == [
        f"checkpoint {n} (tree size {size}): its root does not match the events "
        f"(the first {size} events were altered, removed, inserted or reordered)"
        for n, size in ((2, SIZES[1]), (3, SIZES[2]))
    ]
    assert found[-1].startswith(f"events {SIZES[0] + 1}–{EVENTS_IN_EXPORT} are {UNCOVERED}")


# --- against a tree head the inspector already holds ------------------------------------------------------------


def test_an_export_extends_the_head_copied_from_the_board(exported: Path) -> None:
    head = checkpoints(exported / "out")[1]
    report = verify(exported / "out", exported, f"{head['tree_size']}:{head['root_hash'].upper()}")
    assert report.ok, report.problems
    assert report.tree_head is not None
    assert (report.tree_head["consistent"], report.tree_head["extended_by"]) == (True, SIZES[2] - SIZES[1])


def test_an_export_equals_the_head_saved_from_checkpoints_latest(exported: Path, tmp_path: Path) -> None:
    saved = tmp_path / "latest.json"
    saved.write_text(json.dumps(checkpoints(exported / "out")[-1]))  # as GET /checkpoints/latest serves it
    report = verify(exported / "out", exported, str(saved))
    assert report.ok, report.problems
    assert report.tree_head is not None and report.tree_head["extended_by"] == 0


def test_an_older_export_passed_off_against_a_newer_head_fails(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    write(folder, lines(folder)[: SIZES[0]])  # what the log was before the second zone, genuinely signed …
    write_checkpoints(folder, checkpoints(folder)[:1])
    assert verify(folder, exported).ok
    head = checkpoints(exported / "out")[1]  # … but the board already showed a later head
    report = verify(folder, exported, f"{head['tree_size']}:{head['root_hash']}")
    assert problems(report) == [
        f"the trusted tree head covers {SIZES[1]} events, the export only {SIZES[0]}: events {SIZES[0] + 1}–"
        f"{SIZES[1]} are missing from it (a log only grows; this export is older than that head, or cut short)"
    ]


def test_a_history_re_signed_by_a_forger_does_not_extend_the_trusted_head(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    re_sign(folder, rewritten_from(lines(folder), 3), SIZES)
    assert verify_export(folder).ok  # on the export's own key alone, it holds together …
    head = checkpoints(exported / "out")[0]
    report = verify_export(folder, None, parse_tree_head_argument(f"{head['tree_size']}:{head['root_hash']}"))
    assert [p.split(":")[0] for p in problems(report)] == [
        f"the export does not extend the trusted tree head {SIZES[0]}"
    ]  # … but not with the head the inspector holds


def test_a_trusted_head_whose_root_is_wrong_fails(exported: Path) -> None:
    report = verify(exported / "out", exported, f"{SIZES[1]}:{'ab' * 32}")
    assert [p["tree_size"] for p in report.problems] == [SIZES[1]]
    assert problems(report)[0].startswith(f"the export does not extend the trusted tree head {SIZES[1]}:abababab")


@pytest.mark.parametrize("how", ["another key", "its root altered"])
def test_a_saved_head_not_signed_by_the_pinned_key_fails(exported: Path, tmp_path: Path, how: str) -> None:
    rows = lines(exported / "out")
    if how == "another key":
        head = signed_heads(SigningKey.generate(), rows, (SIZES[1],))[0]
        expected = f"the trusted tree head of size {SIZES[1]} is signed by key"
    else:
        head = checkpoints(exported / "out")[1]
        head["root_hash"] = signed_heads(SigningKey.generate(), rows, (SIZES[0],))[0]["root_hash"]
        expected = f"the trusted tree head of size {SIZES[1]} has a signature that is not the pinned key's"
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(head))
    found = problems(verify(exported / "out", exported, str(saved)))
    assert found[0].startswith(expected)


@pytest.mark.parametrize(
    ("argument", "says"),
    [
        ("0:" + "ab" * 32, "the size must be at least 1"),
        ("12:abc", "the root must be 64 hex digits"),
        ("12:" + "zz" * 32, "the root must be 64 hex digits"),
        ("no-such-file.json", "neither SIZE:ROOT"),
    ],
)
def test_an_unreadable_tree_head_argument_is_refused(argument: str, says: str) -> None:
    with pytest.raises(TreeHeadError, match=says):
        parse_tree_head_argument(argument)


def test_a_saved_head_that_is_no_head_is_refused(tmp_path: Path) -> None:
    saved = tmp_path / "head.json"
    saved.write_text('{"tree_size": 0}')
    with pytest.raises(TreeHeadError, match="tree_size is 0: a signed tree head covers at least one event"):
        parse_tree_head_argument(str(saved))
    saved.write_text("<html>")
    with pytest.raises(TreeHeadError, match="not JSON"):
        parse_tree_head_argument(str(saved))


# --- hostile checkpoints.json: each fault named, by position -----------------------------------------------------


def entry(n: int, **change: Any) -> Any:
    """A function of the genuine checkpoints that returns them with checkpoint ``n`` (1-based) changed."""

    def edit(heads: list[dict[str, Any]]) -> list[Any]:
        head = dict(heads[n - 1])
        for field, value in change.items():
            if value is DROP:
                del head[field]
            else:
                head[field] = value
        return [*heads[: n - 1], head, *heads[n:]]

    return edit


DROP = object()
MALFORMED: dict[str, tuple[Any, int | None, str]] = {
    # name: (the new checkpoints.json: text, or a function of the genuine list; checkpoint named; what is said)
    "not JSON": ('[{"tree_size": 16,', None, "checkpoints.json is not JSON (line 1, column"),
    "empty file": ("", None, "checkpoints.json is not JSON (line 1, column 1: Expecting value)"),
    "not a list": ('{"tree_size": 16}', None, "checkpoints.json is an object, not a list of checkpoints"),
    "an entry not an object": (lambda h: [h[0], "checkpoint", h[2]], 2, "checkpoint 2: it is a string"),
    "a null entry": (lambda h: [None, *h[1:]], 1, "checkpoint 1: it is null, not an object"),
    "tree size 0": (entry(1, tree_size=0), 1, "checkpoint 1: tree_size is 0: a signed tree head covers at least"),
    "tree size negative": (entry(2, tree_size=-3), 2, "checkpoint 2: tree_size is -3: a signed tree head"),
    "tree size a string": (entry(1, tree_size="16"), 1, 'checkpoint 1: tree_size is a string ("16"), not an integer'),
    "tree size a float": (entry(1, tree_size=16.0), 1, "checkpoint 1: tree_size is a number (16.0), not an integer"),
    "tree size true": (entry(1, tree_size=True), 1, "checkpoint 1: tree_size is a boolean (true), not an integer"),
    "tree size beyond the events": (
        entry(3, tree_size=99),
        3,
        f"checkpoint 3 (tree size 99) covers more events than the export holds ({EVENTS_IN_EXPORT})",
    ),
    "no tree size": (entry(2, tree_size=DROP), 2, "checkpoint 2: it has no tree_size"),
    "no signature": (entry(2, signature=DROP), 2, "checkpoint 2: it has no signature"),
    "signature not base64": (entry(1, signature="not base64!"), 1, "checkpoint 1: signature is not base64"),
    "signature hex": (entry(1, signature="ab" * 64), 1, "checkpoint 1: signature is 96 bytes; an Ed25519 signature"),
    "signature too short": (
        entry(1, signature=base64.b64encode(bytes(10)).decode()),
        1,
        "checkpoint 1: signature is 10 bytes",
    ),
    "signature a number": (entry(3, signature=7), 3, "checkpoint 3: signature is a number (7), not base64"),
    "root not hex": (entry(1, root_hash="zz" * 32), 1, 'checkpoint 1: root_hash is not hexadecimal ("zzzz'),
    "root too short": (entry(2, root_hash="ab" * 31), 2, "checkpoint 2: root_hash has 62 hex digits; a SHA-256 has"),
    "root null": (entry(2, root_hash=None), 2, "checkpoint 2: root_hash is null, not a string of 64 hex digits"),
    "unknown key id": (
        entry(2, key_id="cd" * 32),
        2,
        f"checkpoint 2 (tree size {SIZES[1]}) is signed by key cdcdcdcdcdcdcdcd…, not the pinned key",
    ),
    "key id not hex": (entry(2, key_id="k1"), 2, 'checkpoint 2: key_id is not hexadecimal ("k1"'),
    "issued_at not an instant": (
        entry(1, issued_at="yesterday"),
        1,
        'checkpoint 1: issued_at ("yesterday") is not an ISO 8601 instant',
    ),
    "issued_at without offset": (
        entry(1, issued_at="2021-10-11T10:00:00"),
        1,
        "is not an ISO 8601 instant with offset",
    ),
    "a size repeated": (
        lambda h: [h[0], h[0], *h[1:]],
        2,
        f"checkpoint 2 (tree size {SIZES[0]}) repeats the tree size of checkpoint 1",
    ),
    "sizes decreasing": (
        lambda h: [h[1], h[0], h[2]],
        2,
        f"checkpoint 2 (tree size {SIZES[0]}) comes after checkpoint 1 of tree size {SIZES[1]}",
    ),
    "a root altered, signature kept": (
        entry(2, root_hash="ab" * 32),
        2,
        f"checkpoint 2 (tree size {SIZES[1]}) has a signature that is not the pinned key's",
    ),
}


def malformed(exported: Path, tmp_path: Path, name: str) -> Path:
    folder = copy(exported, tmp_path)
    content = MALFORMED[name][0]
    text = content if isinstance(content, str) else json.dumps(content(checkpoints(folder)))
    (folder / CHECKPOINTS).write_text(text, "utf-8")
    return folder


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_checkpoints_file_is_reported_by_position(exported: Path, tmp_path: Path, name: str) -> None:
    folder = malformed(exported, tmp_path, name)
    _, number, says = MALFORMED[name]
    report = verify(folder, exported)
    named = [p for p in report.problems if says in p["problem"]]
    assert named, problems(report)
    assert named[0].get("checkpoint") == number
    if number is not None and "signature" not in says:  # the other checkpoints still verify, and cover events
        assert report.covered_by is not None


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_the_command_reports_a_malformed_checkpoints_file_and_exits_1(
    exported: Path, tmp_path: Path, name: str
) -> None:
    folder = malformed(exported, tmp_path, name)
    result = CliRunner().invoke(cli, ["verify", str(folder), "--public-key", str(exported / "bureau-key.pem")])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback: the command chose to exit
    printed = json.loads(result.stdout)
    assert printed["ok"] is False and any(MALFORMED[name][2] in p["problem"] for p in printed["problems"])


# --- hostile events.ndjson, missing files, unreadable input --------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b'{"position": 5, "version":\n', "line 5 is not a readable event: it is not JSON"),
        (b"[1, 2, 3]\n", "line 5 is not a readable event: it is not a JSON object"),
        (b"\n", "line 5 is not a readable event: it is not JSON"),
        (b'{"caf\xe9": 1}\n', "line 5 is not a readable event: it is not UTF-8 text"),
        ("drop version", "line 5 is not a readable event: version is null, not a whole number from 1"),
        ("version -1", "line 5 is not a readable event: version is -1, not a whole number from 1"),
        ("body a list", "line 5 is not a readable event: body is not a JSON object"),
        ("zone not a UUID", 'line 5 is not a readable event: originator_id "zone-1" is not a UUID'),
        ("timestamp naive", "line 5 is not a readable event: timestamp"),
        ("hash short", "line 5 is not a readable event: hash is not 64 hex digits"),
        ("a NaN in the body", "line 5 is not a readable event: its hash cannot be computed"),
    ],
)
def test_a_malformed_event_line_is_reported_by_line(
    exported: Path, tmp_path: Path, line: bytes | str, says: str
) -> None:
    folder = copy(exported, tmp_path)
    rows = [r.encode() for r in lines(folder)]
    if isinstance(line, str):
        e = json.loads(rows[4])
        if line == "drop version":
            del e["version"]
        elif line == "version -1":
            e["version"] = -1
        elif line == "body a list":
            e["body"] = [e["body"]]
        elif line == "zone not a UUID":
            e["originator_id"] = "zone-1"
        elif line == "timestamp naive":
            e["timestamp"] = e["timestamp"][:19]
        elif line == "hash short":
            e["hash"] = e["hash"][:10]
        else:
            e["body"]["data"]["x"] = float("nan")
        line = (json.dumps(e) + "\n").encode()
    rows[4] = line
    (folder / EVENTS).write_bytes(b"".join(rows))
    result = CliRunner().invoke(cli, ["verify", str(folder), "--public-key", str(exported / "bureau-key.pem")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    report = json.loads(result.stdout)
    assert report["problems"][0] == {"position": None, "line": 5, "problem": report["problems"][0]["problem"]}
    assert report["problems"][0]["problem"].startswith(says)
    assert report["events_checked"] == EVENTS_IN_EXPORT


@pytest.mark.parametrize("missing", [EVENTS, CHECKPOINTS, PUBLIC_KEY])
def test_a_missing_file_is_reported(exported: Path, tmp_path: Path, missing: str) -> None:
    folder = copy(exported, tmp_path)
    (folder / missing).unlink()
    pinned = [] if missing == PUBLIC_KEY else ["--public-key", str(exported / "bureau-key.pem")]
    result = CliRunner().invoke(cli, ["verify", str(folder), *pinned])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    found = [p["problem"] for p in json.loads(result.stdout)["problems"]]
    assert found[0].startswith(f"{missing} is missing")
    if missing == CHECKPOINTS:
        assert found[1].startswith(f"events 1–{EVENTS_IN_EXPORT} are {UNCOVERED}")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--tree-head", "12:abc"], "the root must be 64 hex digits"),
        (["--tree-head", "nothing-here"], "neither SIZE:ROOT"),
        (["--public-key", "{folder}/events.ndjson"], "is not an Ed25519 public key in PEM"),
        (["--public-key", "{folder}/none.pem"], "No public key at"),
    ],
)
def test_the_inspector_s_own_unreadable_input_exits_2(exported: Path, args: list[str], says: str) -> None:
    folder = exported / "out"
    result = CliRunner().invoke(cli, ["verify", str(folder), *(a.format(folder=folder) for a in args)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert says in " ".join(result.output.split())


def test_the_command_checks_a_tree_head(exported: Path) -> None:
    head = checkpoints(exported / "out")[0]
    args = ["verify", str(exported / "out"), "--public-key", str(exported / "bureau-key.pem")]
    ok = CliRunner().invoke(cli, [*args, "--tree-head", f"{head['tree_size']}:{head['root_hash']}"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["tree_head"]["consistent"] is True
    bad = CliRunner().invoke(cli, [*args, "--tree-head", f"{SIZES[-1] + 1}:{head['root_hash']}"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["problems"][0]["tree_size"] == SIZES[-1] + 1


def test_the_numbering_is_the_export_s(exported: Path) -> None:
    """Event n is line n of events.ndjson (leaf n − 1 of the tree); the log positions of this export are the same."""
    rows = lines(exported / "out")
    assert [json.loads(r)["position"] for r in rows] == list(range(1, EVENTS_IN_EXPORT + 1))
