"""The calendar over HTTP: which data counts a year, and the bureau's audited entry for a missing year."""

from __future__ import annotations

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import SONGSHAN
from .conftest import Api


def test_enter_a_missing_year_and_correct_it(api: Api) -> None:
    known = api.get("/calendar/2026", INSPECTOR).json()
    assert known["source"].startswith("chinesecalendar") and known["override"] is None
    year = known["published_years"][1] + 1
    missing = api.get(f"/calendar/{year}", INSPECTOR).json()
    assert missing["source"].startswith(f"no data for {year}")
    entry = {"holidays": [f"{year}-01-01", f"{year}-10-01"], "working_days": [], "source": "国办发明电 (test)"}
    before = api.position()
    assert api.put(f"/calendar/{year}", SONGSHAN, json=entry).status_code == 403
    bad = api.put(f"/calendar/{year}", BUREAU, json={**entry, "working_days": [f"{year}-01-01"]})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    assert api.put(f"/calendar/{year}", BUREAU, json={**entry, "holidays": ["2031-02-30"]}).status_code == 422
    assert api.position() == before
    r = api.put(f"/calendar/{year}", BUREAU, json=entry)
    assert r.status_code == 200, r.text
    assert r.json()["override"]["version"] == 1 and r.json()["source"].startswith(f"calendar override {year} v1")
    again = api.put(f"/calendar/{year}", BUREAU, json=entry)
    assert again.status_code == 422 and again.json()["errors"] == [{"loc": ["reason"], "msg": "required"}]
    r = api.put(f"/calendar/{year}", BUREAU, json={**entry, "reason": "Typo in the first entry."})
    assert r.json()["override"]["version"] == 2
    assert api.get("/audit/verify", INSPECTOR).json()["ok"] is True
