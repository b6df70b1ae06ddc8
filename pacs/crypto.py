"""PACS passwords at rest: Fernet under settings.PACS_ENCRYPTION_KEY, or a key derived
from SECRET_KEY when none is set."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):  # noqa: N818 - names the state, not an error kind
    """The stored password was encrypted under another key."""


def _fernet() -> Fernet:
    configured: str | None = settings.PACS_ENCRYPTION_KEY
    material = configured if configured else f"spinelabel-pacs:{settings.SECRET_KEY}"
    key = base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())
    return Fernet(key)


def secret_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def secret_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "the stored PACS password cannot be decrypted (the encryption key changed); "
            "enter it again on the settings page"
        ) from exc
