"""django-q2 entry points for Hevy: primitive ids in, a short summary out."""

import logging

from django.utils import timezone

from fitsync import account_meta, jobs
from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun
from fitsync.profiles import zone_of
from fitsync.sync import reauth_message
from fitsync.zones import clock_time

from .account_meta import FeedFailures, HevyMeta
from .events import poll_account

log = logging.getLogger("fitsync.hevy")


def poll_events() -> str:
    """Every HEVY_EVENTS_POLL_MINUTES: queue edits, deletions and missed webhooks of every account;
    one account's error stops no other."""
    accounts = ConnectedAccount.objects.filter(provider=Provider.HEVY, status=AccountStatus.CONNECTED)
    return "; ".join(jobs.for_each(accounts, lambda account: poll_one(account)[1])) or "no Hevy accounts"


def poll_one(account: ConnectedAccount, run_id: int | None = None) -> tuple[bool, str]:
    """(succeeded, summary); errors are recorded on the account, never raised to the queue."""
    try:
        summary = poll_account(account, run_id=run_id)
    except AuthExpired as exc:
        account.mark_needs_reauth(reauth_message(exc))
        return False, f"Hevy account {account.pk}: {reauth_message(exc)}"
    except UpstreamError as exc:  # the watermark did not move: the next poll repeats this one
        account.mark_error(feed_failed(account, str(exc)))
        return False, f"Hevy account {account.pk}: {exc}"
    feed_recovered(account)
    account.mark_success()
    return True, f"Hevy account {account.pk}: {summary}"


def feed_failed(account: ConnectedAccount, error: str) -> str:
    """Count consecutive failed polls in the account's meta; the message the dashboard shows."""
    account.refresh_from_db(fields=["meta"])
    failures = account_meta.read(account, HevyMeta).events_feed_failures or FeedFailures()
    failures = FeedFailures(failures.count + 1, failures.since or timezone.now())
    account_meta.write(account, HevyMeta, events_feed_failures=failures)
    since = clock_time(failures.since, zone_of(account.owner_id), "%Y-%m-%d %H:%M")
    return f"Hevy's events feed has failed {failures.count} times since {since}: {error}"


def feed_recovered(account: ConnectedAccount) -> None:
    if account_meta.read(account, HevyMeta).events_feed_failures:
        account_meta.write(account, HevyMeta, events_feed_failures=None)


def sync_now(account_id: int, run_id: int) -> str:
    """The dashboard's "Sync now": poll the events feed at once, reporting into the run."""
    account = ConnectedAccount.objects.get(pk=account_id)
    run = SyncRun.objects.get(pk=run_id)
    succeeded, summary = poll_one(account, run.pk)
    run.finish(error="" if succeeded else summary)
    return summary
