"""Backup and restore: an export loaded into an empty store answers as the exported store did, verifies, and signs
its next checkpoint consistently with the exported ones; a tampered export is refused, naming the position."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from application.settings import Settings
from audit.checkpoints import SigningKey
from audit.checkpoints import public_pem
from audit.merkle import verify_consistency
from audit.offline import export
from audit.offline import verify_export
from projections.rebuild import rebuild
from projections.runner import open_views
from zonecase.restore import RestoreError
from zonecase.restore import restore
from zonecase.wiring import build

from ..conftest import StoreFactory
from ..helpers import BUREAU
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import first_batch_application
from .conftest import make_api
from .test_process_v2 import test_two_lifecycles_as_the_document_reads as two_lifecycles


def export_of(api: Api, out: Path) -> Path:
    """What ``zonecase export`` writes: a fresh checkpoint first, then the log, the checkpoints and the key."""
    c = api.client.app.state.container  # type: ignore[attr-defined]
    c.checkpoints.sign("export")
    checkpoints = [cp.as_dict() for cp in c.app.side_tables.get_checkpoints(limit=10**6)]
    export(c.app, checkpoints, public_pem(c.checkpoints.key.public), out)
    return out


def answers(api: Api) -> dict[str, Any]:
    """What the bureau is shown: every zone, and every zone's history."""
    api.set_clock("2026-01-05")
    zones = api.get("/zones?limit=200", BUREAU).json()
    items = zones["items"] if isinstance(zones, dict) else zones
    return {
        "zones": zones,
        "histories": {z["id"]: api.get(f"/zones/{z['id']}/history", BUREAU).json() for z in items},
        "notices": api.get("/notices", None).json(),
    }


def test_an_export_restored_into_an_empty_store_answers_the_same(
    persistent_store: StoreFactory, tmp_path: Path
) -> None:
    key = tmp_path / "bureau-key.pem"
    SigningKey.generate().save(key)
    first, second = persistent_store.new_url(), persistent_store.new_url()
    served = make_api(first, tmp_path / "one", signing_key_file=str(key))
    api = next(served)
    two_lifecycles(api)
    before = answers(api)
    folder = export_of(api, tmp_path / "export")
    served.close()
    exported = json.loads((folder / "checkpoints.json").read_text())[-1]

    settings = Settings(database_url=second, data_dir=tmp_path / "two" / "data", signing_key_file=str(key))
    c = build(settings)
    try:
        count = len(json.loads((folder / "checkpoints.json").read_text()))
        assert restore(c.app, folder) == {"events": exported["tree_size"], "checkpoints": count}
        rebuild(c.app, open_views(c.app, settings.views_env()))
        with pytest.raises(RestoreError, match="not empty"):
            restore(c.app, folder)  # a second time: the store holds the log now
    finally:
        c.close()

    served = make_api(second, tmp_path / "two", signing_key_file=str(key))
    api = next(served)
    try:
        verified = api.get("/audit/verify", BUREAU).json()
        assert verified["ok"] and verified["events_checked"] == exported["tree_size"]
        # the objectors' identities are not in an export (PIPL: they live apart, encrypted): restored, each
        # objection says its identity is unavailable here; everything else answers the same
        after = answers(api)
        unavailable = {"contact": None, "objector_name": None, "objector_erased": None, "objector_unavailable": True}
        shown = [e for h in before["histories"].values() for e in h if "objector" in e]
        assert shown and all(e["objector"]["objector_name"] for e in shown)
        for h in before["histories"].values():
            for e in h:
                if "objector" in e:
                    e["objector"] = unavailable
        assert after == before
        # the log goes on: the next checkpoint, by the same key, extends the exported ones
        call = {"id": "2026-third", "name": "第三批", "opens_on": "2026-03-01", "closes_on": "2026-04-30"}
        call |= {"creation_period": {"start_year": 2026, "end_year": 2028}, "members": [], "members_only": False}
        assert api.post("/calls", BUREAU, json=call).status_code == 201
        signed = api.post("/checkpoints", BUREAU).json()
        size = exported["tree_size"]
        assert signed["key_id"] == exported["key_id"] and signed["tree_size"] > size
        proof = api.get(f"/audit/proofs/consistency?first={size}&second={signed['tree_size']}", BUREAU).json()
        assert verify_consistency(
            size,
            signed["tree_size"],
            bytes.fromhex(exported["root_hash"]),
            bytes.fromhex(signed["root_hash"]),
            [bytes.fromhex(p) for p in proof["proof"]],
        )
    finally:
        served.close()


def test_a_tampered_export_is_refused_naming_the_position(persistent_store: StoreFactory, tmp_path: Path) -> None:
    served = make_api(persistent_store.new_url(), tmp_path / "one")
    api = next(served)
    api.post("/zones", SONGSHAN, json=first_batch_application(api))
    folder = export_of(api, tmp_path / "export")
    served.close()
    rows = (folder / "events.ndjson").read_text("utf-8").splitlines()
    third = json.loads(rows[2])
    third["body"]["name"] = "另一个集聚区"  # an edit after the fact
    rows[2] = json.dumps(third, ensure_ascii=False, sort_keys=True)
    (folder / "events.ndjson").write_text("\n".join(rows) + "\n", "utf-8")
    assert not verify_export(folder).ok

    c = build(Settings(database_url=persistent_store.new_url(), data_dir=tmp_path / "two"))
    try:
        with pytest.raises(RestoreError, match=f"at position {third['position']}"):
            restore(c.app, folder)
        assert not c.app.recorder.max_notification_id() and c.app.side_tables.latest_checkpoint() is None
    finally:
        c.close()


def test_zonecase_restore_loads_an_export_and_refuses_a_tampered_one(tmp_path: Path) -> None:
    served = make_api(StoreFactory("sqlite", tmp_path).new_url(), tmp_path / "one")
    api = next(served)
    api.post("/zones", SONGSHAN, json=first_batch_application(api))
    folder = export_of(api, tmp_path / "export")
    served.close()
    env = {"PATH": "/usr/bin:/bin", "ZONECASE_DATA_DIR": str(tmp_path / "restored")}

    def zonecase(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "zonecase", *args],
            env={**env, **extra},
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=60,
        )

    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for f in folder.iterdir():
        (tampered / f.name).write_bytes(f.read_bytes())
    rows = (tampered / "events.ndjson").read_text().splitlines()
    del rows[1]  # an event removed
    (tampered / "events.ndjson").write_text("\n".join(rows) + "\n")
    refused = zonecase("restore", str(tampered))
    assert refused.returncode == 1 and "position 3" in refused.stdout + refused.stderr, refused.stdout
    done = zonecase("restore", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored" in done.stdout and "rebuilt" in done.stdout
    verified = zonecase("store", "verify")
    assert verified.returncode == 0 and json.loads(verified.stdout)["events_checked"] == len(
        folder.joinpath("events.ndjson").read_text().splitlines()
    )
