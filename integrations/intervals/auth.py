"""Connecting an Intervals.icu account (personal API key, athlete id optional): the only code writing its credentials.

The athlete is the key's owner, read from `GET /athlete/0`, and its id is stored exactly as Intervals.icu
returns it: `i12345` and the older all-numeric `2049151` are both real and different ids.

The athlete's timezone comes from the profile at connect time and is refreshed daily, because
`start_date_local` must be the athlete's wall-clock time, not UTC written as local time.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fitsync import account_meta
from fitsync.errors import AuthExpired, TransientError, UpstreamError
from fitsync.models import ConnectedAccount, Credential, Provider

from .account_meta import IntervalsMeta
from .client import KEY_OWNER, Athlete, IntervalsClient, normalize_athlete_id

TIMEZONE_MAX_AGE = timedelta(days=1)


class ConnectError(Exception):
    """A message for the connect form; nothing was saved."""


def key_owner(api_key: str) -> Athlete:
    """The connect form's one call: who owns this key (and so which athlete fitsync writes to)."""
    try:
        return IntervalsClient(KEY_OWNER, api_key).key_owner()
    except AuthExpired:
        raise ConnectError("Intervals.icu rejected this API key. Copy it again from intervals.icu/settings.")
    except TransientError as exc:
        raise ConnectError(f"Intervals.icu could not be reached ({exc}). Nothing was saved; try again shortly.")
    except UpstreamError as exc:
        raise ConnectError(f"Intervals.icu refused the check ({exc}). Nothing was saved.")


def connect(user, raw_athlete_id: str, api_key: str) -> ConnectedAccount:
    """Save the key for its owner; an athlete id typed as well must be the owner's."""
    typed = normalize_athlete_id(raw_athlete_id) if (raw_athlete_id or "").strip() else ""
    if typed is None:
        raise ConnectError("The athlete id looks like i12345 or 2049151; or leave it empty.")
    athlete = key_owner(api_key)
    if typed and typed != athlete.id:
        raise ConnectError(
            f"This API key belongs to athlete {athlete.id}, not {typed}. Leave the athlete id "
            f"empty, or type {athlete.id}."
        )
    with transaction.atomic():
        account, _ = ConnectedAccount.objects.get_or_create(owner=user, provider=Provider.INTERVALS)
        account.external_user_id = athlete.id
        account.display_name = athlete.name or athlete.id
        account.save()
        store_timezone(account, athlete)
        credential, _ = Credential.objects.get_or_create(account=account)
        credential.api_key = api_key
        credential.save()
    account.mark_connected()
    return account


def client_for(account: ConnectedAccount) -> IntervalsClient:
    return IntervalsClient(account.external_user_id, Credential.objects.get(account=account).api_key)


def store_timezone(account: ConnectedAccount, athlete: Athlete) -> str:
    zone = athlete.timezone or "UTC"
    account_meta.write(account, IntervalsMeta, timezone=zone, timezone_checked_at=timezone.now())
    return zone


def is_timezone_stale(account: ConnectedAccount) -> bool:
    meta = account_meta.read(account, IntervalsMeta)
    checked = meta.timezone_checked_at
    return not meta.timezone or checked is None or timezone.now() - checked > TIMEZONE_MAX_AGE


def refresh_timezone(account: ConnectedAccount, client: IntervalsClient | None = None) -> str:
    """Read the athlete's timezone from the profile and store it in `meta`."""
    return store_timezone(account, (client or client_for(account)).athlete())


def timezone_of(account: ConnectedAccount, client: IntervalsClient | None = None) -> str:
    """The stored timezone; read from the profile first when it was never stored."""
    return account_meta.read(account, IntervalsMeta).timezone or refresh_timezone(account, client)
