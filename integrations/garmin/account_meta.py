"""The non-secret Garmin data kept in `ConnectedAccount.meta`: the login's visible state, the 429 cooldown
and the sign-in's age (login_state.py and keepalive.py say what they mean). Read and written through
`fitsync.account_meta`."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Login:
    state: str = ""  # "running" | "needs_mfa" | "failed" | "done"
    message: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class KeepAlive:
    at: datetime | None = None
    ok: bool = True
    message: str = ""


@dataclass(frozen=True)
class GarminMeta:
    display_name: str = ""
    timezone: str = ""
    email: str = ""  # typed at the last login, offered again in the form
    login: Login | None = None
    cooldown_until: datetime | None = None
    cooldown_seconds: int = 0  # the length of the last cooldown, doubled by the next 429
    signed_in_at: datetime | None = None
    signed_in_via: str = ""  # "password" | "token file"
    tokens_refreshed_at: datetime | None = None
    refresh_token_rotates: bool | None = None  # None until a refresh showed whether Garmin hands out a new one
    keep_alive: KeepAlive | None = None
