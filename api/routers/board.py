"""The public notice board (公示栏), server-rendered: every notice and circular readable without JavaScript, each
with a button that verifies it in the visitor's browser (``web/verify.js``) against the signed tree heads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from api.deps import ServicesDep
from api.deps import read
from api.errors import ApiProblem
from api.routers.queries import notice_board
from api.routers.queries import public_answer
from audit.public import public_record
from domain.values import SHANGHAI
from projections.history import rank_of

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
WEB = Path(__file__).resolve().parents[2] / "web"  # the browser's files: verify.js, board.js, board.css

# No inline script or style anywhere on the board: everything it runs or draws comes from /web/.
BOARD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SCOPES = {"creation_qualification": "取消创建资格 creation qualification cancelled", "title": "撤销称号 title revoked"}
GROUNDS = {
    "statistics_duty": "不履行统计义务 statistics duty not fulfilled",
    "concealment": "隐瞒事实 concealment",
    "fraud": "弄虚作假 fraud",
}
OUTCOMES = {
    "in_force": "公示中 in notice",
    "granted": "已授予 granted",
    "reassess": "重新评估 sent back for reassessment",
    "rejected": "不予授予 rejected",
}


def shanghai(instant: str | None) -> str:
    """An ISO instant as people read it here: Asia/Shanghai, to the minute."""
    if not instant:
        return "—"
    return datetime.fromisoformat(instant).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M (+08:00)")


templates.env.filters["shanghai"] = shanghai


@router.get("/board", response_class=HTMLResponse)
async def board(request: Request, c: ServicesDep) -> Response:
    """The public notice board (公示栏): notices in force and past and the revocation circulars, latest first, in
    Chinese and English; printable; no objector data. Each item can be verified in the browser. Kept and sent with
    an ``ETag`` that changes when it may (304 for ``If-None-Match``)."""

    def render() -> tuple[bytes, str]:
        items = notice_board(c, limit=1000, offset=0)
        key_id = c.checkpoints.key.key_id if c.checkpoints is not None else None
        context = {
            "items": items,
            "in_force": [i for i in items if i["kind"] == "notice" and i["in_force"]],
            "past": [i for i in items if i["kind"] == "notice" and not i["in_force"]],
            "circulars": [i for i in items if i["kind"] == "circular"],
            "key_id": key_id,
            "scopes": SCOPES,
            "grounds": GROUNDS,
            "outcomes": OUTCOMES,
        }
        page = templates.TemplateResponse(request, "board.html", context)
        return bytes(page.body), "text/html; charset=utf-8"

    return await public_answer(request, c, render, BOARD_HEADERS)


@router.get("/board/record")
def record(c: ServicesDep, zone_id: UUID, seq: Annotated[int, Query(ge=1, le=10**9)]) -> dict[str, Any]:
    """A public act exactly as recorded — a notice's publication (Publicized) or a revocation with its circular —
    in the export's format (``docs/record-format.md``), so that anyone can recompute its hash."""
    with read(c, "history") as tx:
        found = rank_of(tx, str(zone_id), seq)
    out = public_record(c.app, zone_id, seq, found[1]) if found else None
    if out is None:
        raise ApiProblem(404, "not_found", f"No public notice or circular is event {seq} of zone {zone_id}.")
    return out
