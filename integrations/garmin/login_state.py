"""The Garmin login's visible state and its 429 cooldown, kept in `ConnectedAccount.meta` (no secrets):
`GarminMeta.login`, `.cooldown_until` and `.cooldown_seconds` (account_meta.py).

Garmin answers repeated logins with 429s that last hours, and each retry extends the block, so after
a 429 the Connect button stays disabled: 2 hours, doubling on each further 429, at most 24 hours.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from fitsync import account_meta
from fitsync.models import ConnectedAccount, Credential, Provider

from .account_meta import GarminMeta, Login

RUNNING, NEEDS_MFA, FAILED, DONE = "running", "needs_mfa", "failed", "done"
FIRST_COOLDOWN = timedelta(hours=2)
LONGEST_COOLDOWN = timedelta(hours=24)
# A login job that has said nothing for this long died (worker killed, queue lost the task).
RUNNING_STALE_AFTER = timedelta(minutes=5)
STALE_MESSAGE = "The sign-in did not finish (the background worker may be down). Start again."


@dataclass(frozen=True)
class LoginState:
    state: str = ""
    message: str = ""

    @property
    def is_running(self) -> bool:
        return self.state == RUNNING

    @property
    def needs_mfa(self) -> bool:
        return self.state == NEEDS_MFA


def set_login(account: ConnectedAccount, state: str, message: str) -> None:
    account_meta.write(account, GarminMeta, login=Login(state, message, timezone.now()))


def login_state(account: ConnectedAccount | None) -> LoginState:
    login = account_meta.read(account, GarminMeta).login or Login()
    if login.state == RUNNING and login.at and timezone.now() - login.at > RUNNING_STALE_AFTER:
        return LoginState(FAILED, STALE_MESSAGE)
    return LoginState(login.state, login.message)


# --- the handover of a password or MFA state to the login job -----------------------------------------
def wipe_expired_handovers(account_id: int | None = None) -> int:
    """Erase password/MFA handovers past their expiry (of every Garmin account, or of one).

    The login job wipes what it takes; this wipes what no worker took, so a password never outlives its
    two minutes in the database. One conditional UPDATE: a handover written meanwhile is newer and stays.
    """
    now = timezone.now()
    expired = Q(pending_expires_at__lte=now) | (Q(pending_expires_at__isnull=True) & ~Q(pending_blob=""))
    rows = Credential.objects.filter(expired, account__provider=Provider.GARMIN)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    return rows.update(pending_blob="", pending_expires_at=None, updated_at=now)


# --- the 429 cooldown ------------------------------------------------------------------------------
def cooldown_until(account: ConnectedAccount | None) -> datetime | None:
    """When Connect may be pressed again after Garmin's 429, or None when it may be now."""
    until = account_meta.read(account, GarminMeta).cooldown_until
    return until if until and until > timezone.now() else None


def start_cooldown(account: ConnectedAccount) -> timedelta:
    """Block logins after a 429: 2 h, then twice the last block (at most 24 h) if 429s keep coming."""
    meta = account_meta.read(account, GarminMeta)
    last, last_ended = timedelta(seconds=meta.cooldown_seconds), meta.cooldown_until
    recent = last and last_ended and timezone.now() - last_ended < LONGEST_COOLDOWN
    length = min(LONGEST_COOLDOWN, last * 2) if recent else FIRST_COOLDOWN
    until = timezone.now() + length
    account_meta.write(account, GarminMeta, cooldown_until=until, cooldown_seconds=int(length.total_seconds()))
    return length


def describe(length: timedelta) -> str:
    hours, rest = divmod(int(length.total_seconds()), 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{max(minutes, 1)} min"
