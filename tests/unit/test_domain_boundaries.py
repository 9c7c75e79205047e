"""Domain modules know no infrastructure: no HTTP, no database or Kafka driver, no fault classification."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = sorted(ROOT.glob("services/*/*/domain/*.py"))
FORBIDDEN = (
    "fastapi",
    "starlette",
    "pymongo",
    "aiokafka",
    "faststream",
    "hoso.problems",
    "hoso.faults",
    "hoso.mongo",
    "hoso.versioned",
    "hoso.outbox",
    "hoso.store",
    "hoso.changes",
)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_service_has_domain_modules() -> None:
    assert {p.parts[-4] for p in DOMAIN} >= {"intake", "review", "notify", "records"}


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_domain_module_imports_no_infrastructure(path: Path) -> None:
    leaks = sorted(n for n in imported(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))
    assert not leaks, f"{path.relative_to(ROOT)} imports {leaks}"


SERVICES = sorted(p for p in ROOT.glob("services/*/*/**/*.py") if "/domain/" not in str(p))
# What only the persistence port's adapters may know of: which server it is, and its drivers' raw commands.
BACKEND_NAMES = ("ferretdb", "FerretDBAdapter", "MongoDBAdapter", "buildInfo", "id_lookups_only", "ChangeLog")


def test_no_service_module_branches_on_the_server_it_talks_to() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in SERVICES
        for name in BACKEND_NAMES
        if name in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_no_service_imports_the_development_package() -> None:
    # hoso_dev (demo client, development keys, mail sink) is never part of a service's image.
    leaks = [
        str(path.relative_to(ROOT))
        for path in sorted(ROOT.glob("services/*/*/**/*.py"))
        if any(n == "hoso_dev" or n.startswith("hoso_dev.") for n in imported(path))
    ]
    assert leaks == []
    for service in ("intake", "review", "notify", "records", "portal"):
        assert "hoso-dev" not in (ROOT / "services" / service / "pyproject.toml").read_text(encoding="utf-8")
