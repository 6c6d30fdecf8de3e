"""The console's sign-in and zone list: the cookie, its expiry, the roles, the filters, the headers."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import jwt

from application.sample import NANCHENG
from application.sample import SONGSHAN

from ..helpers import BUREAU
from ..helpers import EXPERTS
from ..helpers import INSPECTOR
from ..helpers import LEADING
from .conftest import SECRET
from .conftest import Api
from .console_helpers import fill_demo
from .console_helpers import page
from .console_helpers import sign_in


def test_signing_in_keeps_the_token_in_a_strict_http_only_cookie_until_it_expires(api: Api) -> None:
    r = api.client.get("/console/zones", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fzones"
    form = page(api, "/console/sign-in")
    assert 'name="token"' in form and 'method="post"' in form and "<script" not in form
    r = sign_in(api, INSPECTOR)
    assert r.status_code == 303 and r.headers["location"] == "/console/zones"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # development; outside it the cookie is Secure (below)
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 3500 < max_age <= 3600  # the token's own lifetime (an hour)
    assert "集聚区" in page(api, "/console/zones")
    r = api.client.post("/console/sign-out", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in"
    assert 'zonecase_console=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert api.client.get("/console/zones", follow_redirects=False).status_code == 303


def test_a_bad_or_expired_token_is_refused_and_an_expired_cookie_leads_back_to_sign_in(api: Api) -> None:
    r = api.client.post("/console/sign-in", data={"token": "not-a-token"}, follow_redirects=False)
    assert r.status_code == 401 and "令牌无效" in r.text and "set-cookie" not in r.headers
    expired = jwt.encode({"sub": "u-insp", "role": "inspector", "exp": int(time.time()) - 3600}, SECRET, "HS256")
    r = api.client.post("/console/sign-in", data={"token": expired}, follow_redirects=False)
    assert r.status_code == 401 and "expired" in r.text
    api.client.cookies.set("zonecase_console", expired, path="/console")
    r = api.client.get("/console/zones", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fzones"
    assert "zonecase_console" in r.headers.get("set-cookie", "")  # the stale cookie is cleared


def test_the_cookie_is_secure_outside_development(api: Api) -> None:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    object.__setattr__(settings, "env", "production")
    try:
        assert "Secure" in sign_in(api, INSPECTOR).headers["set-cookie"]
    finally:
        object.__setattr__(settings, "env", "development")


def test_experts_see_a_403_page_and_the_pages_carry_the_board_s_security_headers(api: Api) -> None:
    sign_in(api, EXPERTS[0])
    r = api.client.get("/console/zones")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html") and "无权查看" in r.text
    assert "退出" in r.text  # they may sign out
    sign_in(api, BUREAU)
    r = api.client.get("/console/zones")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"


def test_the_zone_list_shows_status_call_dates_deadlines_and_filters(api: Api) -> None:
    ids = fill_demo(api)
    for reader in (INSPECTOR, BUREAU, LEADING):
        sign_in(api, reader)
        html = page(api, "/console/zones")
        assert html.count('class="zone-row"') == 4
        for zone_id in ids.values():
            assert f'href="/console/zones/{zone_id}"' in html
    text = re.sub(r"<[^>]+>", "", html)  # the words as read (dates are marked up to stay on one line)
    assert "公示中 in notice" in html and "2024-04-15 至 to 2024-04-19" in text and "2021-first" in html
    assert "2027-09-12" in html  # the granted zone's title valid until
    assert '<span lang="en">4 zones</span>' in html
    html = page(api, "/console/zones?status=in_notice")
    assert html.count('class="zone-row"') == 1 and ids["in_notice"] in html
    assert '<span lang="en">1 zone</span>' in html  # one, not "1 zones"
    html = page(api, "/console/zones?call=2024-second")
    assert html.count('class="zone-row"') == 1 and ids["assessing"] in html
    html = page(api, "/console/zones?org=nancheng")
    assert html.count('class="zone-row"') == 2 and ids["granted"] not in html
    assert page(api, "/console/zones?status=nonsense").count('class="zone-row"') == 4


def test_an_applicant_sees_only_its_own_zones_whatever_it_asks_for(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, NANCHENG)
    html = page(api, "/console/zones?org=songshan-lake")
    assert html.count('class="zone-row"') == 2
    assert ids["in_notice"] in html and ids["not_passed"] in html and ids["granted"] not in html
    assert 'name="org"' not in html
    sign_in(api, SONGSHAN)
    assert ids["in_notice"] not in page(api, "/console/zones")


def test_names_are_escaped(api: Api) -> None:
    from .conftest import apply_first_batch

    apply_first_batch(api, name="<script>alert(1)</script>松山湖")
    api.client.app.state.container.runner.wait_for(api.position(), timeout=10)  # type: ignore[attr-defined]
    sign_in(api, BUREAU)
    html = page(api, "/console/zones")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;松山湖" in html


def test_every_problem_under_the_console_is_a_page_in_both_languages_with_its_status(api: Api) -> None:
    ids = fill_demo(api)
    sign_in(api, INSPECTOR)
    for path, status, code, words in [
        ("/console/no-such-page", 404, "not_found", "不存在"),  # no route: the framework's own 404
        ("/console/zones/not-a-zone-id", 422, "validation_failed", "参数有误"),  # a path the API refuses
        (f"/console/zones/{ids['in_notice']}?as_of=yesterday", 422, "validation_failed", "参数有误"),
        ("/console/zones?status=" + "x" * 41, 422, "validation_failed", "参数有误"),
    ]:
        r = api.client.get(path, follow_redirects=False)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (path, r.text[:300])
        assert words in r.text and f"<code>{code}</code>" in r.text and "退出" in r.text, path
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), path
    assert "返回集聚区列表" in r.text and "以其他身份登录" not in r.text  # a mistake, not a permission: back, not away
    r = api.client.post("/console/zones", follow_redirects=False)  # no such form: the page says so, Allow kept
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html") and "请求方式" in r.text
    assert r.headers["allow"] == "GET"
    sign_in(api, EXPERTS[0])
    refused = page(api, "/console/zones", 403)
    assert "无权查看此页面" in refused and "以其他身份登录" in refused  # a refusal says why in Chinese too
    assert "An expert may not do this" in refused
    # the console's own fetches, and everything outside it, keep the API's problem+json
    r = api.client.get("/console/no-such-page", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = api.client.get("/zones/not-a-zone-id", headers=api.headers(BUREAU))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    for path in ("/consolefoo", "/console.json"):  # beside the console, not in it
        r = api.client.get(path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", path


def test_a_view_stopped_is_a_503_page_under_the_console(api: Api) -> None:
    from projections.runner import ViewFailure

    fill_demo(api)
    sign_in(api, INSPECTOR)
    runner = api.client.app.state.container.runner  # type: ignore[attr-defined]
    head = api.position()
    runner.positions["zones"] -= 1  # as if the view stopped before the client's last write
    runner.failures["zones"] = ViewFailure("zones", head, "z", "Applied", "ValueError: test")
    try:
        r = api.client.get("/console/zones", headers={"Zonecase-After": str(head)})
    finally:
        del runner.failures["zones"]
        runner.positions["zones"] += 1
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html"), r.text[:300]
    assert "查询视图" in r.text and "<code>views_unavailable</code>" in r.text and f"stopped on event {head}" in r.text


def test_signing_in_from_a_deep_link_opens_the_page_asked_for_and_only_a_console_page(api: Api) -> None:
    ids = fill_demo(api)
    asked = f"/console/dynamic?year=2021&as_of=2022-03-01#{ids['granted']}".split("#")[0]
    r = api.client.get(asked, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?" + urlencode({"next": asked})
    form = page(api, r.headers["location"])
    assert f'name="next" value="{asked.replace("&", "&amp;")}"' in form
    token = api.headers(INSPECTOR)["Authorization"].removeprefix("Bearer ")
    r = api.client.post("/console/sign-in", data={"token": token, "next": asked}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == asked
    for elsewhere in (
        "https://evil.example/console/zones",
        "//evil.example/console/",
        "/console/../zones",
        "/zones",
        "/console\\..\\x",
        "javascript:alert(1)",
    ):
        api.client.cookies.clear()
        r = api.client.post("/console/sign-in", data={"token": token, "next": elsewhere}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/zones", elsewhere
        assert 'name="next"' not in page(api, "/console/sign-in?" + urlencode({"next": elsewhere}))
    r = api.client.post("/console/sign-in", data={"token": "bad", "next": asked}, follow_redirects=False)
    assert r.status_code == 401 and 'name="next"' in r.text  # a mistyped token keeps where it was going
