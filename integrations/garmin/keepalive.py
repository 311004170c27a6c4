"""Staying signed in: a daily refresh of every Garmin sign-in, and how old the sign-in is.

Garmin's DI refresh token lives about 30 days and a refresh hands out a new one (docs/upstream.md,
Garmin Connect). fitsync otherwise refreshes only when it uploads, so after a quiet month the user would
have to sign in with MFA again. Once a day `keep_all_signed_in` refreshes each connected account whose
tokens are older than KEEP_ALIVE_AFTER, through the same single-flight lease as the upload jobs.

Kept in `ConnectedAccount.meta` (account_meta.GarminMeta): signed_in_at, signed_in_via, tokens_refreshed_at,
refresh_token_rotates and the last keep_alive's outcome.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from fitsync import account_meta, jobs
from fitsync.errors import UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Credential, Provider

from .account_meta import GarminMeta, KeepAlive
from .session import garmin_session

log = logging.getLogger(__name__)

KEEP_ALIVE_AFTER = timedelta(hours=20)  # the task runs daily; a refresh by an upload since then counts
REFRESH_TOKEN_LIFETIME = timedelta(days=30)


def keep_all_signed_in() -> str:
    """Refresh every connected Garmin sign-in; an account that fails is recorded and the rest still run."""
    accounts = ConnectedAccount.objects.filter(provider=Provider.GARMIN, status=AccountStatus.CONNECTED)
    outcomes = jobs.for_each(accounts, keep_alive, on_failure=keep_alive_failed)
    return f"kept {outcomes.count(True)} Garmin sign-ins alive, {outcomes.count(False)} failed"


def keep_alive(account: ConnectedAccount) -> bool:
    """One account's refresh, its outcome noted for the Garmin page."""
    _record(account, ok=True, message=keep_signed_in(account))
    return True


def keep_alive_failed(account: ConnectedAccount, exc: Exception) -> bool:
    """Shown on the Garmin page, not as an error on the account's card: the account still syncs (an
    upload refreshes the tokens too) and a refresh Garmin refused already marked it (garmin_session)."""
    if isinstance(exc, UpstreamError):
        log.warning("garmin account %s: keep-alive failed: %s", account.pk, exc)
    else:
        log.error("garmin account %s: keep-alive crashed", account.pk, exc_info=exc)
    _record(account, ok=False, message=str(exc) or exc.__class__.__name__)
    return False


def keep_signed_in(account: ConnectedAccount) -> str:
    """Refresh the tokens unless somebody did recently; AuthExpired marks the account (garmin_session)."""
    # The version read before anything else: a keep-alive racing this one may refresh and store new tokens
    # between our look at the time and our session, and then this one must not refresh them again.
    seen = Credential.objects.filter(account=account).values_list("version", flat=True).first()
    account.refresh_from_db(fields=["meta"])  # read after the version: the account may have been loaded long ago
    last = refreshed_at(account)
    if last and timezone.now() - last < KEEP_ALIVE_AFTER:
        return "refreshed recently; nothing to do"
    with garmin_session(account) as garmin:
        # session.SingleFlightRefresh: under the credential's lease, and only over the version seen above
        garmin.client._refresh_session(only_if_version=seen)
    return "refreshed"


def _record(account: ConnectedAccount, *, ok: bool, message: str) -> None:
    try:
        account_meta.write(account, GarminMeta, keep_alive=KeepAlive(timezone.now(), ok, message[:300]))
    except ConnectedAccount.DoesNotExist:
        pass  # disconnected meanwhile: there is no Garmin page left to show it on


# --- the sign-in's age, for the Garmin page ------------------------------------------------------------
@dataclass(frozen=True)
class SignInAge:
    signed_in_at: datetime | None
    via: str
    refreshed_at: datetime | None
    # Set when Garmin keeps the login's refresh token on refresh: the sign-in then ends 30 days after it.
    ends_at: datetime | None
    keep_alive_failed: str


def sign_in_age(account: ConnectedAccount | None) -> SignInAge | None:
    meta = account_meta.read(account, GarminMeta)
    if account is None or not (meta.signed_in_at or meta.tokens_refreshed_at or meta.keep_alive):
        return None  # never connected (or connected before fitsync noted any of this)
    fixed = meta.refresh_token_rotates is False and meta.signed_in_at is not None
    keep_alive = meta.keep_alive or KeepAlive()
    return SignInAge(
        signed_in_at=meta.signed_in_at,
        via=meta.signed_in_via,
        refreshed_at=refreshed_at(account),
        ends_at=meta.signed_in_at + REFRESH_TOKEN_LIFETIME if fixed else None,
        keep_alive_failed="" if keep_alive.ok else keep_alive.message,
    )


def refreshed_at(account: ConnectedAccount) -> datetime | None:
    """When the tokens were last issued: the last refresh, else the sign-in."""
    meta = account_meta.read(account, GarminMeta)
    return meta.tokens_refreshed_at or meta.signed_in_at
