"""Document storage out of space or read-only (issue 12, finding 9): a clear 507 / 503, no partial file left behind,
later uploads work once the disk does, and /ready says why meanwhile."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ..helpers import SONGSHAN
from .conftest import Api
from .conftest import refused


def documents_dir(api: Api) -> Path:
    return Path(api.client.app.state.documents.root)  # type: ignore[attr-defined]


def debris(api: Api) -> list[Path]:
    return [p for p in documents_dir(api).rglob(".upload-*")]


def upload(api: Api, content: bytes) -> Any:
    return api.request("POST", "/documents", SONGSHAN, files={"file": ("a.pdf", content, "application/pdf")})


def test_a_full_disk_answers_507_leaves_no_debris_and_ready_says_why(api: Api, monkeypatch: Any) -> None:
    upload(api, b"%PDF-1.4 first")  # the directory exists
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    refused(api, upload(api, b"%PDF-1.4 " + b"x" * 100_000), 507, "storage_full")
    assert debris(api) == []
    ready = api.get("/ready", None)
    assert ready.status_code == 503, ready.text
    assert ready.json()["documents"] == "storage_full"
    monkeypatch.setattr(os, "fsync", real_fsync)  # space is freed
    r = upload(api, b"%PDF-1.4 small")
    assert r.status_code == 201, r.text
    assert api.get("/ready", None).status_code == 200


def test_a_read_only_directory_answers_503_and_ready_says_why(api: Api, monkeypatch: Any) -> None:
    upload(api, b"%PDF-1.4 first")
    real_mkstemp = tempfile.mkstemp

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    r = upload(api, b"%PDF-1.4 second")
    refused(api, r, 503, "storage_read_only")
    assert int(r.headers["retry-after"]) > 0
    ready = api.get("/ready", None)
    assert ready.status_code == 503 and ready.json()["documents"] == "storage_read_only", ready.text
    monkeypatch.setattr(tempfile, "mkstemp", real_mkstemp)
    assert upload(api, b"%PDF-1.4 second").status_code == 201
    assert debris(api) == []


@pytest.mark.parametrize("code", [errno.EACCES])
def test_a_directory_it_may_not_write_is_read_only_too(api: Api, monkeypatch: Any, code: int) -> None:
    def denied(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    refused(api, upload(api, b"%PDF-1.4 third"), 503, "storage_read_only")
