"""Signing in to the console: a bearer token kept in an ``HttpOnly; SameSite=Strict`` cookie (``Secure`` outside
development) for as long as the token is valid; the same checks as the API's bearer header (``api.deps``). Who
may look: the bureau, the leading group, inspectors, and applicants (their own zones only); experts and the
public see a 403 page. Nothing in the console changes the record: its only forms set and clear this cookie."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from typing import Any

import jwt
from fastapi import APIRouter
from fastapi import FastAPI
from fastapi import Form
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import RedirectResponse
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from api.console import fmt
from api.deps import Principal
from api.deps import principal_of
from api.deps import require_roles
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


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    """The sign-in page: a token, pasted or handed over by the deployment's single sign-on."""
    return render(request, "signin.html", {"error": None})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, token: Annotated[str, Form(max_length=8192)]) -> Response:
    """Checks the token as the API would and keeps it in the cookie until it expires."""
    token = token.strip()
    try:
        principal = principal_of(request, token)
        claims = request.app.state.tokens.claims(token)
    except (ApiProblem, jwt.PyJWTError) as e:
        detail = e.detail if isinstance(e, ApiProblem) else str(e)
        return render(request, "signin.html", {"error": detail}, status=401)
    response = RedirectResponse("/console/zones" if principal.role in READERS else "/console/", status_code=303)
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


def wants_json(request: Request) -> bool:
    """Whether the request asks for JSON (the verify badge's fetches), not a page."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def install(app: FastAPI) -> None:
    """Under ``/console`` a problem is a page: not signed in (or the token expired) → the sign-in page; another
    refusal → a page saying so, with its status. Elsewhere, and for the console's own JSON fetches (``Accept:
    application/json``), the API's problem+json as before."""
    previous: Callable[[Request, Any], Awaitable[Response]] = app.exception_handlers[ApiProblem]  # type: ignore[assignment]

    async def console_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        if not request.url.path.startswith("/console") or wants_json(request):
            return await previous(request, exc)  # the API's problem+json: also the console's own fetches
        if exc.status == 401:
            response = RedirectResponse("/console/sign-in", status_code=303, headers=CONSOLE_HEADERS)
            if request.cookies.get(COOKIE):  # expired or no longer valid: forget it
                response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
            return response
        return render(request, "problem.html", {"status": exc.status, "detail": exc.detail}, status=exc.status)

    app.add_exception_handler(ApiProblem, console_problem)
