"""The public notice board (公示栏) as the server renders it, on SQLite and PostgreSQL: readable without JavaScript,
bilingual, no objector data, every text escaped, strict security headers; and the public records it verifies."""

from __future__ import annotations

import hashlib

from ..helpers import BUREAU
from ..helpers import INSPECTOR
from ..helpers import NANCHENG
from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import revocation_body
from .test_lifecycle import apply
from .test_lifecycle import object_during_notice
from .test_lifecycle import to_notice
from .test_revocation import granted

HOSTILE = "<script>alert('x')</script> & \"quoted\" 公示"


def test_the_board_shows_notices_and_circulars_without_objector_data(api: Api) -> None:
    zid = granted(api)
    api.set_clock("2022-05-10")
    assert api.post(f"/zones/{zid}/revocation", BUREAU, json=revocation_body(api, "fraud")).status_code == 200
    r = api.get("/board", None)  # public: no token
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert page.index("公示栏") < page.index("Public notice board")  # Chinese first
    assert "撤销通报" in page and "东工信通〔2022〕5号" in page and "弄虚作假 fraud" in page
    assert "往期公示" in page and "松山湖软件和信息技术服务业集聚区" in page
    assert "statistics-audit" not in page  # the evidence is not on the board
    # every item has a verify button naming the event and the tree head it was published under
    assert page.count('class="verify-button"') == 2
    notices = api.get("/notices", None).json()
    for item in notices:
        assert f'data-seq="{item["seq"]}"' in page and f'data-tree-size="{item["tree_head"]["tree_size"]}"' in page
    # strict headers: no inline script or style, no framing, no sniffing
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.split("</head>")[1] and " style=" not in page and "onclick" not in page
    assert api.get("/web/board.css", None).headers["x-content-type-options"] == "nosniff"


def test_the_board_escapes_every_text_and_shows_no_objector(api: Api) -> None:
    zid = str(apply(api, SONGSHAN, "松山湖软件和信息技术服务业集聚区")["id"])
    api.set_clock("2021-09-24")
    to_notice(api, zid, day="2021-09-27")
    object_during_notice(api, zid, SONGSHAN)
    api.set_clock("2021-09-28")
    page = api.get("/board", None).text
    assert "正在公示" in page and "Wang Fang" not in page and "wang@example.org" not in page
    # a notice text is shown as text, never as markup
    zid2 = str(apply(api, NANCHENG, "南城")["id"])
    to_notice(api, zid2, day="2021-09-29", applicant=NANCHENG, text=HOSTILE)
    page = api.get("/board", None).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page and "&amp; &#34;quoted&#34;" in page


def test_the_public_record_of_a_notice_recomputes_to_its_hash(api: Api) -> None:
    zid = granted(api)
    notice = api.get("/notices", None).json()[0]
    record = api.get("/board/record", None, params={"zone_id": zid, "seq": notice["seq"]}).json()
    assert record["topic"] == "domain.zone:Zone.Publicized" and record["version"] == notice["seq"]
    assert record["body"]["data"]["text_sha256"] == hashlib.sha256(notice["text"].encode()).hexdigest()
    history = api.get(f"/zones/{zid}/history", INSPECTOR).json()
    assert record["hash"] == history[notice["seq"] - 1]["hash"]
    # the other events of the zone are not public
    for seq in (1, notice["seq"] + 1):
        r = api.get("/board/record", None, params={"zone_id": zid, "seq": seq})
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert api.get("/board/record", None, params={"zone_id": zid, "seq": 0}).status_code == 422
