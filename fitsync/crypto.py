"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (the first key encrypts, all decrypt).

A value that does not decrypt raises `UnreadableSecret` (an `InvalidToken`, and an `AuthExpired`: the
account has to be connected again): a tampered or foreign ciphertext must never be handed on as if it
were the secret. `fitsync/unreadable.py` finds such values without decrypting anything.
"""

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

from .errors import AuthExpired

PREFIX = "fernet:"
FERNET_VERSION, FERNET_MIN_LENGTH, HMAC_LENGTH = 0x80, 73, 32  # the Fernet token format


class UnreadableSecret(AuthExpired, InvalidToken):
    """A stored secret no key in FIELD_ENCRYPTION_KEYS opens: written under another key, or tampered with."""


UNREADABLE = "fitsync cannot read a stored secret: it was encrypted with a key not in FIELD_ENCRYPTION_KEYS."


def keys() -> tuple[str, ...]:
    if settings.FIELD_ENCRYPTION_KEYS:
        return tuple(settings.FIELD_ENCRYPTION_KEYS)
    # DEBUG only (settings refuse to start without keys otherwise): derive one from SECRET_KEY.
    digest = hashlib.sha256(("fitsync-dev:" + settings.SECRET_KEY).encode()).digest()
    return (base64.urlsafe_b64encode(digest).decode(),)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(keys())


def is_readable(stored: str) -> bool:
    """True when one of our keys sealed this value. Only the token's HMAC is checked (Fernet signs with
    the first half of the key): nothing is decrypted."""
    try:
        token = base64.urlsafe_b64decode(stored.removeprefix(PREFIX).encode())
    except (binascii.Error, ValueError):
        return False
    if len(token) < FERNET_MIN_LENGTH or token[0] != FERNET_VERSION:
        return False
    signed, signature = token[:-HMAC_LENGTH], token[-HMAC_LENGTH:]
    for key in keys():
        signing_key = base64.urlsafe_b64decode(key.encode())[:16]
        if hmac.compare_digest(hmac.new(signing_key, signed, hashlib.sha256).digest(), signature):
            return True
    return False


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
    """A TextField stored encrypted; empty strings and NULL stay as they are.

    A value no key can read raises what `report_unreadable(field, stored)` returns: fitsync.unreadable
    installs one that names the account's service and marks it (it reads the models, which import this).
    """

    report_unreadable = staticmethod(lambda field, stored: UnreadableSecret(UNREADABLE))

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except InvalidToken:
            raise self.report_unreadable(self, value) from None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
