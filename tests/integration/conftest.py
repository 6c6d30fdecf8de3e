"""Fixtures of the integration tests: a copy of the store made with the code before the layers moved, an export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .exports import make_export

V1_STORE = Path(__file__).resolve().parents[1] / "data" / "v1-store.sqlite"


@pytest.fixture
def store_copy(tmp_path: Path) -> Path:
    """The v1 store copied to a folder of its own (the views are made beside it)."""
    folder = tmp_path / "store"
    folder.mkdir()
    copy = folder / V1_STORE.name
    shutil.copyfile(V1_STORE, copy)
    return copy


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export of ``exports.make_export`` (tests change copies of it, never it)."""
    return make_export(tmp_path_factory.mktemp("export"))
