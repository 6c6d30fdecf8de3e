"""Property-based tests of the HTTP contract from /openapi.json: no 500s, responses match the schema.

(schemathesis' ``from_fixture`` does not work with this pytest, so the application is built when the
module is collected and closed at exit.)
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import content_type_conformance
from schemathesis.checks import not_a_server_error
from schemathesis.checks import response_schema_conformance

from api.auth import mint_token
from application.settings import Settings
from zonecase.wiring import build
from zonecase.wiring import create_app

from ..helpers import at
from .conftest import SECRET

TOKEN = mint_token(SECRET, sub="u-bureau", role="bureau", org="dg-miit", hours=12)


def _application() -> Any:
    """An application on SQLite; no lifespan runs under the ASGI transport, so it is set up here."""
    root = Path(tempfile.mkdtemp(prefix="zonecase-schemathesis-"))
    settings = Settings(
        database_url=f"sqlite:///{root / 'store.sqlite'}", data_dir=root, jwt_secret=SECRET, allow_time_travel=True
    )
    container = build(settings)
    container.clock.set(at("2021-07-15"))  # type: ignore[attr-defined]
    container.start_views()
    atexit.register(container.close)
    app = create_app(settings, container)
    app.state.container = container
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _application())


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_honours_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
