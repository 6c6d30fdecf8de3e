"""The command path off the views' clock (issue 12, finding 13): a command answers once its events are committed,
naming the log position it reached; a read waits only for the position its client sends back (API.md's
read-your-writes rule still holds); public reads carry an ETag keyed by what they are computed from (304)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from ..helpers import NANCHENG
from .conftest import Api
from .conftest import apply_first_batch


@contextmanager
def views_held(api: Api) -> Iterator[threading.Event]:
    """The views stop at the next event they are given until the event yielded is set (or the block ends): the
    history view's handler waits, and the views of one database commit together."""
    runner = api.client.app.state.container.runner  # type: ignore[attr-defined]
    history = runner.views["history"]
    original = history.handle
    release = threading.Event()

    def handle(event: Any, tx: Any) -> None:
        release.wait(20)
        original(event, tx)

    history.handle = handle
    try:
        yield release
    finally:
        release.set()
        history.handle = original


def test_a_command_answers_before_the_views_have_its_events(api: Api) -> None:
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    with views_held(api):
        started = time.monotonic()
        r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
        took = time.monotonic() - started
        # before: the command waited for every view and, the views held, answered 503 after 5 s
        assert r.status_code == 200, r.text
        assert took < 2.0
        assert r.json()["status"] == "accepted"  # the answer is the aggregate's: it shows the change
        assert int(r.headers["Zonecase-Position"]) == api.position()
        assert r.headers["ETag"] == f'"{r.json()["version"]}"'


def test_a_read_by_the_same_client_waits_for_its_position_and_sees_its_write(api: Api) -> None:
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    assert api.get(f"/zones/{zid}", BUREAU).json()["status"] == "applied"
    with views_held(api) as release:
        r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"})
        assert r.status_code == 200, r.text
        position = r.headers["Zonecase-Position"]
        api.client.cookies.clear()  # another client: no position sent, no wait — the view has not got there yet
        assert api.get(f"/zones/{zid}", BUREAU).json()["status"] == "applied"
        threading.Timer(0.3, release.set).start()
        started = time.monotonic()
        seen = api.get(f"/zones/{zid}", BUREAU, headers={"Zonecase-After": position})
        assert seen.status_code == 200 and seen.json()["status"] == "accepted"  # read-your-writes
        assert time.monotonic() - started >= 0.2  # it waited for the view
    # a client that keeps cookies sends its position back without being told
    with views_held(api) as release:
        r = api.post("/zones", NANCHENG, json=_second_application(api))
        assert r.status_code == 201, r.text
        assert "zonecase_position=" in r.headers["set-cookie"]
        threading.Timer(0.3, release.set).start()
        listed = api.get("/zones", BUREAU)
        assert r.json()["id"] in {z["id"] for z in listed.json()}, listed.json()


def _second_application(api: Api) -> dict[str, Any]:
    from .conftest import first_batch_application

    return first_batch_application(api, name="东城")


def test_a_position_that_is_not_one_is_refused_and_one_past_the_log_waits_for_nothing(api: Api) -> None:
    r = api.get("/zones", BUREAU, headers={"Zonecase-After": "soon"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert r.headers["content-type"].startswith("application/problem+json")
    started = time.monotonic()
    r = api.get("/zones", BUREAU, headers={"Zonecase-After": str(10**15)})
    assert r.status_code == 200 and time.monotonic() - started < 2.0


def test_public_reads_carry_an_etag_that_changes_with_what_they_show(api: Api) -> None:
    for path in ("/notices", "/board", "/calls"):
        first = api.get(path, None)
        assert first.status_code == 200
        tag = first.headers["ETag"]
        again = api.get(path, None, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.headers["ETag"] == tag and not again.content
        assert api.get(path, None, headers={"If-None-Match": f"W/{tag}"}).status_code == 304  # weak comparison
        cached = api.get(path, None)
        assert cached.status_code == 200 and cached.content == first.content and cached.headers["ETag"] == tag
    before = {path: api.get(path, None).headers["ETag"] for path in ("/notices", "/calls")}
    apply_first_batch(api)  # the log and the views move on
    for path, tag in before.items():
        r = api.get(path, None, headers={"If-None-Match": tag})
        assert r.status_code == 200 and r.headers["ETag"] != tag, path


def test_the_calls_etag_moves_with_the_calls_events_only(api: Api) -> None:
    """``/calls`` is keyed by the latest call event the views' runner has read: a zone's formal review leaves it
    (304), a published call moves it — for the bureau at once (its position), for the public once the views read it."""
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    tag = api.get("/calls", None).headers["ETag"]
    assert api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    assert api.get("/calls", BUREAU, headers={"If-None-Match": tag}).status_code == 304
    from .test_calls import published

    published(api)
    moved = api.get("/calls", BUREAU, headers={"If-None-Match": tag})  # the bureau's client sends its position
    assert moved.status_code == 200 and moved.headers["ETag"] != tag
    assert [c["id"] for c in moved.json()][-1] == "2021-second"


def test_the_calls_etag_never_repeats_across_restarts(tmp_path: Path) -> None:
    """A process starting after the calls' latest event has read none of them: its key stands on the log's head at
    start, so a tag from before a change made while it ran never matches again after the next restart."""
    from .conftest import make_api
    from .test_calls import published

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    for api in make_api(url, tmp_path / "first"):
        apply_first_batch(api, plan=GOOD_PLAN)
        assert api.get("/calls", BUREAU).status_code == 200  # the views have read everything before it stops
    for api in make_api(url, tmp_path / "second"):
        tag = api.get("/calls", None).headers["ETag"]
        published(api)
        assert api.get("/calls", BUREAU).status_code == 200  # its position: the views have read the new call
    for api in make_api(url, tmp_path / "third"):
        r = api.get("/calls", None, headers={"If-None-Match": tag})
        assert r.status_code == 200 and r.headers["ETag"] != tag
        assert "2021-second" in {c["id"] for c in r.json()}
