"""The house: each top-level folder is one layer, and a module imports only its own layer or those below."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# From the bottom up. The dossier and the inspection read views, so audit sits above projections; the
# scheduler reads the deadlines view and signs checkpoints; the API serves all of them; the roof builds it all.
LAYERS = ("domain", "application", "projections", "audit", "scheduler", "api", "zonecase")
OUTSIDE = ("tests", "bench")  # not layers of the product: nothing in a layer may import them


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module a file imports, absolute, with its line (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            found.append((node.lineno, ".".join([*base, node.module or ""]).strip(".")))
    return found


def upward_imports(modules: dict[str, list[tuple[int, str]]]) -> list[str]:
    """Each import of a layer above the importing module's own (or of tests/bench), as ``file:line -> module``."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for file, imported in sorted(modules.items()):
        own = rank[file.split("/")[0]]
        for line, module in imported:
            top = module.split(".")[0]
            if top in OUTSIDE or rank.get(top, -1) > own:
                wrong.append(f"{file}:{line} -> {module}")
    return wrong


def the_house() -> dict[str, list[tuple[int, str]]]:
    """Every module of every layer, with what it imports."""
    return {
        str(path.relative_to(ROOT)): imports_of(path)
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
    }


def test_every_layer_is_a_folder_with_modules() -> None:
    house = the_house()
    assert {file.split("/")[0] for file in house} == set(LAYERS)


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports(the_house()) == []


def test_the_check_fails_on_an_upward_import() -> None:
    """The same check on a deliberately wrong import map: the domain reaching up into the application, a
    view reaching into the roof, an audit module into the API, and a service using the tests' helpers."""
    wrong = {
        "domain/zone.py": [(1, "eventsourcing.domain"), (2, "application.service")],
        "projections/zones.py": [(3, "zonecase.wiring")],
        "audit/dossier.py": [(4, "projections.history"), (5, "api.deps")],
        "application/service.py": [(6, "domain.zone"), (7, "tests.helpers")],
        "api/deps.py": [(8, "audit.checkpoints"), (9, "scheduler.service")],
    }
    assert upward_imports(wrong) == [
        "application/service.py:7 -> tests.helpers",
        "audit/dossier.py:5 -> api.deps",
        "domain/zone.py:2 -> application.service",
        "projections/zones.py:3 -> zonecase.wiring",
    ]


def test_relative_imports_are_resolved_before_they_are_judged(tmp_path: Path) -> None:
    module = tmp_path / "projections" / "sneaky.py"
    module.parent.mkdir()
    module.write_text("from . import base\nfrom ..zonecase import wiring\nimport domain.zone\n")
    imported = imports_of(module, root=tmp_path)
    assert imported == [(1, "projections"), (2, "zonecase"), (3, "domain.zone")]
    assert upward_imports({"projections/sneaky.py": imported}) == ["projections/sneaky.py:2 -> zonecase"]


WEB = ("fastapi", "starlette", "pydantic", "uvicorn")
# Pure libraries the domain may use besides eventsourcing.domain: rfc8785 (JCS canonical JSON, one pure-Python
# module with no dependencies) because the domain hashes every event it records (domain/integrity.py).
DOMAIN_LIBRARIES = ("eventsourcing.domain", "rfc8785")


def foreign_imports(modules: dict[str, list[tuple[int, str]]]) -> list[str]:
    """What a layer may not use at all: the domain only the standard library and ``DOMAIN_LIBRARIES``;
    the web framework and its models only in the API (and the roof that serves it)."""
    wrong = []
    for file, imported in sorted(modules.items()):
        layer = file.split("/")[0]
        for line, module in imported:
            top = module.split(".")[0]
            if layer == "domain" and top not in sys.stdlib_module_names and top != "domain":
                if module not in DOMAIN_LIBRARIES:
                    wrong.append(f"{file}:{line} -> {module}")
            elif top in WEB and layer not in ("api", "zonecase"):
                wrong.append(f"{file}:{line} -> {module}")
    return wrong


def test_the_domain_uses_only_the_standard_library_and_the_web_stays_in_the_api() -> None:
    assert foreign_imports(the_house()) == []
    assert foreign_imports(
        {
            "domain/zone.py": [(1, "eventsourcing.domain"), (2, "eventsourcing.persistence"), (3, "datetime")],
            "domain/integrity.py": [(7, "rfc8785"), (8, "rfc8785.extra"), (9, "orjson")],
            "application/service.py": [(4, "eventsourcing.application"), (5, "pydantic")],
            "api/deps.py": [(6, "fastapi")],
        }
    ) == [
        "application/service.py:5 -> pydantic",
        "domain/integrity.py:8 -> rfc8785.extra",
        "domain/integrity.py:9 -> orjson",
        "domain/zone.py:2 -> eventsourcing.persistence",
    ]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_is_over_600_lines(layer: str) -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / layer).rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert too_long == {}
