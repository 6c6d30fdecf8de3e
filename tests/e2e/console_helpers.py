"""The console's tests share these: the demo's zones in the API under test, and signing in as an actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from application.sample import demo
from domain.values import Actor

from .conftest import Api


def fill_demo(api: Api) -> dict[str, str]:
    """The demo's zones (``zonecase demo``) recorded through the application under test, the views caught up;
    returns their ids by status."""
    container = api.client.app.state.container  # type: ignore[attr-defined]
    with sample_documents(api):
        zones = demo(container.app, container.clock)
    container.runner.wait_for(api.position(), timeout=10)
    return {z.status: str(z.id) for z in zones}


@contextmanager
def sample_documents(api: Api) -> Iterator[None]:
    """Commands that reference the sample's documents (``application.sample.doc``), which are never uploaded."""
    app = api.client.app.state.container.app  # type: ignore[attr-defined]
    check, app.document_exists = app.document_exists, None
    try:
        yield
    finally:
        app.document_exists = check


def sign_in(api: Api, actor: Actor) -> Any:
    """Signs in to the console as ``actor`` (the cookie stays in the client); the answer to the sign-in."""
    api.client.cookies.clear()
    token = api.headers(actor)["Authorization"].removeprefix("Bearer ")
    return api.client.post("/console/sign-in", data={"token": token}, follow_redirects=False)


def page(api: Api, path: str, status: int = 200) -> str:
    """A console page's HTML, its status checked."""
    r = api.client.get(path, follow_redirects=False)
    assert r.status_code == status, (r.status_code, r.text[:2000])
    return str(r.text)
