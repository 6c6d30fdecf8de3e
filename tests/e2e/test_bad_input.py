"""Bad input: each a 4xx problem with a stable code, the history unchanged, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import SONGSHAN
from ..helpers import full_scores
from .conftest import Api
from .conftest import admit
from .conftest import apply_first_batch
from .conftest import first_batch_application
from .conftest import refused
from .conftest import revocation_body


@pytest.fixture
def assessing(api: Api) -> tuple[Api, str]:
    """A zone under assessment (so scores can be filed)."""
    zid = apply_first_batch(
        api,
        plan={
            "base_year": 2020,
            "matching_ratio": 0.5,
            "targets": [
                {
                    "year": 2023,
                    "revenue": 30_000_000_000,
                    "firms_over_1bn": 1,
                    "employees": 5,
                    "new_firms_over_20m": 8,
                    "new_platforms": 3,
                }
            ],
        },
    )
    assert api.post(f"/zones/{zid}/formal-review", BUREAU, json={"outcome": "accepted"}).status_code == 200
    admit(api, zid)
    r = api.post(
        f"/zones/{zid}/assessment/panel",
        BUREAU,
        json={"experts": [{"sub": e.sub} for e in EXPERTS], "methods": ["site_visit"]},
    )
    assert r.status_code == 200
    return api, zid


def test_each_bad_request_is_a_problem_and_records_nothing(assessing: tuple[Api, str]) -> None:
    api, zid = assessing
    z = f"/zones/{zid}"
    before = api.position()
    history = api.get(f"{z}/history", BUREAU).json()
    expert = EXPERTS[0]

    refused(
        api,
        api.request(
            "POST", f"{z}/formal-review", BUREAU, content=b'{"outcome": ', headers={"Content-Type": "application/json"}
        ),
        422,
        "malformed_json",
    )
    body = refused(
        api,
        api.post(
            "/zones",
            SONGSHAN,
            json={"name": 5, "area_type": "city", "sites": "x", "batch": "2021-first", "self_assessment": {}},
        ),
        422,
        "validation_failed",
    )
    assert {"area_type"} <= {e["loc"][0] for e in body["errors"]}
    refused(
        api,
        api.post(
            "/zones",
            SONGSHAN,
            json={
                "name": "x",
                "area_type": "park",
                "sites": [{"name": "a"}],
                "batch": "2099-none",
                "self_assessment": {"statistics": {"revenue": 1}},
            },
        ),
        422,
        "validation_failed",
    )
    body = refused(
        api,
        api.put(f"{z}/assessment/scores", expert, json={"scores": {**full_scores(), "26": 1}}),
        422,
        "validation_failed",
    )
    assert ["scores", "26"] in [e["loc"] for e in body["errors"]]
    body = refused(
        api,
        api.put(f"{z}/assessment/scores", expert, json={"scores": {**full_scores(), "14": 8.5}}),
        422,
        "validation_failed",
    )
    assert "outside 0..8" in json.dumps(body)
    refused(
        api,
        api.put(f"{z}/assessment/scores", expert, json={"scores": {**full_scores(), "3": "high"}}),
        422,
        "validation_failed",
    )
    refused(
        api,
        api.request(
            "PUT",
            f"{z}/assessment/scores",
            expert,
            content=b'{"scores": {"1": NaN}}',
            headers={"Content-Type": "application/json"},
        ),
        422,
        "validation_failed",
    )
    huge = {"reason": "x" * (2 << 20)}
    refused(api, api.post(f"{z}/assessment/conflicts", expert, json=huge), 413, "payload_too_large")
    body = refused(
        api,
        api.post(
            f"{z}/assessment/conclusion",
            BUREAU,
            json={"passed": True, "report": {"sha256": "ab" * 32, "name": "never-uploaded.pdf"}, "reasons": "x"},
        ),
        422,
        "validation_failed",
    )
    assert body["errors"] == [{"loc": ["report", 0, "sha256"], "msg": "no document with this hash has been uploaded"}]
    refused(
        api,
        api.post(
            f"{z}/assessment/conclusion",
            BUREAU,
            json={"passed": "yes", "report": {"sha256": "ab" * 32, "name": "r"}, "reasons": "x"},
        ),
        422,
        "validation_failed",
    )
    refused(api, api.get(z, BUREAU, params={"as_of": "yesterday"}), 422, "validation_failed")
    refused(api, api.get(z, BUREAU, params={"as_of": "2022-01-01T00:00:00"}), 422, "validation_failed")
    refused(api, api.get("/zones/not-a-uuid", BUREAU), 422, "validation_failed")
    refused(api, api.get("/zones/00000000-0000-4000-8000-000000000000", BUREAU), 404, "not_found")
    revoke = revocation_body(api)
    refused(
        api,
        api.post("/zones/00000000-0000-4000-8000-000000000000/revocation", BUREAU, json=revoke),
        404,
        "not_found",
    )
    refused(
        api,
        api.post(f"{z}/revocation", BUREAU, json=revoke, headers={"If-Match": "seven"}),
        422,
        "validation_failed",
    )
    version = api.get(z, BUREAU).json()["version"]
    refused(
        api,
        api.post(
            f"{z}/revocation",
            BUREAU,
            json=revoke,
            headers={"If-Match": f'"{version - 1}"'},
        ),
        412,
        "precondition_failed",
    )
    refused(
        api,
        api.request(
            "POST",
            "/documents",
            SONGSHAN,
            files={"file": ("x.exe", b"MZ\x90\x00\x03\x00\x00\x00", "application/octet-stream")},
        ),
        415,
        "unsupported_media_type",
    )
    refused(
        api,
        api.request("POST", "/documents", SONGSHAN, files={"file": ("big.pdf", b"%PDF" + b"0" * (21 << 20))}),
        413,
        "payload_too_large",
    )
    refused(
        api,
        api.request(
            "POST", f"{z}/formal-review", BUREAU, content=b"outcome=accepted", headers={"Content-Type": "text/plain"}
        ),
        422,
        "validation_failed",
    )
    refused(api, api.post(f"{z}/formal-review", None, json={"outcome": "accepted"}), 401, "unauthorized")
    refused(
        api,
        api.post(
            f"{z}/formal-review", None, json={"outcome": "accepted"}, headers={"Authorization": "Bearer not.a.jwt"}
        ),
        401,
        "invalid_token",
    )

    assert api.position() == before
    assert api.get(f"{z}/history", BUREAU).json() == history


def test_a_bad_notice_date_is_refused(assessing: tuple[Api, str]) -> None:
    api, zid = assessing
    before = api.position()
    refused(
        api,
        api.post(f"/zones/{zid}/notice", BUREAU, json={"text": "公示", "starts_on": "2021-02-30"}),
        422,
        "validation_failed",
    )
    refused(
        api,
        api.post(f"/zones/{zid}/notice", BUREAU, json={"text": "公示", "starts_on": "2099-01-05"}),
        422,
        "calendar_data_missing",
    )  # no working-day data for 2099: refused, not guessed
    refused(
        api,
        api.post(f"/zones/{zid}/notice", BUREAU, json={"text": "公示", "starts_on": "2021-09-27"}),
        409,
        "illegal_transition",
    )  # not yet assessed
    assert api.position() == before


def test_idempotency_keys(assessing: tuple[Api, str]) -> None:
    api, zid = assessing
    expert = EXPERTS[0]
    key = {"Idempotency-Key": "sheet-1"}
    first = api.put(f"/zones/{zid}/assessment/scores", expert, json={"scores": full_scores()}, headers=key)
    assert first.status_code == 200
    position = api.position()
    again = api.put(f"/zones/{zid}/assessment/scores", expert, json={"scores": full_scores()}, headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert api.position() == position
    other = api.put(f"/zones/{zid}/assessment/scores", expert, json={"scores": full_scores(1)}, headers=key)
    refused(api, other, 422, "idempotency_key_reused")
    assert api.position() == position


def test_an_idempotency_key_survives_a_restart(tmp_path: Any) -> None:
    """The key and the first response are stored with the events: a new process replays them."""
    from ..conftest import StoreFactory
    from .conftest import first_batch_application
    from .conftest import make_api

    url = StoreFactory("sqlite", tmp_path).new_url()
    first = make_api(url, tmp_path / "one")
    api = next(first)
    body = first_batch_application(api)
    created = api.post("/zones", SONGSHAN, json=body, headers={"Idempotency-Key": "apply-1"})
    assert created.status_code == 201
    first.close()  # the process stops …
    again = make_api(url, tmp_path / "one")  # … and a new one starts on the same store
    api = next(again)
    position = api.position()
    replay = api.post("/zones", SONGSHAN, json=body, headers={"Idempotency-Key": "apply-1"})
    assert replay.status_code == 201 and replay.json()["id"] == created.json()["id"]
    assert (
        replay.headers["idempotency-replayed"] == "true" and replay.headers["location"] == created.headers["location"]
    )
    assert api.position() == position
    again.close()


def test_who_is_asking_is_judged_before_what_is_asked(assessing: tuple[Api, str]) -> None:
    """The caller first (401 without a token, 403 for a role that may not act), then If-Match, then the
    body: a caller who may not act learns nothing about its request's validity."""
    api, zid = assessing
    before = api.position()
    bad_version = {"If-Match": "seven"}
    cases = [
        (None, {"passed": "maybe"}, bad_version, 401, "unauthorized"),
        (SONGSHAN, {"passed": "maybe"}, bad_version, 403, "forbidden"),
        (BUREAU, {"passed": "maybe"}, bad_version, 422, "validation_failed"),
        (BUREAU, {"passed": "maybe"}, {}, 422, "validation_failed"),
    ]
    for actor, body, headers, status, code in cases:
        r = api.post(f"/zones/{zid}/assessment/conclusion", actor, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), (actor, r.text)
    assert api.position() == before


def test_an_if_match_header_on_a_creating_command_is_not_read(api: Api) -> None:
    """POST /zones and an objection create something new: there is no version to match, as before."""
    body = first_batch_application(api)
    r = api.post("/zones", SONGSHAN, json=body, headers={"If-Match": "not a version"})
    assert r.status_code == 201, r.text
