"""Objectors' personal data under PIPL (issue 12, finding 3), through HTTP: the applicant cannot find the objector
by guessing offline, the bureau sees the identity until it is erased (on request or when the retention runs out),
and after an erasure the log still verifies and the dossier says "erased on …"."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from audit.integrity import verify_store
from audit.merkle import leaf_hash
from audit.offline import export
from audit.offline import verify_export
from domain.integrity import HASH_SCHEME
from domain.integrity import event_hash
from domain.integrity import jcs
from domain.integrity import recorded
from domain.values import Actor
from scheduler.service import DeadlineScheduler

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import make_api
from .conftest import objections_of
from .conftest import recommended_and_granted
from .conftest import refused
from .test_lifecycle import apply
from .test_lifecycle import to_notice

NAME, PHONE = "王芳", "13800138000"
CANDIDATES = [f"1380013{n:04d}" for n in range(10000)] + [f"1390013{n:04d}" for n in range(10000)]  # 20,000
PUBLIC_ACTOR = {"sub": "public", "role": "public", "org": "", "name": ""}  # what an anonymous objection records
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
TOPIC = "domain.zone:Zone.ObjectionRaised"


def in_notice(api: Api, applicant: Actor = SONGSHAN, name: str = "松山湖软件和信息技术服务业集聚区") -> str:
    zid = str(apply(api, applicant, name)["id"])
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27")  # through 2021-10-08
    return zid


def objection(api: Api, zid: str, actor: Actor | None = None, **given: str) -> str:
    body = {"objector_name": NAME, "contact": PHONE, "text": "营业收入数据偏高，请核实。", **given}
    r = api.post(f"/zones/{zid}/objections", actor, json=body)  # None: the public, no token
    assert r.status_code == 201, r.text
    return str(r.json()["objection_id"])


def raised_entries(api: Api, zid: str, actor: Actor) -> list[dict[str, Any]]:
    r = api.get(f"/zones/{zid}/history", actor)
    assert r.status_code == 200, r.text
    return [e for e in r.json() if e["type"] == "ObjectionRaised"]


def guesses_matching(entry: dict[str, Any], zid: str, visible: set[str]) -> list[str]:
    """The issue's attack: every candidate phone number put back into the objection's hashed data (the name
    guessed right, the actor as shown or as the public's), its event hash and Merkle leaf compared with every hash
    the reader was shown; and each candidate's unsalted digests compared too."""
    found = []
    for phone in CANDIDATES:
        data = {**entry["data"], "objector_name": NAME, "contact": phone}
        for actor in (entry["actor"], PUBLIC_ACTOR):
            body = {
                "actor": actor,
                "reason": entry["reason"],
                "data": recorded(data),
                "prev_hash": entry["prev_hash"],
                "hash_scheme": HASH_SCHEME,
            }
            h = event_hash(TOPIC, zid, entry["seq"], entry["at"], body)
            if h in visible or leaf_hash(bytes.fromhex(h)).hex() in visible:
                found.append(phone)
        digests = (
            hashlib.sha256(jcs({"contact": phone, "name": NAME})).hexdigest(),
            hashlib.sha256(phone.encode()).hexdigest(),
        )
        found += [phone for d in digests if d in visible]
    return found


def test_offline_guessing_with_what_the_applicant_sees_finds_no_objector(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-09-28")
    public = objection(api, zid)  # a member of the public, by form
    rival = objection(api, zid, NANCHENG, objector_name="南城街道", contact="0769-22000000")  # a rival town
    for reader in (SONGSHAN, LEADING):
        shown = [
            api.get(p, reader).text for p in (f"/zones/{zid}/history", f"/zones/{zid}/objections", f"/zones/{zid}")
        ]
        proofs = [
            api.get("/audit/proofs/inclusion", None, params={"zone_id": zid, "seq": e["seq"]}).text
            for e in raised_entries(api, zid, reader)
        ]  # public: every event's Merkle leaf and its neighbours'
        visible = set(HEX64.findall("\n".join(shown + proofs)))
        entries = raised_entries(api, zid, reader)
        assert [e["data"]["objection_id"] for e in entries] == [public, rival]
        for entry in entries:
            assert guesses_matching(entry, zid, visible) == []
            # neither the identity, nor its commitment or reference, nor who objected — not even the role
            assert entry["actor"] == {"sub": "", "role": "", "org": "", "name": ""}
            assert not {"objector_name", "contact", "objector_ref", "objector_commitment"} & set(entry["data"])
            assert "objector" not in entry
        text = "\n".join(shown)
        assert PHONE not in text and NAME not in text and "南城街道" not in text and "nancheng" not in text
        bureau_history = raised_entries(api, zid, BUREAU)
        for secret in (e["data"][k] for e in bureau_history for k in ("objector_ref", "objector_commitment")):
            assert secret not in text

    # the bureau and inspectors see who objected, decrypted, and that it is what the record committed to
    for reader in (BUREAU, INSPECTOR):
        items = {o["objection_id"]: o for o in objections_of(api, zid, reader)}
        assert (items[public]["objector_name"], items[public]["contact"]) == (NAME, PHONE)
        assert items[rival]["objector_name"] == "南城街道" and items[rival]["objector_matches_record"] is True
        history = raised_entries(api, zid, reader)
        assert history[1]["actor"]["org"] == "nancheng"  # who raised it
        assert history[0]["objector"]["contact"] == PHONE and "contact" not in history[0]["data"]
    dossier = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()
    assert [o["objector_name"] for o in dossier["objections"]] == [NAME, "南城街道"]
    # what the record holds is a commitment: no name, no phone number in any stored event
    assert PHONE not in api.get("/audit/events", INSPECTOR).text


def test_after_an_erasure_the_log_verifies_and_the_dossier_says_erased(api: Api, tmp_path: Path) -> None:
    zid = in_notice(api)
    api.set_clock("2021-09-28")
    oid, kept = objection(api, zid), objection(api, zid, contact="13900139000")
    ref = next(e for e in raised_entries(api, zid, BUREAU) if e["data"]["objection_id"] == oid)["data"]["objector_ref"]
    assert objections_of(api, zid, BUREAU)[0]["contact"] == PHONE  # the bureau sees it before the erasure

    api.set_clock("2021-09-29")
    path = f"/zones/{zid}/objections/{oid}/erasure"
    before = api.position()
    refused(api, api.post(path, SONGSHAN, json={"reason": "x"}), 403, "forbidden")
    refused(api, api.post(path, INSPECTOR, json={"reason": "x"}), 403, "forbidden")
    refused(api, api.post(path, BUREAU, json={"reason": ""}), 422, "validation_failed")
    refused(api, api.post(f"/zones/{zid}/objections/nope/erasure", BUREAU, json={"reason": "x"}), 404, "not_found")
    assert objections_of(api, zid, BUREAU)[0]["contact"] == PHONE  # a refusal erases nothing
    r = api.post(path, BUREAU, json={"reason": "异议人依法申请删除 (PIPL §47)"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "erased on 2021-09-29 (异议人依法申请删除 (PIPL §47))"
    assert r.json()["erased_by"] == f"bureau:{BUREAU.sub}"
    refused(api, api.post(path, BUREAU, json={"reason": "again"}), 409, "already_erased")
    assert api.position() == before  # the record is untouched: no event, same chain

    stored = api.app.side_tables.get_objectors([ref])[ref]
    assert (stored.sealed, stored.key) == (None, None) and stored.erasure.reason.startswith("异议人")
    items = {o["objection_id"]: o for o in objections_of(api, zid, BUREAU)}
    assert (items[oid]["objector_name"], items[oid]["contact"]) == (None, None)
    assert items[oid]["objector_erased"]["text"].startswith("erased on 2021-09-29")
    assert items[kept]["contact"] == "13900139000"  # only that one
    history = raised_entries(api, zid, INSPECTOR)
    assert history[0]["objector"]["objector_erased"]["erased_on"] == "2021-09-29"
    dossier = api.get(f"/zones/{zid}/dossier", BUREAU)
    erased = next(o for o in dossier.json()["objections"] if o["objection_id"] == oid)
    assert erased["objector_erased"]["text"].startswith("erased on 2021-09-29 (")
    page = api.get(f"/zones/{zid}/dossier?format=html", INSPECTOR).text
    assert "erased on 2021-09-29 (" in page and PHONE not in page and PHONE not in dossier.text

    # the chain, the tree and an export verify as before
    assert verify_store(api.app).ok
    assert api.get("/audit/verify", INSPECTOR).json()["ok"] is True
    key = api.get("/checkpoints/public-key", None).json()["public_key_pem"]
    api.post("/checkpoints", None)
    export(api.app, api.get("/checkpoints", None).json(), key, tmp_path / "export")
    (tmp_path / "key.pem").write_text(key)
    report = verify_export(tmp_path / "export", tmp_path / "key.pem")
    assert report.ok, report.problems
    assert PHONE not in "".join(f.read_text("utf-8") for f in (tmp_path / "export").iterdir() if f.is_file())

    # the command line erases too (here the one kept)
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    env = {"ZONECASE_DATABASE_URL": settings.database_url, "ZONECASE_DATA_DIR": str(settings.data_dir)}
    from zonecase.cli import cli

    args = ["objectors", "erase", "--zone", zid, "--objection", kept, "--reason", "申请删除", "--by", "u-clerk"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["erased_by"] == "bureau:u-clerk"
    assert CliRunner().invoke(cli, args, env=env).exit_code == 1  # erased already
    assert objections_of(api, zid, BUREAU)[1]["objector_erased"]["reason"] == "申请删除"


class Leader:
    """A leader lock always held (one scheduler)."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def test_the_retention_sweep_erases_exactly_the_objectors_whose_time_is_up(api: Api) -> None:
    granted = in_notice(api)
    open_ = in_notice(api, NANCHENG, "南城软件和信息技术服务业集聚区")
    api.set_clock("2021-09-28")
    closed_oid = objection(api, granted)
    objection(api, open_)
    r = api.post(
        f"/zones/{granted}/objections/{closed_oid}/resolution", BUREAU, json={"outcome": "dismissed", "reasons": "核实"}
    )
    assert r.status_code == 200, r.text
    api.set_clock("2021-10-09")
    api.sweep()
    assert recommended_and_granted(api, granted).status_code == 200  # the case closes on 2021-10-09

    def sweep() -> list[dict[str, Any]]:
        r = api.post("/objectors/retention-sweep", BUREAU)
        assert r.status_code == 200, r.text
        return list(r.json()["erased"])

    refused(api, api.post("/objectors/retention-sweep", SONGSHAN), 403, "forbidden")
    api.set_clock("2024-10-08")  # a day short of 3 years
    assert sweep() == []
    api.set_clock("2024-10-09")
    scheduler = DeadlineScheduler(api.client.app.state.container, lock=Leader())  # type: ignore[attr-defined]
    erased = scheduler.erase_due()  # its hourly job
    assert [(e["zone_id"], e["objection_id"]) for e in erased] == [(granted, closed_oid)]
    assert erased[0]["reason"] == "retention: 3 years after the case closed on 2021-10-09"
    assert erased[0]["erased_by"] == "system:zonecase-scheduler"
    assert sweep() == []  # once
    assert objections_of(api, granted, BUREAU)[0]["objector_erased"]["erased_on"] == "2024-10-09"
    assert objections_of(api, open_, BUREAU)[0]["contact"] == PHONE  # its case is still open: kept
    assert verify_store(api.app).ok


def v2_api(tmp_path: Path) -> Iterator[Api]:
    store = tmp_path / "v2-store.sqlite"
    shutil.copyfile(Path(__file__).parent.parent / "data" / "v2-store.sqlite", store)
    for api in make_api(f"sqlite:///{store}", tmp_path):
        # the copied store's views are projected anew on start: read once they hold the whole log
        container = api.client.app.state.container  # type: ignore[attr-defined]
        container.runner.wait_for(api.position(), timeout=60)
        yield api


def test_objections_recorded_with_the_name_in_the_event_stay_hidden_and_cannot_be_erased(tmp_path: Path) -> None:
    for api in v2_api(tmp_path):
        events = api.get("/audit/events?limit=1000", BUREAU).json()
        raised = next(e for e in events if e["type"] == "ObjectionRaised")
        zid, oid, name = raised["zone_id"], raised["data"]["objection_id"], raised["data"]["objector_name"]
        org = api.get(f"/zones/{zid}", BUREAU).json()["applicant_org"]
        applicant = Actor("u-owner", "applicant", org, "")
        for reader in (applicant, LEADING):
            entry = next(e for e in raised_entries(api, zid, reader) if e["data"]["objection_id"] == oid)
            assert "objector_name" not in entry["data"] and "contact" not in entry["data"]
            assert entry["actor"]["role"] == "" and name not in api.get(f"/zones/{zid}/objections", reader).text
        assert next(o for o in objections_of(api, zid, BUREAU) if o["objection_id"] == oid)["objector_name"] == name
        r = api.post(f"/zones/{zid}/objections/{oid}/erasure", BUREAU, json={"reason": "申请删除"})
        assert "cannot be erased from the record" in refused(api, r, 409, "objector_not_erasable")["detail"]
        assert verify_store(api.app).ok
