"""Local development signing key and tokens: `hoso-dev token` (refused unless local mode is on)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hoso.auth import Role

KEY_FILE = "dev-signing-key.pem"
# The password of the local realm's demo accounts (deploy/keycloak/hoso-realm.json); never a production account's.
DEMO_PASSWORD = "hoso-demo"  # noqa: S105
JWKS_FILE = "jwks.json"


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_dev_keys(state_dir: Path) -> Path:
    """Create the development RSA key and its JWKS under `<state>/keys` once; returns the key folder."""
    folder = state_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    key_path, jwks_path = folder / KEY_FILE, folder / JWKS_FILE
    if key_path.exists() and jwks_path.exists():
        return folder
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": f"hoso-dev-{uuid.uuid4().hex[:8]}", "use": "sig", "alg": "RS256"})
    _atomic_write(key_path, pem, 0o600)
    _atomic_write(jwks_path, json.dumps({"keys": [jwk]}, indent=2).encode(), 0o644)
    return folder


def mint_token(
    state_dir: Path,
    *,
    subject: str,
    roles: list[Role],
    agency: str | None,
    issuer: str,
    audience: str,
    name: str = "",
    title: str = "",
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    folder = ensure_dev_keys(state_dir)
    kid = json.loads((folder / JWKS_FILE).read_text())["keys"][0]["kid"]
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "roles": [r.value for r in roles],
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "name": name or subject,
    }
    if agency:
        claims["agency"] = agency
    if title:
        claims["title"] = title
    if email:
        claims["email"] = email
    if phone:
        claims["phone"] = phone
    if address:
        claims["address"] = {"formatted": address}  # OpenID Connect's address claim
    key = (folder / KEY_FILE).read_bytes()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def password_token(
    issuer: str, username: str, password: str, *, client_id: str = "hoso-scripts", timeout: float = 15.0
) -> str:
    """An access token from the identity provider for a local account (the local realm's scripts client, which
    alone allows the password grant): for scripts and the test suites, never for people."""
    answer = httpx.post(
        f"{issuer.rstrip('/')}/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": client_id, "username": username, "password": password},
        timeout=timeout,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"the identity provider refused {username}: {answer.status_code} {answer.text[:200]}")
    token: str = answer.json()["access_token"]
    return token
