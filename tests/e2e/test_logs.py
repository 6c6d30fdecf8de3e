"""The served process's log after the two full lifecycles: JSON lines, one per request with its id, and no
objector's name or contact and no token anywhere in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..conftest import StoreFactory
from ..helpers import BUREAU
from .conftest import serve
from .test_process_v2 import test_two_lifecycles_as_the_document_reads as two_lifecycles

PERSONAL = ("王芳", "wang@example.org", "李明", "东莞市长安镇")  # the objectors' names and contacts in the lifecycles


def test_the_log_of_two_lifecycles_names_no_one_and_holds_no_token(tmp_path: Path) -> None:
    factory = StoreFactory("sqlite", tmp_path)
    tokens: list[str] = []
    try:
        served = serve(factory.new_url(), tmp_path)
        api = next(served)
        minted = api.headers

        def headers(actor: Any, **extra: str) -> dict[str, str]:
            h = minted(actor, **extra)
            if "Authorization" in h:
                tokens.append(h["Authorization"].removeprefix("Bearer "))
            return h

        api.headers = headers  # type: ignore[method-assign]
        two_lifecycles(api)
        r = api.get("/zones", BUREAU, headers={"X-Request-ID": "after-the-lifecycles"})
        assert r.headers["x-request-id"] == "after-the-lifecycles"
        served.close()  # the process stops: its log is complete
    finally:
        factory.cleanup()
    (log,) = tmp_path.glob("serve-*.log")
    text = log.read_text("utf-8")
    # every line a JSON object (but the development key's warning, printed before logging is set up)
    lines = [json.loads(line) for line in text.splitlines() if line.strip() and not line.startswith("WARNING: ")]
    requests = [x for x in lines if x["logger"] == "zonecase.request"]
    assert len(requests) > 100 and all(len(x["request_id"]) >= 1 for x in requests)
    (last,) = [x for x in requests if x["request_id"] == "after-the-lifecycles"]
    assert last["route"] == "/zones" and last["sub"] == BUREAU.sub and last["role"] == "bureau"
    objections = [x for x in requests if x["command"] == "raise_objection"]
    assert objections and {x["role"] for x in objections} <= {"public", "bureau"}
    assert any(x["outcome"] not in ("ok",) for x in requests if x["command"])  # refusals are logged by code
    assert {x["command"] for x in requests if x["command"]} >= {"apply", "grant", "revoke", "resolve_objection"}
    assert len(tokens) > 100
    for token in tokens:
        assert token not in text and token.split(".")[2] not in text
    assert "eyJ" not in text  # no JWT, nor any part of one
    for value in PERSONAL:
        assert value not in text, value
