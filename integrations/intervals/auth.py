"""Connecting an Intervals.icu account (athlete id + personal API key): the only code writing its credentials.

The athlete's timezone comes from the profile at connect time and is refreshed daily, because
`start_date_local` must be the athlete's wall-clock time, not UTC written as local time.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fitsync.errors import AuthExpired, NotFound, TransientError, UpstreamError
from fitsync.models import ConnectedAccount, Credential, Provider

from .client import Athlete, IntervalsClient, normalize_athlete_id

TIMEZONE_MAX_AGE = timedelta(days=1)


class ConnectError(Exception):
    """A message for the connect form; nothing was saved."""


def check_credentials(athlete_id: str, api_key: str) -> Athlete:
    """The connect form's one validation call: the athlete profile with this key."""
    try:
        return IntervalsClient(athlete_id, api_key).athlete()
    except AuthExpired as exc:
        if exc.status == 403:
            raise ConnectError(f"This API key works, but not for athlete {athlete_id}. Check the athlete id.")
        raise ConnectError("Intervals.icu rejected this API key. Copy it again from intervals.icu/settings.")
    except NotFound:
        raise ConnectError(f"Intervals.icu knows no athlete {athlete_id}.")
    except TransientError as exc:
        raise ConnectError(f"Intervals.icu could not be reached ({exc}). Nothing was saved; try again shortly.")
    except UpstreamError as exc:
        raise ConnectError(f"Intervals.icu refused the check ({exc}). Nothing was saved.")


def connect(user, raw_athlete_id: str, api_key: str) -> ConnectedAccount:
    athlete_id = normalize_athlete_id(raw_athlete_id)
    if athlete_id is None:
        raise ConnectError("The athlete id looks like i12345 (or just the number).")
    athlete = check_credentials(athlete_id, api_key)
    with transaction.atomic():
        account, _ = ConnectedAccount.objects.get_or_create(owner=user, provider=Provider.INTERVALS)
        account.external_user_id = athlete_id
        account.display_name = athlete.name or athlete_id
        account.meta = {**account.meta, **timezone_meta(athlete)}
        account.save()
        credential, _ = Credential.objects.get_or_create(account=account)
        credential.api_key = api_key
        credential.save()
    account.mark_connected()
    return account


def client_for(account: ConnectedAccount) -> IntervalsClient:
    return IntervalsClient(account.external_user_id, Credential.objects.get(account=account).api_key)


def timezone_meta(athlete: Athlete) -> dict:
    return {"timezone": athlete.timezone or "UTC", "timezone_checked_at": timezone.now().isoformat()}


def is_timezone_stale(account: ConnectedAccount) -> bool:
    checked = parse_datetime(account.meta.get("timezone_checked_at") or "")
    return not account.meta.get("timezone") or checked is None or timezone.now() - checked > TIMEZONE_MAX_AGE


def refresh_timezone(account: ConnectedAccount, client: IntervalsClient | None = None) -> str:
    """Read the athlete's timezone from the profile and store it in `meta` (a one-row UPDATE)."""
    athlete = (client or client_for(account)).athlete()
    account.meta = {**account.meta, **timezone_meta(athlete)}
    ConnectedAccount.objects.filter(pk=account.pk).update(meta=account.meta, updated_at=timezone.now())
    return account.meta["timezone"]


def timezone_of(account: ConnectedAccount, client: IntervalsClient | None = None) -> str:
    """The stored timezone; read from the profile first when it was never stored."""
    return account.meta.get("timezone") or refresh_timezone(account, client)
