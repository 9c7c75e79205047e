"""Attacks on the portal through the gateway: forged forms, session cookies, pages that need signing in, PIN
guessing from behind the portal, and what the portal does not expose."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.platform import Platform

pytestmark = pytest.mark.security


@pytest.fixture
def browser(platform: Platform) -> Iterator[httpx.Client]:
    """A client that keeps cookies, as a browser does, and follows no redirect by itself."""
    with httpx.Client(base_url=platform.gateway, timeout=30) as client:
        yield client


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_the_session_cookie_is_opaque_http_only_and_same_site(browser: httpx.Client) -> None:
    answer = browser.get("/tra-cuu")
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("hoso_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40
    assert "." not in token  # no signed payload: the session lives on the server


def test_a_form_without_its_csrf_token_is_refused(browser: httpx.Client) -> None:
    browser.get("/tra-cuu")
    answer = browser.post("/tra-cuu", data={"code": "BNNMT-261201-0001", "pin": "12345678"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "Biểu mẫu đã hết hiệu lực" in answer.text


def test_a_csrf_token_of_another_session_is_refused(platform: Platform, browser: httpx.Client) -> None:
    with httpx.Client(base_url=platform.gateway, timeout=30) as attacker:
        their_token = csrf_of(attacker.get("/tra-cuu"))
    browser.get("/tra-cuu")
    answer = browser.post("/tra-cuu", data={"code": "BNNMT-261201-0001", "pin": "12345678", "csrf_token": their_token})
    assert answer.status_code == 403


def test_pages_of_a_person_send_anonymous_visitors_to_sign_in(browser: httpx.Client) -> None:
    for path in ("/ho-so", "/thong-bao", "/ho-so/BNNMT-261201-0001", "/tep/0123456789abcdef01234567"):
        answer = browser.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/dang-nhap?next={path}"


def test_signing_in_never_returns_to_another_site(browser: httpx.Client, platform: Platform) -> None:
    answer = browser.get("/dang-nhap", params={"next": "//evil.example/steal"})
    assert answer.status_code == 303
    # The provider is asked to come back to the portal's own callback, and the state remembers "/" only.
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A18080%2Fauth%2Fcallback" in answer.headers["location"]
    assert "evil.example" not in answer.headers["location"]


def test_a_callback_that_belongs_to_no_sign_in_is_refused(browser: httpx.Client) -> None:
    browser.get("/tra-cuu")
    answer = browser.get("/auth/callback", params={"code": "stolen", "state": "guessed"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dang-nhap"


def test_the_portals_health_and_metrics_are_not_public(browser: httpx.Client) -> None:
    for path in ("/health/ready", "/metrics", "/health/live"):
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_an_unknown_page_is_a_page_and_an_unknown_api_route_is_a_problem(browser: httpx.Client) -> None:
    page = browser.get("/khong-co-trang-nay")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = browser.get("/api/v1/khong-co")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


def test_guessing_pins_through_the_portal_is_limited_per_person_however_they_forge_their_address(
    browser: httpx.Client,
) -> None:
    token = csrf_of(browser.get("/tra-cuu"))
    statuses = []
    for n in range(45):
        forged = {"X-Forwarded-For": f"10.0.{n}.1"}  # the gateway appends the real address; the portal uses that
        answer = browser.post(
            "/tra-cuu", data={"code": "BNNMT-261201-0001", "pin": f"{n:08d}", "csrf_token": token}, headers=forged
        )
        statuses.append(answer.status_code)
    # Were the forged addresses believed, each would have a limit of its own and none would be refused.
    assert statuses.count(429) >= 30
    assert set(statuses) <= {404, 429}
    assert "quá nhiều lần" in answer.text
