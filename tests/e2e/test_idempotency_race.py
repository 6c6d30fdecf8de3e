"""Idempotency under a race and for anonymous callers (issue 12, finding 10): twenty racing requests with one key all
get the first answer replayed, and the public's keys are scoped to the caller and the request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..helpers import BUREAU
from ..helpers import GOOD_PLAN
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import apply_first_batch
from .test_grant import in_notice


def test_twenty_racing_requests_with_one_key_all_get_the_replay(api: Api) -> None:
    zid = apply_first_batch(api, plan=GOOD_PLAN)
    before = api.position()

    def send(_: int) -> Any:
        headers = {"Idempotency-Key": "review-1"}
        return api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}, headers=headers)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))
    assert [r.status_code for r in answers] == [200] * 20, [r.text for r in answers if r.status_code != 200]
    assert len({r.json()["version"] for r in answers}) == 1
    assert sum(r.headers.get("idempotency-replayed") == "true" for r in answers) == 19
    assert api.position() == before + 1  # recorded once


def test_an_anonymous_key_is_scoped_to_the_caller_and_the_request(api: Api) -> None:
    zid = in_notice(api)
    api.set_clock("2021-09-28")
    key = {"Idempotency-Key": "objection-1"}
    mine = {"objector_name": "Wang Fang", "contact": "wang@example.org", "text": "Two platforms are one company."}
    theirs = {"objector_name": "Li Lei", "contact": "li@example.org", "text": "The revenue is counted twice."}
    first = api.post(f"/zones/{zid}/objections", None, json=mine, headers=key)
    assert first.status_code == 201, first.text
    # another member of the public who happens to pick the same key neither squats it nor reads the first receipt
    other = api.post(f"/zones/{zid}/objections", None, json=theirs, headers=key)
    assert other.status_code == 201, other.text
    assert other.json()["objection_id"] != first.json()["objection_id"]
    assert "idempotency-replayed" not in other.headers
    again = api.post(f"/zones/{zid}/objections", None, json=mine, headers=key)  # the first caller retries
    assert again.status_code == 201 and again.headers["idempotency-replayed"] == "true", again.text
    assert again.json() == first.json()
    # and a token's keys stay apart from the public's
    signed = api.post(f"/zones/{zid}/objections", SONGSHAN, json=mine, headers=key)
    assert signed.status_code == 201 and "idempotency-replayed" not in signed.headers, signed.text
