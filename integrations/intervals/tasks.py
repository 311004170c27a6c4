"""django-q2 entry points for Intervals.icu: primitive ids in, a short summary out."""

from fitsync import jobs
from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider
from fitsync.sync import reauth_message

from .auth import refresh_timezone


def refresh_timezones() -> str:
    """Daily: re-read each athlete's timezone (people move, and set it after connecting); one account's
    error stops no other."""
    accounts = ConnectedAccount.objects.filter(provider=Provider.INTERVALS, status=AccountStatus.CONNECTED)
    return "; ".join(jobs.for_each(accounts, refresh_one)) or "no Intervals.icu accounts"


def refresh_one(account: ConnectedAccount) -> str:
    try:
        return f"account {account.pk}: {refresh_timezone(account)}"
    except AuthExpired as exc:
        account.mark_needs_reauth(reauth_message(exc))
        return f"account {account.pk}: needs reauth"
    except UpstreamError as exc:  # keep the old timezone; tomorrow's run tries again
        account.mark_error(str(exc))
        return f"account {account.pk}: {exc}"
