"""Audit and supervision over HTTP: checkpoints and proofs, the dossier, the inspector's report, the past."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from audit.checkpoints import load_public_key
from audit.checkpoints import verify_tree_head
from audit.merkle import verify_consistency
from audit.merkle import verify_inclusion

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import LEADING
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import recommended_and_granted
from .test_lifecycle import apply
from .test_lifecycle import object_during_notice
from .test_lifecycle import to_notice


def objected_zone(api: Api) -> str:
    zid = apply(api, NANCHENG, "南城软件和信息技术服务业集聚区")["id"]
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27")
    oid = object_during_notice(api, zid, SONGSHAN)
    api.set_clock("2021-10-11")
    r = api.post(
        f"/zones/{zid}/objections/{oid}/resolution",
        BUREAU,
        json={"outcome": "dismissed", "reasons": "The platforms are separate legal persons."},
    )
    assert r.status_code == 200
    assert recommended_and_granted(api, zid, "No. 9").status_code == 200
    return zid


def test_checkpoints_and_proofs_verify_with_the_published_key(api: Api) -> None:
    zid = objected_zone(api)
    key = api.get("/checkpoints/public-key", None).json()
    public = load_public_key(key["public_key_pem"])
    notice_head = api.get("/notices", None).json()[0]["tree_head"]
    assert verify_tree_head(public, notice_head)  # the notice shows the tree head it was published under
    latest = api.post("/checkpoints", None).json()
    assert verify_tree_head(public, latest) and latest["tree_size"] > notice_head["tree_size"]
    assert [c["tree_size"] for c in api.get("/checkpoints", None).json()] == [
        notice_head["tree_size"],
        latest["tree_size"],
    ]
    proof = api.get("/audit/proofs/inclusion", None, params={"zone_id": zid, "seq": 2}).json()
    assert verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(p) for p in proof["audit_path"]],
        bytes.fromhex(proof["checkpoint"]["root_hash"]),
    )
    first, second = notice_head["tree_size"], latest["tree_size"]
    consistency = api.get("/audit/proofs/consistency", None, params={"first": first, "second": second}).json()
    assert verify_consistency(
        first,
        second,
        bytes.fromhex(notice_head["root_hash"]),
        bytes.fromhex(latest["root_hash"]),
        [bytes.fromhex(p) for p in consistency["proof"]],
    )
    assert api.get("/audit/proofs/consistency", None, params={"first": 5, "second": 9999}).status_code == 422
    assert base64.b64decode(latest["signature"])


def test_the_dossier_in_json_and_html(api: Api) -> None:
    zid = objected_zone(api)
    assert api.get(f"/zones/{zid}/dossier", LEADING).status_code == 403
    assert api.get(f"/zones/{zid}/dossier", NANCHENG).status_code == 403
    d = api.get(f"/zones/{zid}/dossier", INSPECTOR).json()
    notice = d["notices"][0]
    assert notice["text"].startswith("公示") and notice["published_under"]["tree_size"] >= 8
    objection = d["objections"][0]
    assert objection["objector_name"] == "Wang Fang" and objection["evidence"][0]["name"] == "evidence.pdf"
    assert objection["resolution"]["resolved_by"]["role"] == "bureau"
    assert objection["resolution"]["reasons"] == "The platforms are separate legal persons."
    rounds = d["assessments"]
    assert rounds[0]["result"]["maximum"] == 98 and len(rounds[0]["sheets"]) == 3
    assert d["indicator_system"]["version"] == "2021" and len(d["indicator_system"]["discrepancies"]) == 2
    assert [e["type"] for e in d["timeline"]][-1] == "Granted"
    root = bytes.fromhex(d["integrity"]["checkpoint"]["root_hash"])
    assert len(d["integrity"]["inclusion_proofs"]) == len(d["timeline"])
    for p in d["integrity"]["inclusion_proofs"]:
        assert verify_inclusion(
            bytes.fromhex(p["leaf_hash"]),
            p["leaf_index"],
            p["tree_size"],
            [bytes.fromhex(x) for x in p["audit_path"]],
            root,
        )
    page = api.get(f"/zones/{zid}/dossier", BUREAU, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "争议卷宗 Dispute dossier" in page.text and "Wang Fang" in page.text and "公示 Public notices" in page.text


def test_the_inspectors_report_over_http(api: Api) -> None:
    objected_zone(api)
    assert api.get("/audit/inspection", NANCHENG).status_code == 403
    clean = api.get("/audit/inspection", INSPECTOR, params={"to": "2021-12-31T00:00:00+08:00"}).json()
    assert clean["clean"] is True and clean["checked"]["grants"] == 1, json.dumps(clean)
    later = api.get("/audit/inspection", INSPECTOR, params={"to": "2025-06-01T00:00:00+08:00"}).json()
    assert {f["rule"] for f in later["findings"]} == {"missing_annual_report", "left_past_expiry"}
    assert api.get("/audit/inspection", INSPECTOR, params={"to": "2025-06-01T00:00:00"}).status_code == 422


def test_the_lists_as_they_stood(api: Api) -> None:
    zid = objected_zone(api)
    then = api.get("/zones", BUREAU, params={"as_of": "2021-09-30T12:00:00+08:00"}).json()
    assert [(z["id"], z["status"]) for z in then] == [(zid, "in_notice")]
    assert api.get("/zones", BUREAU, params={"as_of": "2021-01-01T00:00:00+08:00"}).json() == []
    now = api.get("/zones", BUREAU).json()
    assert now[0]["status"] == "granted"
    past = api.get("/deadlines", INSPECTOR, params={"as_of": "2021-10-08T12:00:00+08:00"}).json()
    # in notice, not granted yet: its creation period (first batch, to 2023-12-31) would end on 2024-01-01
    assert [(d["kind"], d["overdue"]) for d in past] == [("notice_ended", False), ("creation_period_ended", False)]
    later = api.get("/deadlines", INSPECTOR, params={"as_of": "2022-02-02T00:00:00+08:00"}).json()
    assert later[0]["kind"] == "annual_report_overdue" and later[0]["overdue"] is True
    assert later[0]["recorded"] is False  # nothing swept it then


def test_an_export_verifies_against_the_key_and_the_heads_the_service_publishes(api: Api, tmp_path: Path) -> None:
    """The inspector's walk-through (README, For inspectors): the key and a tree head from the service, the
    export from the bureau, ``zonecase verify`` with nothing else."""
    from typer.testing import CliRunner

    from audit.offline import export
    from zonecase.cli import cli

    objected_zone(api)
    key = api.get("/checkpoints/public-key", None).json()
    (tmp_path / "bureau-key.pem").write_text(key["public_key_pem"])
    notice_head = api.get("/notices", None).json()[0]["tree_head"]  # copied from the board
    api.post("/checkpoints", None)
    (tmp_path / "head.json").write_text(api.get("/checkpoints/latest", None).text)  # saved as served
    export(api.app, api.get("/checkpoints", None).json(), key["public_key_pem"], tmp_path / "export")

    def verify(tree_head: str) -> Any:
        args = ["verify", str(tmp_path / "export"), "--public-key", str(tmp_path / "bureau-key.pem")]
        return CliRunner().invoke(cli, [*args, "--tree-head", tree_head])

    for tree_head in (f"{notice_head['tree_size']}:{notice_head['root_hash']}", str(tmp_path / "head.json")):
        result = verify(tree_head)
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["tree_head"]["consistent"] is True
        assert report["covered_by"]["tree_size"] == report["events_checked"]
    (tmp_path / "export" / "checkpoints.json").write_text("[]")  # the checkpoints dropped: the events prove nothing
    result = verify(str(tmp_path / "head.json"))
    assert result.exit_code == 1
    assert "not covered by any signed checkpoint" in json.loads(result.stdout)["problems"][0]["problem"]


def test_recorded_decimals_are_shown_as_the_numbers_they_record(api: Api) -> None:
    """The log records 0.6 as {"$decimal": "0.6"} (docs/record-format.md); what the API shows is 0.6."""
    zid = objected_zone(api)
    events = api.get("/audit/events", INSPECTOR).json()
    applied = next(e for e in events if e["zone_id"] == zid and e["type"] == "Applied")
    assert applied["data"]["plan"]["matching_ratio"] == 0.6
    history = api.get(f"/zones/{zid}/history", BUREAU).json()
    assert history[0]["data"]["plan"]["matching_ratio"] == 0.6
    assert api.get(f"/zones/{zid}", BUREAU).json()["plan"]["matching_ratio"] == 0.6
    assert "$decimal" not in json.dumps([events, history])
