"""The JavaScript verifier (``web/verify.js``, written from docs/record-format.md alone) and the Python one
(``audit.offline.verify_export``) agree on a clean export and on every way of tampering with it: both say ok or
both do not, and both name the same first place (line, position or checkpoint). Also runs ``node --test tests/js/``.

Skipped when ``node`` is missing, unless ``ZONECASE_REQUIRE_NODE=1`` (CI), which makes that a failure."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit.checkpoints import SigningKey
from audit.heads import parse_tree_head_argument
from audit.offline import CHECKPOINTS
from audit.offline import EVENTS
from audit.offline import PUBLIC_KEY
from audit.offline import record_hash
from audit.offline import verify_export

from .exports import CALL
from .exports import SIZES
from .exports import checkpoints
from .exports import copy
from .exports import dumps
from .exports import forged_append
from .exports import lines
from .exports import re_sign
from .exports import rewritten_from
from .exports import signed_heads
from .exports import write
from .exports import write_checkpoints

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "web" / "verify-cli.mjs"
V2_EXPORT = ROOT / "tests" / "data" / "v2-export"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("ZONECASE_REQUIRE_NODE") == "1":
            pytest.fail("node is required (apt-get install nodejs)")
        pytest.skip("needs node (Debian's nodejs)")
    return found


def edit_line(n: int, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    """Line ``n`` (1-based) of events.ndjson parsed, changed, written back (hash left as it was)."""

    def tamper(folder: Path) -> None:
        rows = lines(folder)
        e = json.loads(rows[n - 1])
        change(e)
        rows[n - 1] = dumps(e)
        write(folder, rows)

    return tamper


def rows_of(change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        write(folder, change(lines(folder)))

    return tamper


def heads_of(change: Callable[[list[dict[str, Any]]], Any]) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        write_checkpoints(folder, change(checkpoints(folder)))

    return tamper


def swap(rows: list[str], i: int, j: int) -> list[str]:
    rows = list(rows)
    rows[i], rows[j] = rows[j], rows[i]
    return rows


def inserted(rows: list[str]) -> list[str]:
    """A second copy of an event (its hash recomputed for its new version) slipped into its stream."""
    e = json.loads(rows[CALL + 13])
    e["position"], e["version"] = CALL + 14, e["version"] + 1
    e["hash"] = record_hash(e)
    return [*rows[: CALL + 14], dumps(e), *rows[CALL + 14 :]]


def rehash_line(n: int, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    """Line ``n`` changed and its hash recomputed: its own hash holds, its chain and the tree do not."""

    def edit(e: dict[str, Any]) -> None:
        change(e)
        e["hash"] = record_hash(e)

    return edit_line(n, edit)


def re_signed(rows_change: Callable[[list[str]], list[str]], sizes: tuple[int, ...]) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        re_sign(folder, rows_change(lines(folder)), sizes)

    return tamper


def field(n: int, **change: Any) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def edit(heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        heads = [dict(h) for h in heads]
        for k, v in change.items():
            if v is None:
                heads[n - 1].pop(k, None)
            else:
                heads[n - 1][k] = v
        return heads

    return edit


def with_reason(e: dict[str, Any], reason: str) -> None:
    e["body"]["reason"] = reason


def raw_line(n: int, text: bytes) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        rows = [r.encode() for r in lines(folder)]
        rows[n - 1] = text
        (folder / EVENTS).write_bytes(b"".join(rows))

    return tamper


def nothing(folder: Path) -> None:
    return None


LAST = SIZES[-1]
# name: (how the export is changed, the tree head the inspector holds or None, whether it still verifies)
CASES: dict[str, tuple[Callable[[Path], None], str | None, bool]] = {
    "clean": (nothing, None, True),
    "clean, with the head of checkpoint 2": (nothing, "head:2", True),
    "edit: a score made kinder": (
        edit_line(CALL + 7, lambda e: e["body"]["data"]["scores"].__setitem__("1", 5.0)),
        None,
        False,
    ),
    "edit: a reason": (edit_line(3, lambda e: with_reason(e, "changed")), None, False),
    "edit: the timestamp": (
        edit_line(4, lambda e: e.__setitem__("timestamp", "2021-07-15T02:00:01+00:00")),
        None,
        False,
    ),
    "edit: re-hashed, chain left": (rehash_line(5, lambda e: with_reason(e, "re-hashed")), None, False),
    "edit: the last event, re-hashed": (rehash_line(LAST, lambda e: with_reason(e, "re-hashed")), None, False),
    "edit: the topic": (edit_line(6, lambda e: e.__setitem__("topic", "domain.zone:Zone.Granted")), None, False),
    "delete: the objection": (rows_of(lambda r: [*r[: CALL + 10], *r[CALL + 11 :]]), None, False),
    "delete: the first event": (rows_of(lambda r: r[1:]), None, False),
    "reorder: two events of a zone": (rows_of(lambda r: swap(r, CALL + 2, CALL + 3)), None, False),
    "reorder: two events of different streams": (rows_of(lambda r: swap(r, 1, 2)), None, False),
    "insert: a second grant": (rows_of(inserted), None, False),
    "truncate: under the real checkpoints": (rows_of(lambda r: r[: CALL + 26]), None, False),
    "truncate: to the first checkpoint, with it only": (
        lambda f: (write(f, lines(f)[: SIZES[0]]), write_checkpoints(f, checkpoints(f)[:1])) and None,
        None,
        True,
    ),
    "truncate: to the first checkpoint, against a later head": (
        lambda f: (write(f, lines(f)[: SIZES[0]]), write_checkpoints(f, checkpoints(f)[:1])) and None,
        "head:2",
        False,
    ),
    "re-sign: truncated, with another key": (re_signed(lambda r: r[: CALL + 18], (CALL + 14, CALL + 18)), None, False),
    "re-sign: rewritten, with another key": (re_signed(lambda r: rewritten_from(r, 3), SIZES), None, False),
    "dropped checkpoints: all, events rewritten": (
        lambda f: (write(f, rewritten_from(lines(f), 0)), write_checkpoints(f, [])) and None,
        None,
        False,
    ),
    "dropped checkpoints: the last two, later events rewritten": (
        lambda f: (write(f, rewritten_from(lines(f), SIZES[0])), write_checkpoints(f, checkpoints(f)[:1])) and None,
        None,
        False,
    ),
    "dropped checkpoints: the last only": (heads_of(lambda h: h[:2]), None, False),
    "dropped checkpoints: the first only": (heads_of(lambda h: h[1:]), None, True),
    "rewritten under kept checkpoints": (rows_of(lambda r: rewritten_from(r, SIZES[0])), None, False),
    "uncovered tail: forged append": (rows_of(forged_append), None, False),
    "uncovered tail: forged append, against the latest head": (rows_of(forged_append), "head:3", False),
    "checkpoints.json missing": (lambda f: (f / CHECKPOINTS).unlink(), None, False),
    "checkpoints.json not JSON": (lambda f: (f / CHECKPOINTS).write_text('[{"tree_size": 16,'), None, False),
    "checkpoints.json an object": (lambda f: (f / CHECKPOINTS).write_text('{"tree_size": 16}'), None, False),
    "checkpoint: tree size 0": (heads_of(field(1, tree_size=0)), None, False),
    "checkpoint: tree size a float": (heads_of(field(1, tree_size=16.0)), None, False),
    "checkpoint: tree size a string": (heads_of(field(2, tree_size="28")), None, False),
    "checkpoint: tree size beyond the events": (heads_of(field(3, tree_size=99)), None, False),
    "checkpoint: no signature": (heads_of(field(2, signature=None)), None, False),
    "checkpoint: signature not base64": (heads_of(field(1, signature="not base64!")), None, False),
    "checkpoint: signature too short": (
        heads_of(field(1, signature=base64.b64encode(bytes(10)).decode())),
        None,
        False,
    ),
    "checkpoint: signature of another message": (
        heads_of(lambda h: [h[0], {**h[1], "signature": h[2]["signature"]}, h[2]]),
        None,
        False,
    ),
    "checkpoint: root altered, signature kept": (heads_of(field(2, root_hash="ab" * 32)), None, False),
    "checkpoint: root not hex": (heads_of(field(1, root_hash="zz" * 32)), None, False),
    "checkpoint: unknown key id": (heads_of(field(2, key_id="cd" * 32)), None, False),
    "checkpoint: issued_at changed": (heads_of(field(3, issued_at="2021-10-11T02:00:01+00:00")), None, False),
    "checkpoint: issued_at without offset": (heads_of(field(1, issued_at="2021-10-11T10:00:00")), None, False),
    "checkpoint: a size repeated": (heads_of(lambda h: [h[0], h[0], *h[1:]]), None, False),
    "checkpoint: sizes decreasing": (heads_of(lambda h: [h[1], h[0], h[2]]), None, False),
    "checkpoint: the reason changed (not signed)": (heads_of(field(3, reason="something else")), None, True),
    "a line not JSON": (raw_line(5, b'{"position": 5, "version":\n'), None, False),
    "a line not UTF-8": (raw_line(5, b'{"caf\xe9": 1}\n'), None, False),
    "a line with a NaN": (edit_line(5, lambda e: e["body"]["data"].__setitem__("x", float("nan"))), None, False),
    "a line with an unknown hash scheme": (
        edit_line(7, lambda e: e["body"].__setitem__("hash_scheme", "x/2")),
        None,
        False,
    ),
    "trusted head with a wrong root": (nothing, f"{SIZES[1]}:{'ab' * 32}", False),
    "trusted head beyond the export": (nothing, f"{LAST + 1}:{'ab' * 32}", False),
}


def trusted_head(spec: str | None, exported: Path, tmp_path: Path) -> str | None:
    """``head:k`` is the genuine export's k-th checkpoint as SIZE:ROOT; anything else is passed as it is."""
    if spec is None or not spec.startswith("head:"):
        return spec
    head = checkpoints(exported / "out")[int(spec[5:]) - 1]
    return f"{head['tree_size']}:{head['root_hash']}"


def first_place(problems: list[dict[str, Any]]) -> tuple[Any, ...]:
    if not problems:
        return ()
    p = problems[0]
    return (p.get("line"), p.get("position"), p.get("checkpoint"), p.get("tree_size"))


def run_js(folder: Path, key: Path | None, head: str | None) -> tuple[int, dict[str, Any]]:
    args = [node(), str(CLI), str(folder)]
    if key is not None:
        args += ["--public-key", str(key)]
    if head is not None:
        args += ["--tree-head", head]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), (done.returncode, done.stderr)
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


@pytest.mark.parametrize("name", list(CASES))
def test_python_and_javascript_agree(exported: Path, tmp_path: Path, name: str) -> None:
    tamper, spec, expected = CASES[name]
    folder = copy(exported, tmp_path)
    tamper(folder)
    head = trusted_head(spec, exported, tmp_path)
    key = exported / "bureau-key.pem"
    python = verify_export(folder, key, parse_tree_head_argument(head) if head else None)
    code, js = run_js(folder, key, head)
    assert python.ok is expected, python.problems
    assert js["ok"] is expected, js["problems"]
    assert code == (0 if expected else 1)
    assert first_place(js["problems"]) == first_place(python.problems), (js["problems"][:2], python.problems[:2])
    if expected:
        assert js["events_checked"] == python.events_checked
        assert js["covered_by"]["tree_size"] == (python.covered_by or {}).get("tree_size")


def test_the_export_s_own_key_is_trusted_only_when_none_is_pinned(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    re_sign(folder, rewritten_from(lines(folder), 3), SIZES)
    code, js = run_js(folder, None, None)
    assert verify_export(folder).ok and js["ok"] and code == 0  # both: it holds together on its own key …
    assert "not pinned" in js["key"]
    code, js = run_js(folder, exported / "bureau-key.pem", None)
    assert not verify_export(folder, exported / "bureau-key.pem").ok and not js["ok"] and code == 1  # … not on ours


def test_a_saved_head_signed_by_another_key_fails_in_both(exported: Path, tmp_path: Path) -> None:
    head = signed_heads(SigningKey.generate(), lines(exported / "out"), (SIZES[1],))[0]
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(head))
    key = exported / "bureau-key.pem"
    python = verify_export(exported / "out", key, parse_tree_head_argument(str(saved)))
    code, js = run_js(exported / "out", key, str(saved))
    assert not python.ok and not js["ok"] and code == 1
    assert "signed by key" in js["problems"][0]["problem"]
    genuine = tmp_path / "genuine.json"
    genuine.write_text(json.dumps(checkpoints(exported / "out")[1]))
    code, js = run_js(exported / "out", key, str(genuine))
    assert code == 0 and js["tree_head"]["extended_by"] == SIZES[2] - SIZES[1]


def test_both_verify_the_v2_era_export_including_its_legacy_hashes(tmp_path: Path) -> None:
    key = V2_EXPORT / PUBLIC_KEY
    code, js = run_js(V2_EXPORT, key, None)
    assert code == 0 and js["ok"] and verify_export(V2_EXPORT, key).ok
    assert js["schemes"] == {"jcs-sha256/1": 0, "legacy": 151}  # every legacy hash recomputed, none skipped
    folder = tmp_path / "v2"
    shutil.copytree(V2_EXPORT, folder)
    rows = lines(folder)
    rows[40] = (
        rows[40].replace("4.0", "4.5", 1) if "4.0" in rows[40] else rows[40].replace('"reason": "', '"reason": "x', 1)
    )
    write(folder, rows)
    python = verify_export(folder, key)
    code, js = run_js(folder, key, None)
    assert not python.ok and not js["ok"] and first_place(js["problems"]) == first_place(python.problems)


@pytest.mark.parametrize(
    "args", [["--tree-head", "12:abc"], ["--tree-head", "nothing-here"], ["--public-key", "none.pem"]]
)
def test_unreadable_input_exits_2(exported: Path, args: list[str]) -> None:
    done = subprocess.run([node(), str(CLI), str(exported / "out"), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done


def test_the_javascript_unit_tests_pass() -> None:
    done = subprocess.run(
        [node(), "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout
