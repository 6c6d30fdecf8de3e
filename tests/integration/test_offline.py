"""The inspector's offline verification: every kind of tampering with an export is named by position."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.offline import PUBLIC_KEY
from audit.offline import verify_export

from ..conftest import StoreFactory
from ..conftest import make_container
from .exports import CALL
from .exports import SIZES
from .exports import copy
from .exports import lines
from .exports import re_sign
from .exports import write
from .test_application import walk_to_grant


def positions(report: Any) -> set[int]:
    return {p["position"] for p in report.problems if p["position"] is not None}


def test_an_untouched_export_verifies(exported: Path) -> None:
    report = verify_export(exported / "out", exported / "bureau-key.pem")
    assert report.ok, report.problems
    assert report.events_checked == CALL + 14 + 12 + 10 and report.checkpoints_checked == 3
    assert report.covered_by is not None and report.covered_by["tree_size"] == SIZES[-1] == report.events_checked


def test_an_edited_event_is_named(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    rows = lines(folder)
    event = json.loads(rows[CALL + 6])
    event["body"]["data"]["scores"]["1"] = 5.0  # a kinder score
    rows[CALL + 6] = json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n"
    write(folder, rows)
    report = verify_export(folder, exported / "bureau-key.pem")
    assert not report.ok
    edited = {"position": CALL + 7, "line": CALL + 7, "problem": "its content does not match its hash (edited)"}
    assert report.problems[0] == edited
    assert any("root does not match" in p["problem"] for p in report.problems)


def test_a_removed_event_is_named(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    rows = lines(folder)
    del rows[CALL + 10]  # the objection
    write(folder, rows)
    report = verify_export(folder, exported / "bureau-key.pem")
    assert "removed" in report.problems[0]["problem"] and report.problems[0]["position"] == CALL + 12


def test_reordered_events_are_named(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    rows = lines(folder)
    rows[CALL + 2], rows[CALL + 3] = rows[CALL + 3], rows[CALL + 2]
    write(folder, rows)
    report = verify_export(folder, exported / "bureau-key.pem")
    assert {CALL + 3, CALL + 4} <= positions(report)
    assert any("out of order" in p["problem"] for p in report.problems)


def test_an_inserted_event_is_named(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    rows = lines(folder)
    forged = json.loads(rows[CALL + 13])  # a second grant, hash recomputed so that it looks genuine
    forged["position"], forged["version"] = CALL + 14, 15
    from datetime import datetime
    from uuid import UUID

    from domain.integrity import event_hash

    forged["hash"] = event_hash(
        forged["topic"], UUID(forged["originator_id"]), 15, datetime.fromisoformat(forged["timestamp"]), forged["body"]
    )
    rows.insert(CALL + 14, json.dumps(forged, sort_keys=True) + "\n")
    write(folder, rows)
    report = verify_export(folder, exported / "bureau-key.pem")
    inserted = [p for p in report.problems if p["line"] == CALL + 15]
    assert (inserted and "chain broken" in inserted[0]["problem"]) or "out of order" in inserted[0]["problem"]


def test_truncated_and_re_signed_with_another_key_is_caught_by_the_pinned_key(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    rows = lines(folder)[: CALL + 18]  # drop the last zones' events …
    re_sign(folder, rows, (CALL + 14, CALL + 18))  # … and sign a consistent-looking story with a key of one's own
    assert verify_export(folder).ok  # trusting the export's own key, the forgery holds together …
    report = verify_export(folder, exported / "bureau-key.pem")  # … against the bureau's key it does not
    assert not report.ok
    signatures, uncovered = report.problems[:2], report.problems[2:]
    assert all("is signed by key" in p["problem"] and "not the pinned key" in p["problem"] for p in signatures)
    assert [p["tree_size"] for p in signatures] == [CALL + 14, CALL + 18]
    assert [p["problem"].split(" (")[0] for p in uncovered] == [
        f"events 1–{CALL + 18} are not covered by any signed checkpoint"
    ]


def test_truncated_under_the_real_checkpoints(exported: Path, tmp_path: Path) -> None:
    folder = copy(exported, tmp_path)
    write(folder, lines(folder)[: CALL + 26])
    report = verify_export(folder, exported / "bureau-key.pem")
    assert any(f"truncated after position {CALL + 26}" in p["problem"] for p in report.problems)


def test_export_and_verify_from_the_command_line(persistent_store: StoreFactory, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    url = persistent_store.new_url()
    c = make_container(url, tmp_path)
    walk_to_grant(c)
    c.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONECASE_")}
    key = tmp_path / "signing.pem"
    env.update(ZONECASE_DATABASE_URL=url, ZONECASE_DATA_DIR=str(tmp_path / "data"), ZONECASE_SIGNING_KEY=str(key))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "zonecase", *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert run("keygen", "--out", str(key)).returncode == 0
    assert run("export", "--out", str(tmp_path / "exp")).returncode == 0
    ok = run("verify", str(tmp_path / "exp"), "--public-key", str(tmp_path / "exp" / PUBLIC_KEY))
    assert ok.returncode == 0 and json.loads(ok.stdout)["events_checked"] == CALL + 14
    rows = lines(tmp_path / "exp")
    write(tmp_path / "exp", rows[: CALL + 5] + rows[CALL + 6 :])
    bad = run("verify", str(tmp_path / "exp"))
    assert bad.returncode == 1 and json.loads(bad.stdout)["problems"][0]["position"] == CALL + 7
