"""The agencies' officers by name and role, from the identity provider's directory (Keycloak's admin REST API).

The desk shows officers by name (an assignee, who acted on a step) and lets a leader choose a specialist of their
agency. The portal's client reads the directory with its own service account (client credentials, the realm's
`view-users` and `view-clients` roles), and keeps what it read for `ttl` seconds. When the directory cannot be
read the desk still works: officers are shown by their account id and the assignee is typed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from hoso.auth import OFFICER_ROLES, Role
from hoso.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Officer:
    id: str
    name: str
    roles: frozenset[str]
    agency: str


class DirectoryUnavailable(Exception):
    pass


class OfficerDirectory:
    def __init__(
        self,
        *,
        issuer: str,
        metadata_url: str | None,
        client_id: str,
        client_secret: str,
        service_client_id: str,
        http: httpx.AsyncClient,
        ttl: float = 300.0,
    ) -> None:
        # Reached where the discovery document is (in compose, the provider's address inside the network).
        server, _, realm = issuer.rstrip("/").rpartition("/realms/")
        if metadata_url:
            server = metadata_url.split("/realms/", 1)[0]
        self._token_url = f"{server}/realms/{realm}/protocol/openid-connect/token"
        self._admin = f"{server}/admin/realms/{realm}"
        self._client_id = client_id
        self._client_secret = client_secret
        self._service_client_id = service_client_id
        self._http = http
        self._ttl = ttl
        self._lock = asyncio.Lock()
        self._officers: dict[str, Officer] = {}
        self._read_at = float("-inf")
        self._token: tuple[str, float] = ("", 0.0)

    async def officers(self, agency: str) -> list[Officer]:
        """The officers of `agency`, by name."""
        everyone = await self._all()
        return sorted((o for o in everyone.values() if o.agency == agency), key=lambda o: o.name)

    async def name_of(self, officer_id: str) -> str | None:
        try:
            found = (await self._all()).get(officer_id)
        except DirectoryUnavailable:
            return None
        return found.name if found else None

    async def names(self) -> dict[str, str]:
        """Every officer's id and name; empty when the directory cannot be read (the desk then shows ids)."""
        try:
            return {i: o.name for i, o in (await self._all()).items()}
        except DirectoryUnavailable:
            return {}

    async def _all(self) -> dict[str, Officer]:
        async with self._lock:
            if time.monotonic() - self._read_at > self._ttl:
                try:
                    self._officers = await self._read()
                except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
                    log.warning("portal.directory_unavailable", error=f"{type(exc).__name__}: {exc}")
                    # Asked again in a minute rather than at every page.
                    self._read_at = time.monotonic() - self._ttl + 60
                    raise DirectoryUnavailable(str(exc)) from exc
                self._read_at = time.monotonic()
            return self._officers

    async def _access_token(self) -> str:
        token, until = self._token
        if token and time.monotonic() < until:
            return token
        answer = await self._http.post(
            self._token_url,
            data={"grant_type": "client_credentials"},
            auth=(self._client_id, self._client_secret),
        )
        answer.raise_for_status()
        body = answer.json()
        self._token = (str(body["access_token"]), time.monotonic() + float(body["expires_in"]) / 2)
        return self._token[0]

    async def _get(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {await self._access_token()}"}
        answer = await self._http.get(f"{self._admin}{path}", params=params, headers=headers)
        answer.raise_for_status()
        return answer.json()

    async def _read(self) -> dict[str, Officer]:
        [client] = await self._get("/clients", clientId=self._service_client_id)
        found: dict[str, dict[str, Any]] = {}
        roles: dict[str, set[str]] = {}
        # The agency's officers, and the council members who take part on its appraisal councils.
        for role in sorted(r.value for r in OFFICER_ROLES | {Role.COUNCIL_MEMBER}):
            first = 0
            while True:
                users = await self._get(
                    f"/clients/{client['id']}/roles/{role}/users", briefRepresentation="false", first=first, max=500
                )
                for user in users:
                    found[user["id"]] = user
                    roles.setdefault(user["id"], set()).add(role)
                if len(users) < 500:
                    break
                first += 500
        officers = {}
        for user_id, user in found.items():
            attributes = user.get("attributes") or {}
            agency = (attributes.get("agency") or [None])[0]
            if not agency:
                continue
            name = (attributes.get("full_name") or [None])[0] or " ".join(
                p for p in (user.get("lastName"), user.get("firstName")) if p
            )
            officers[user_id] = Officer(
                id=user_id, name=name or user.get("username", user_id), roles=frozenset(roles[user_id]), agency=agency
            )
        return officers
