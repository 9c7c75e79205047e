"""The portal in a real browser: Debian's chromium driven by Playwright, people signed in at the real Keycloak.

Every page a test looks at is checked with axe-core (no serious or critical violation) and kept as a screenshot
under .local/screenshots/<test>/ for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from hoso_dev.walkthrough import Walkthrough
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.platform import Platform, walk_on

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".local" / "screenshots"
CHROMIUM = os.environ.get("HOSO_CHROMIUM", "/usr/bin/chromium")
# As root, without a sandbox; no background connections (this machine's network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERIOUS = {"serious", "critical"}
_axe = Axe()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"chromium is not installed at {CHROMIUM}: `make deps` installs Debian's chromium", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def issuer() -> str:
    configured = os.environ.get("HOSO_OIDC_ISSUER")
    if not configured:
        pytest.fail("Keycloak is not configured: run the tests with `make test` (it starts Keycloak)", pytrace=False)
    return configured


@dataclass
class Visitor:
    """One person at the portal, in a browser of their own; `look` checks and keeps the page they see."""

    page: Page
    context: BrowserContext
    base: str
    folder: Path
    seen: list[str] = field(default_factory=list)
    checker: Page | None = None
    """Where axe runs when this person's browser runs no JavaScript: the same page's HTML, with scripts."""

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def look(self, name: str) -> Page:
        """Check the page with axe-core and keep its screenshot; a serious or critical violation fails the test."""
        self.page.wait_for_load_state("load")
        self.seen.append(name)
        self.page.screenshot(path=str(self.folder / f"{len(self.seen):02d}-{name}.png"), full_page=True)
        checked = self.page
        if self.checker is not None:
            markup = self.page.content().replace("<head>", f'<head><base href="{self.base}/">', 1)
            self.checker.set_content(markup, wait_until="load")
            checked = self.checker
        results = _axe.run(checked)
        serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
        summary = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in serious
        ]
        assert not summary, f"accessibility violations on {name} ({self.page.url}):\n" + "\n".join(summary)
        return self.page

    def sign_in(self, username: str, password: str = "hoso-demo") -> None:
        """On the identity provider's page (where the portal sent the browser), sign in."""
        self.page.wait_for_selector("#username")
        self.look("sign-in")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#kc-login")
        self.page.wait_for_url(re.compile(re.escape(self.base) + ".*"))


def _visitor(
    chromium: Browser, platform: Platform, request: pytest.FixtureRequest, name: str, **options: Any
) -> Iterator[Visitor]:
    folder = SHOTS / re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)[:80] / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    context = chromium.new_context(locale="vi-VN", **({"viewport": {"width": 1200, "height": 900}} | options))
    context.set_default_timeout(30_000)
    page = context.new_page()
    checking = chromium.new_context(locale="vi-VN") if options.get("java_script_enabled") is False else None
    checker = checking.new_page() if checking is not None else None
    yield Visitor(page=page, context=context, base=platform.gateway, folder=folder, checker=checker)
    context.close()
    if checking is not None:
        checking.close()


@pytest.fixture
def visitor(chromium: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Visitor]:
    """A person in a fresh browser (no session, no cookies)."""
    yield from _visitor(chromium, platform, request, "visitor")


@pytest.fixture
def phone_user(chromium: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Visitor]:
    """A person on a phone: a narrow screen, touch, a phone's pixel ratio."""
    yield from _visitor(
        chromium, platform, request, "phone", viewport={"width": 390, "height": 844}, device_scale_factor=2,
        is_mobile=True, has_touch=True,
    )  # fmt: skip


@pytest.fixture
def no_script_user(chromium: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Visitor]:
    """A person whose browser runs no JavaScript: every step must still work."""
    yield from _visitor(chromium, platform, request, "no-javascript", java_script_enabled=False)


@pytest.fixture
def passer_by(chromium: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Visitor]:
    """Someone else, in another browser (for what the public sees)."""
    yield from _visitor(chromium, platform, request, "passer-by")


@pytest.fixture
def desk(platform: Platform, issuer: str) -> Iterator[Walkthrough]:
    """The company's demo account and BNNMT's officers, signed in at Keycloak, acting through the API."""
    for walk in walk_on(platform):
        walk.sign_in_at(
            issuer,
            applicant="congty.demo",
            reception="tiepnhan.bnnmt",
            specialist="chuyenvien.bnnmt",
            leader="lanhdao.bnnmt",
            council_member="hoidong.bnnmt",
        )
        yield walk
