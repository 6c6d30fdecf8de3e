"""PostgreSQL going away (issue 12, finding 8): reads and commands answer 503 ``store_unavailable`` with
``Retry-After`` within 2 s — never a 500, never a hang — and work again once it is back, without a restart.

The outage is a TCP relay in front of the shared test server that the test cuts (every connection dropped, the port
closed): the shared server itself is never stopped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from bench.relay import Relay

from ..conftest import StoreFactory
from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from .conftest import Api
from .conftest import apply_first_batch
from .conftest import make_api
from .conftest import refused
from .console_helpers import sign_in


def behind_a_relay(factory: StoreFactory, delay: float = 0.0) -> tuple[str, Relay]:
    """A new store's URL through a relay in front of PostgreSQL (each new connection held ``delay`` seconds)."""
    url = urlparse(factory.new_url())
    relay = Relay((url.hostname or "127.0.0.1", url.port or 5432))
    relay.delay = delay
    relay.mend()
    netloc = f"{url.username}@127.0.0.1:{relay.port}" if url.username else f"127.0.0.1:{relay.port}"
    return url._replace(netloc=netloc).geturl(), relay


@pytest.fixture
def relayed(tmp_path: Path) -> Iterator[tuple[Api, Relay]]:
    factory = StoreFactory("postgres", tmp_path)
    url, relay = behind_a_relay(factory)
    try:
        yield from ((api, relay) for api in make_api(url, tmp_path))
    finally:
        factory.cleanup()


def timed(call: Any) -> tuple[Any, float]:
    start = time.monotonic()
    r = call()
    return r, time.monotonic() - start


@pytest.mark.postgres
def test_with_postgres_down_reads_and_commands_answer_503_within_2_s(relayed: tuple[Api, Relay]) -> None:
    api, relay = relayed
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    assert api.get(f"/zones/{zid}", BUREAU).status_code == 200
    sign_in(api, BUREAU)
    relay.cut()
    console, seconds = timed(lambda: api.client.get(f"/console/zones/{zid}"))  # under the console: a page
    assert console.status_code == 503 and console.headers["content-type"].startswith("text/html"), console.text[:300]
    assert "事件库暂时无法连接" in console.text and int(console.headers["retry-after"]) > 0 and seconds < 2.0
    api.client.cookies.clear()
    for call in (
        lambda: api.get(f"/zones/{zid}", BUREAU),
        lambda: api.get("/zones", BUREAU),
        lambda: api.get("/notices", None),
        lambda: api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}),
        lambda: api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}),
    ):
        r, seconds = timed(call)
        refused(api, r, 503, "store_unavailable")
        assert int(r.headers["retry-after"]) > 0
        assert seconds < 2.0, seconds
    relay.mend()  # the server is back: no restart of the service needed
    mended, key = time.monotonic(), {"Idempotency-Key": "after-the-outage"}
    while True:  # a client retries with its key; the service recovers by itself, within seconds
        r = api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}, headers=key)
        if r.status_code != 503 or time.monotonic() - mended > 10:
            break
        time.sleep(0.2)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text


@pytest.mark.postgres
def test_a_start_waits_for_a_store_slow_to_answer_then_requests_wait_their_second_again(tmp_path: Path) -> None:
    """A store slow for a moment when a process starts (a restart, a disk busy syncing) is waited for — the tables
    created, the views' positions read — where a request would have been answered 503 after its second."""
    from application.settings import Settings
    from zonecase.wiring import build

    from .conftest import SECRET

    factory = StoreFactory("postgres", tmp_path)
    url, relay = behind_a_relay(factory, delay=2.0)  # a new connection reaches PostgreSQL after 2 s; a request waits 1
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        jwt_secret=SECRET,
        scheduler_interval=0,
    )
    container = None
    try:
        (container, took) = timed(lambda: build(settings))
        (runner, took_views) = timed(container.start_views)
        assert took >= 2.0 and took_views >= 0  # it waited for the store instead of failing after a second
        relay.delay = 0.0
        pools = [container.app.recorder.datastore.pool] + [p.view.datastore.pool for p in runner.views.values()]
        assert {pool.timeout for pool in pools} == {1}  # a request waits its second again
        assert container.app.recorder.max_notification_id() in (None, 0)
    finally:
        if container is not None:
            container.close()
        relay.cut()
        factory.cleanup()
