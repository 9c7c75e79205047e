"""People at the local identity provider for the suites: a fresh applicant per walkthrough, made through Keycloak's
admin REST API, and the agencies' officers from the realm's demo accounts. The suites sign in there (password grant
of the local realm's scripts client) and the services verify what Keycloak signed, as in production."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hoso_dev.walkthrough import Walkthrough, identity_person

from hoso.auth import Role

SERVICE_CLIENT = "hoso"  # its client roles are Hoso's roles


@dataclass
class IdentityProvider:
    issuer: str
    """The realm's issuer, e.g. http://127.0.0.1:18180/realms/hoso."""
    admin_password: str
    _admin_token: tuple[str, float] = field(default=("", 0.0), repr=False)

    @classmethod
    def from_environment(cls) -> IdentityProvider:
        issuer = os.environ.get("HOSO_OIDC_ISSUER")
        secret = os.environ.get("HOSO_KEYCLOAK_ADMIN_PASSWORD_FILE")
        if not issuer or not secret or not Path(secret).is_file():
            pytest.fail(
                "Keycloak is not configured: run the tests with `make test` (it starts Keycloak and sets "
                "HOSO_OIDC_ISSUER and HOSO_KEYCLOAK_ADMIN_PASSWORD_FILE)",
                pytrace=False,
            )
        return cls(issuer=issuer.rstrip("/"), admin_password=Path(secret).read_text().strip())

    @property
    def _server(self) -> str:
        return self.issuer.split("/realms/")[0]

    @property
    def _realm(self) -> str:
        return self.issuer.rsplit("/", 1)[1]

    def _admin(self, method: str, path: str, expect: tuple[int, ...], **kw: Any) -> httpx.Response:
        token, until = self._admin_token
        if time.monotonic() >= until:
            answer = httpx.post(
                f"{self._server}/realms/master/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                      "password": self.admin_password},
                timeout=15,
            )  # fmt: skip
            answer.raise_for_status()
            body = answer.json()
            token = body["access_token"]
            self._admin_token = (token, time.monotonic() + float(body["expires_in"]) / 2)
        answer = httpx.request(
            method,
            f"{self._server}/admin/realms/{self._realm}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=15,
            **kw,
        )
        if answer.status_code not in expect:
            raise AssertionError(f"Keycloak admin {method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer

    def new_user(
        self, username: str, *, role: Role, full_name: str, email: str, attributes: dict[str, str] | None = None
    ) -> str:
        """Create an account with one Hoso role; returns its password."""
        password = secrets.token_urlsafe(16)
        first, _, last = full_name.rpartition(" ")
        self._admin(
            "POST",
            "/users",
            (201,),
            json={
                "username": username,
                "enabled": True,
                "email": email,
                "emailVerified": True,
                "firstName": last,
                "lastName": first or last,
                "attributes": {"full_name": [full_name]} | {k: [v] for k, v in (attributes or {}).items()},
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            },
        )
        user_id = self._admin("GET", "/users", (200,), params={"username": username, "exact": "true"}).json()[0]["id"]
        client_id = self._admin("GET", "/clients", (200,), params={"clientId": SERVICE_CLIENT}).json()[0]["id"]
        grant = self._admin("GET", f"/clients/{client_id}/roles/{role.value}", (200,)).json()
        self._admin("POST", f"/users/{user_id}/role-mappings/clients/{client_id}", (204,), json=[grant])
        return password

    def sign_in(self, walk: Walkthrough) -> None:
        """The walkthrough's people, signed in here: a new company for the applicant (its own tax code and mailbox,
        so no two walkthroughs share a recipient) and the agency's demo officers."""
        username = f"congty.{walk.run}".lower()
        email = f"{username}@example.vn"
        tax_code = f"{secrets.randbelow(10**10):010d}"
        password = self.new_user(
            username,
            role=Role.APPLICANT,
            full_name="Công ty Cổ phần Năng lượng Xanh Việt",
            email=email,
            attributes={"tax_code": tax_code},
        )
        walk.applicant = identity_person(self.issuer, username, password)
        walk.sign_in_desk(self.issuer)
