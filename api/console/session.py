"""Signing in to the console: a bearer token kept in an ``HttpOnly; SameSite=Strict`` cookie (``Secure`` outside
development) for as long as the token is valid; the same checks as the API's bearer header (``api.deps``). Who
may look: the bureau, the leading group, inspectors, and applicants (their own zones only); experts and the
public see a 403 page. Nothing in the console changes the record: its only forms set and clear this cookie."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
from fastapi import APIRouter
from fastapi import FastAPI
from fastapi import Form
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import RedirectResponse
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from api.console import fmt
from api.console import words
from api.deps import Principal
from api.deps import principal_of
from api.deps import require_roles
from api.errors import PROBLEM
from api.errors import ApiProblem

COOKIE = "zonecase_console"
READERS = ("bureau", "leading_group", "inspector", "applicant")
SEE_ALL = ("bureau", "leading_group", "inspector")
ROLE_WORDS = {
    "bureau": "市工信局 bureau",
    "leading_group": "领导小组 leading group",
    "inspector": "督查 inspector",
    "applicant": "申报单位 applicant",
    "expert": "专家 expert",
    "public": "公众 public",
    "system": "系统 system",
}
# The board's policy, and forms may post to the console itself (the sign-in and sign-out, nothing else).
CONSOLE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates" / "console")
for name in ("num", "pct", "yuan", "shanghai", "short_hash", "lag", "count"):
    templates.env.filters[name] = getattr(fmt, name)
templates.env.filters["measure"] = lambda value, name: fmt.measure(name, value)
templates.env.globals["role_words"] = ROLE_WORDS

router = APIRouter(prefix="/console", include_in_schema=False)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A console page with the console's security headers."""
    viewer = getattr(request.state, "console_viewer", None)
    page = templates.TemplateResponse(request, name, {"viewer": viewer, **context}, status_code=status)
    page.headers.update(CONSOLE_HEADERS)
    return page


def viewer(request: Request) -> Principal:
    """The signed-in reader (401, shown as the sign-in page, without a valid cookie; 403 for other roles)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise ApiProblem(401, "unauthorized", "Not signed in.")
    principal = principal_of(request, token)
    request.state.console_viewer = principal
    require_roles(principal, *READERS)
    return principal


def sees_all(principal: Principal) -> bool:
    """Whether the reader sees every zone (not only its own organisation's)."""
    return principal.role in SEE_ALL


def cookie_scope(request: Request) -> dict[str, Any]:
    """Where the console's cookie holds and who may read it: set and cleared alike (a cookie is cleared only with
    the path and flags it was set with); secure outside development."""
    return {
        "path": "/console",
        "httponly": True,
        "samesite": "strict",
        "secure": request.app.state.settings.env != "development",
    }


def onward(target: str | None) -> str | None:
    """Where to go after signing in, if it is a console page of this site (``/console/…``: never another site, a
    scheme-relative ``//…``, a backslash or a ``..`` step), else None."""
    if not target or len(target) > 2000 or "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or ".." in parts.path.split("/"):
        return None
    return target


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, then: Annotated[str | None, Query(alias="next", max_length=2000)] = None
) -> Response:
    """The sign-in page: a token, pasted or handed over by the deployment's single sign-on; ``next``: the console
    page asked for before signing in, opened afterwards."""
    return render(request, "signin.html", {"error": None, "next": onward(then)})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    token: Annotated[str, Form(max_length=8192)],
    then: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """Checks the token as the API would and keeps it in the cookie until it expires; then opens the page asked
    for before (``next``, a console page only) or the zones."""
    token = token.strip()
    try:
        principal = principal_of(request, token)
        claims = request.app.state.tokens.claims(token)
    except (ApiProblem, jwt.PyJWTError) as e:
        detail = e.detail if isinstance(e, ApiProblem) else str(e)
        return render(request, "signin.html", {"error": detail, "next": onward(then)}, status=401)
    default = "/console/zones" if principal.role in READERS else "/console/"
    response = RedirectResponse(onward(then) or default, status_code=303)
    response.set_cookie(COOKIE, token, max_age=max(1, int(claims["exp"] - time.time())), **cookie_scope(request))
    response.headers.update(CONSOLE_HEADERS)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    """Clears the cookie and goes back to the sign-in page."""
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(COOKIE, **cookie_scope(request))
    response.headers.update(CONSOLE_HEADERS)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The console's front door: the zones for a reader, else sign-in."""
    viewer(request)
    return RedirectResponse("/console/zones", status_code=303, headers=CONSOLE_HEADERS)


def in_console(path: str) -> bool:
    """Whether ``path`` is the console's (``/console`` and below it, not ``/consolefoo``)."""
    return path == "/console" or path.startswith("/console/")


def wants_json(request: Request) -> bool:
    """Whether the request asks for JSON (the verify badge's fetches), not a page."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def install(app: FastAPI) -> None:
    """Under ``/console`` a problem is a page, whatever raised it — a refusal, a zone or document not found, a query
    the API refuses, a view or the store unavailable, a page that does not exist: not signed in (or the token
    expired) → the sign-in page; anything else → a page saying so in both languages (中文 first, by the problem's
    stable ``code``; the API's detail beside it), with its status and its ``Retry-After`` or ``Allow``. Elsewhere,
    and for the console's own JSON fetches (``Accept: application/json``), the API's problem+json as before. Call
    it after ``api.errors.install``: it wraps the handlers installed there."""
    for kind, previous in list(app.exception_handlers.items()):
        app.add_exception_handler(kind, _as_page(previous))


def _recognise(request: Request) -> None:
    """Who is signed in, for the page's header, when the problem came before the page's own check (no such page, a
    path or query refused): nobody if the cookie's token does not pass."""
    token = request.cookies.get(COOKIE)
    if token and getattr(request.state, "console_viewer", None) is None:
        try:
            request.state.console_viewer = principal_of(request, token)
        except (ApiProblem, jwt.PyJWTError):
            pass


def _as_page(
    previous: Callable[[Request, Any], Response | Awaitable[Response]],
) -> Callable[[Request, Any], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        answer = previous(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        if (
            not isinstance(answer, Response)  # a WebSocket's handler answers nothing
            or not in_console(request.url.path)
            or wants_json(request)
            or answer.media_type != PROBLEM
            or not isinstance(answer.body, bytes)
        ):
            return answer  # the API's problem+json: also the console's own fetches
        problem = json.loads(answer.body)
        if answer.status_code == 401:  # sign in, then back to the page asked for
            asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            back = onward(asked) if request.method == "GET" else None
            where = "/console/sign-in" + (f"?{urlencode({'next': back})}" if back else "")
            response = RedirectResponse(where, status_code=303, headers=CONSOLE_HEADERS)
            if request.cookies.get(COOKIE):  # expired or no longer valid: forget it
                response.delete_cookie(COOKIE, **cookie_scope(request))
            return response
        _recognise(request)
        context = {
            "status": answer.status_code,
            "code": problem.get("code", ""),
            "explained": words.PROBLEMS.get(problem.get("code", ""), words.PROBLEM_OTHERWISE),
            "detail": problem.get("detail", ""),
        }
        page = render(request, "problem.html", context, status=answer.status_code)
        for name in ("retry-after", "allow"):
            if name in answer.headers:
                page.headers[name] = answer.headers[name]
        return page

    return handler
