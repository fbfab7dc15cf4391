"""Pseudonymisation on import: child identifiers, UPNs and postcodes become keyed HMAC
pseudonyms, so nothing identifying is stored in clear.

The key is per deployment, kept in the data folder's `keys/` folder with 0600 permissions,
outside the analytics store, so the stored data alone cannot be re-identified by hashing
guesses. The same value under the same key always gives the same pseudonym (so a child's
records join across tables and years); a different key gives unrelated pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "pseudonymisation.key"
#: What each pseudonym stands for; kept in the HMAC so a UPN can never equal a child id.
KINDS = ("child", "upn", "postcode", "social worker")


def key_path(data_dir: Path) -> Path:
    """Where the deployment's key lives."""
    return data_dir / "keys" / KEY_FILE


def load_or_create_key(data_dir: Path) -> bytes:
    """The deployment's key, created (32 random bytes, 0600) on first use."""
    path = key_path(data_dir)
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key


def normalise(kind: str, value: str) -> str:
    """The form hashed: postcodes without spaces in capitals; identifiers trimmed."""
    value = value.strip()
    if kind == "postcode":
        return value.replace(" ", "").upper()
    if kind == "upn":
        return value.upper()
    return value


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """A stable pseudonym: the first 20 hex characters (80 bits) of HMAC-SHA256."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of identifier {kind!r}")
    message = f"{kind}\x1f{normalise(kind, value)}".encode()
    return hmac.digest(key, message, hashlib.sha256).hex()[:20]
