"""Keyed pseudonyms: stable under one key, unrelated under another, never the value."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pytest

from whatworks.returns.pseudonymise import key_path, load_or_create_key, pseudonym


def test_key_is_created_once_with_private_permissions(tmp_path) -> None:
    key = load_or_create_key(tmp_path)
    assert len(key) == 32
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path) == key
    assert key_path(tmp_path).parent.name == "keys"  # outside the analytics store


def test_pseudonym_is_the_keyed_hmac() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"child\x1f566910", hashlib.sha256).hexdigest()[:20]
    assert pseudonym(key, "child", " 566910 ") == expected
    assert pseudonym(key, "child", "566910") != "566910"
    assert pseudonym(key, "child", "566910") != pseudonym(bytes(32), "child", "566910")
    assert pseudonym(key, "child", "1") != pseudonym(key, "upn", "1")  # kinds never collide


def test_postcodes_are_normalised_before_hashing() -> None:
    key = bytes(32)
    assert pseudonym(key, "postcode", "EG19 7TT") == pseudonym(key, "postcode", "eg197tt")
    with pytest.raises(ValueError):
        pseudonym(key, "name", "Ada")
