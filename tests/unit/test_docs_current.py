"""The documentation pages stay current with the code: links resolve, and every endpoint they name exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`?\[\s]*)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def served() -> set[tuple[str, str]]:
    found = set()
    for document in (ROOT / "docs/openapi").glob("*.json"):
        for path, operations in json.loads(document.read_text())["paths"].items():
            found.update((method.upper(), re.sub(r"\{[^}]+\}", "{}", path)) for method in operations)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_a_page_resolves(page: Path) -> None:
    targets = [t for t in LINK.findall(page.read_text()) if not re.match(r"[a-z]+://", t)]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing, missing


def test_every_endpoint_the_pages_name_is_served() -> None:
    api = served()
    named = {
        (method, re.sub(r"\{[^}]+\}", "{}", path.rstrip(".,;:")))
        for page in PAGES
        for method, path in ENDPOINT.findall(page.read_text())
    }
    assert len(named) > 30
    assert sorted(named - api) == []


def test_the_readme_is_the_front_door() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in lines[3:6] if line.startswith("make")]
    assert commands == ["make up", "make test"]  # the two commands, at the top
    assert len(lines) < 120  # the rest is in docs/
