"""Documents: an upload is stamped by the service's clock, like every event (the settable clock in tests)."""

from __future__ import annotations

from ..helpers import SONGSHAN
from .conftest import Api


def test_an_upload_is_stamped_by_the_service_clock(api: Api) -> None:
    api.set_clock("2021-07-15")  # 10:00 Asia/Shanghai
    stored = api.upload(SONGSHAN, "plan.pdf")
    found = api.app.side_tables.get_document(stored["sha256"])
    assert found is not None
    meta, orgs = found
    assert meta.uploaded_at == "2021-07-15T02:00:00+00:00"
    assert (meta.uploaded_by, orgs) == (SONGSHAN.sub, {SONGSHAN.org})
