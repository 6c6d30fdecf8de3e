"""``GET /metrics`` after a stretch of the process: the counts an operator would graph and alert on, right."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from projections import VIEWS

from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from ..helpers import INSPECTOR
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import apply_first_batch
from .conftest import first_batch_application
from .conftest import to_assessing


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics`` as the inspector reads it, by name and labels."""
    r = api.get("/metrics", INSPECTOR)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def sample(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_for_the_bureau_and_inspectors_only(api: Api) -> None:
    assert api.get("/metrics", None).status_code == 401
    assert api.get("/metrics", SONGSHAN).status_code == 403
    assert api.get("/metrics", BUREAU).status_code == 200
    assert "/metrics" not in api.get("/openapi.json", None).json()["paths"]


def test_after_a_lifecycle_the_counts_are_right(api: Api) -> None:
    zid = to_assessing(api)  # applied, accepted, its assessment application accepted, a panel appointed
    refusals = [
        api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}),  # not in `applied` any more
        api.post(f"/zones/{zid}/formal-review", SONGSHAN, json={"outcome": "accepted"}),  # not the bureau's
        api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "maybe"}),  # no such outcome
        api.post(f"/zones/{zid}/recommendation", BUREAU, json={"reasons": "x"}),  # no document: 422
    ]
    assert [r.status_code for r in refusals] == [409, 403, 422, 422]
    again = api.post("/zones", SONGSHAN, json=first_batch_application(api))  # a second open case in the call
    assert again.json()["code"] == "duplicate_application"
    assert api.post("/checkpoints", BUREAU).status_code == 201
    head = api.position()

    samples = scrape(api)
    commands = {
        (dict(labels)["command"], dict(labels)["outcome"]): v
        for (name, labels), v in samples.items()
        if name == "zonecase_commands_total"
    }
    assert commands == {
        ("apply", "ok"): 1,
        ("apply", "duplicate_application"): 1,
        ("formal_review", "ok"): 1,
        ("formal_review", "illegal_transition"): 1,
        ("formal_review", "forbidden"): 1,
        ("formal_review", "validation_failed"): 1,
        ("request_assessment", "ok"): 1,
        ("decide_assessment_request", "ok"): 1,
        ("appoint_panel", "ok"): 1,
        ("recommend", "validation_failed"): 1,
    }
    # events by type: as the log holds them, read here one by one
    stored = Counter(n.topic.rpartition(":")[2] for n in api.app.recorder.select_notifications(start=1, limit=10**6))
    events = {
        dict(labels)["type"]: v for (name, labels), v in samples.items() if name == "zonecase_events_recorded_total"
    }
    assert events == dict(stored) and sum(events.values()) == head
    assert events["Zone.Applied"] == 1 and events["Zone.PanelAppointed"] == 1
    # every view current: its position is the log's head, no lag, running
    assert sample(samples, "zonecase_log_head") == head
    for view in VIEWS:
        assert sample(samples, "zonecase_view_position", view=view) == head
        assert sample(samples, "zonecase_view_lag_events", view=view) == 0
        assert sample(samples, "zonecase_view_lag_seconds", view=view) == 0
        assert sample(samples, "zonecase_view_running", view=view) == 1
    assert not [k for k in samples if k[0] == "zonecase_view_stopped_position"]
    # the request histogram by route template and status
    route = "/zones/{zone_id}/formal-review"
    assert (
        sample(samples, "zonecase_http_request_duration_seconds_count", method="POST", route=route, status="409") == 1
    )
    assert (
        sample(samples, "zonecase_http_request_duration_seconds_count", method="POST", route=route, status="200") == 1
    )
    # the checkpoint just signed, and the documents uploaded
    assert sample(samples, "zonecase_checkpoint_tree_size") == head
    assert 0 <= sample(samples, "zonecase_checkpoint_age_seconds") < 60
    uploaded = api.app.side_tables  # the uploads' sizes, as recorded with them
    sizes = [uploaded.get_document(d)[0].size for d in _document_hashes(api)]
    assert (
        sample(samples, "zonecase_documents_bytes") == sum(sizes)
        and sample(samples, "zonecase_documents") == len(sizes) >= 2
    )
    assert sample(samples, "zonecase_store_up") == 1


def _document_hashes(api: Api) -> list[str]:
    root = api.client.app.state.documents.root  # type: ignore[attr-defined]
    return [f.name for f in root.glob("*/*")]


def test_a_stopped_view_is_shown_with_its_failing_event(api: Api) -> None:
    zid = apply_first_batch(api)
    runner = api.client.app.state.container.runner  # type: ignore[attr-defined]
    from projections.runner import ViewFailure

    runner.failures["zones"] = ViewFailure("zones", 3, zid, "Applied", "boom")
    samples = scrape(api)
    assert sample(samples, "zonecase_view_running", view="zones") == 0
    assert sample(samples, "zonecase_view_stopped_position", view="zones", event_type="Applied") == 3
    assert sample(samples, "zonecase_view_running", view="history") == 1
    runner.failures.clear()


def test_the_request_id_is_returned_and_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="zonecase.request")
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}, headers={"X-Request-ID": "rq-1"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "rq-1"
    made = api.get("/zones", BUREAU, headers={"X-Request-ID": "no spaces or\ttabs"}).headers["x-request-id"]
    assert made != "no spaces or\ttabs" and len(made) == 32  # a caller's id that is not an id is replaced
    line = _line(caplog, "rq-1")
    assert line == {
        "request_id": "rq-1",
        "method": "POST",
        "route": "/zones/{zone_id}/formal-review",
        "status": 200,
        "outcome": "ok",
        "command": "formal_review",
        "zone_id": zid,
        "sub": BUREAU.sub,
        "role": "bureau",
    }
    assert _line(caplog, made)["command"] is None and _line(caplog, made)["outcome"] == "ok"
    created = [r for r in caplog.records if getattr(r, "command", None) == "apply"][-1]
    assert created.zone_id == zid and created.role == "applicant"  # type: ignore[attr-defined]
    refused = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert _line(caplog, refused.headers["x-request-id"])["outcome"] == "illegal_transition"


def _line(caplog: pytest.LogCaptureFixture, request_id: str) -> dict[str, Any]:
    (record,) = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    fields = ("request_id", "method", "route", "status", "outcome", "command", "zone_id", "sub", "role")
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    return {f: getattr(record, f) for f in fields}
