"""Tracking PINs: issued once at reception, stored only as a salted scrypt hash, sealed for the applicant's mail.

Review issues a PIN when it receives a dossier and shows it once to the receiving officer. The `dossier.received`
event carries the hash (records answers public tracking with it) and the PIN sealed with the platform's seal key
(Fernet: AES-128-CBC with HMAC-SHA256), so that only notify, which holds the key, can print it on the applicant's
receipt (Form 01). Nothing stores the PIN in clear.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PIN_DIGITS = 8
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SCHEME = "scrypt"
SEAL_KEY_FILE = "pin-seal.key"


class PinSealError(ValueError):
    """A sealed PIN that this key cannot open (another key, or altered)."""


def new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """`scrypt$<salt b64>$<hash b64>`: slow to guess offline, and each dossier has its own salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)
    return f"{_SCHEME}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    if scheme != _SCHEME:
        return False
    candidate = hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)
    return hmac.compare_digest(candidate, digest)


def seal_pin(pin: str, key: str) -> str:
    return Fernet(key.encode()).encrypt(pin.encode()).decode()


def unseal_pin(sealed: str, key: str) -> str:
    try:
        return Fernet(key.encode()).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise PinSealError("the sealed PIN does not open with this key") from exc


def local_seal_key(state_dir: Path) -> str:
    """The development seal key under `<state>/keys`, created once (local mode only)."""
    folder = state_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SEAL_KEY_FILE
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(Fernet.generate_key().decode())
        tmp.chmod(0o600)
        # link() refuses an existing name: when two processes race, both end up with the first one's key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    return path.read_text().strip()
