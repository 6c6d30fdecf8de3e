"""/ready: the store answers and no view has stopped; a stopped view is named with its event."""

from __future__ import annotations

from typing import Any

from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from .conftest import Api
from .conftest import apply_first_batch


def test_ready_names_the_event_a_view_stopped_on(sqlite_api: Api) -> None:
    api = sqlite_api
    ready = api.get("/ready", None)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    runner = api.client.app.state.container.runner  # type: ignore[attr-defined]
    history = runner.views["history"]
    original = history.handle

    def handle(event: Any, tx: Any) -> None:
        if type(event).__name__ == "FormallyAccepted":
            raise RuntimeError("disk full")
        original(event, tx)

    history.handle = handle
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
    assert r.status_code == 200 and r.headers["Zonecase-Position"] == "4"  # committed: the answer does not wait
    # a read of the stopped view after the command, by the same client (its position sent back), is refused
    r = api.get(f"/zones/{zid}/history", BUREAU, headers={"Zonecase-After": "4"})
    assert r.status_code == 503 and r.json()["code"] == "views_unavailable"
    # the log: the call's publication (1), the case the application opened in it (2), the application (3)
    assert "history view stopped on event 4 (FormallyAccepted)" in r.json()["detail"]
    ready = api.get("/ready", None)
    assert ready.status_code == 503
    failed = ready.json()["views"]["history"]["failed"]
    assert failed == {
        "view": "history",
        "position": 4,
        "zone_id": zid,
        "event_type": "FormallyAccepted",
        "error": "RuntimeError: disk full",
    }
    assert api.app.get_zone(__import__("uuid").UUID(zid)).status == "accepted"  # recorded all the same
