"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (the first key encrypts, all decrypt).

A value that does not decrypt raises `cryptography.fernet.InvalidToken`: a tampered or foreign
ciphertext must never be handed on as if it were the secret.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        # DEBUG only (settings refuse to start without keys otherwise): derive one from SECRET_KEY.
        digest = hashlib.sha256(("fitsync-dev:" + settings.SECRET_KEY).encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    token = stored.removeprefix(PREFIX)
    return fernet().decrypt(token.encode()).decode()


def rotate(stored: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return PREFIX + fernet().rotate(stored.removeprefix(PREFIX).encode()).decode()


def digest(value: str) -> str:
    """A lookup digest for finding a row by a presented high-entropy secret (random, so unsalted is fine)."""
    return hashlib.sha256(value.encode()).hexdigest()


class EncryptedTextField(models.TextField):
    """A TextField stored encrypted; empty strings and NULL stay as they are."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
