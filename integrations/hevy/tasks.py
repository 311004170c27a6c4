"""django-q2 entry points for Hevy: primitive ids in, a short summary out."""

import logging
from datetime import datetime

from django.utils import timezone

from fitsync import jobs
from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun
from fitsync.sync import reauth_message

from .events import poll_account

log = logging.getLogger("fitsync.hevy")
HISTORY_ROUTE = "hevy_intervals"  # the route the history import writes through
FEED_FAILURES = "events_feed_failures"  # in ConnectedAccount.meta: {"count": n, "since": first failure}


def poll_events() -> str:
    """Every HEVY_EVENTS_POLL_MINUTES: queue edits, deletions and missed webhooks of every account;
    one account's error stops no other."""
    accounts = ConnectedAccount.objects.filter(provider=Provider.HEVY, status=AccountStatus.CONNECTED)
    return "; ".join(jobs.for_each(accounts, lambda account: poll_one(account)[1])) or "no Hevy accounts"


def poll_one(account: ConnectedAccount) -> tuple[bool, str]:
    """(succeeded, summary); errors are recorded on the account, never raised to the queue."""
    try:
        summary = poll_account(account)
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
    failures = account.meta.get(FEED_FAILURES) or {"count": 0, "since": timezone.now().isoformat()}
    failures = {**failures, "count": int(failures.get("count") or 0) + 1}
    account.merge_meta(**{FEED_FAILURES: failures})
    since = timezone.localtime(datetime.fromisoformat(failures["since"]))
    return f"Hevy's events feed has failed {failures['count']} times since {since:%Y-%m-%d %H:%M}: {error}"


def feed_recovered(account: ConnectedAccount) -> None:
    if account.meta.get(FEED_FAILURES):
        account.merge_meta(**{FEED_FAILURES: None})


def sync_now(account_id: int, run_id: int) -> str:
    """The dashboard's "Sync now": poll the events feed at once, reporting into the run."""
    account = ConnectedAccount.objects.get(pk=account_id)
    run = SyncRun.objects.get(pk=run_id)
    succeeded, summary = poll_one(account)
    run.finish(error="" if succeeded else summary)
    return summary


def backfill(account_id: int, run_id: int) -> str:
    """The dashboard's history import: the same import as `manage.py backfill_hevy`."""
    from fitsync.imports import ImportBlocked, ImportOptions, import_history
    from fitsync.routes import route_for

    account = ConnectedAccount.objects.get(pk=account_id)
    run = SyncRun.objects.get(pk=run_id)
    try:
        report = import_history(route_for(HISTORY_ROUTE), account, ImportOptions(), run=run)
    except (ImportBlocked, UpstreamError) as exc:
        run.finish(error=str(exc))
        return f"backfill failed: {exc}"
    run.finish(error="; ".join(report.errors[:5]))
    return f"backfill: {report.created} created, {report.updated} updated, {report.failed} failed"


def start_backfill(account: ConnectedAccount) -> tuple[SyncRun, bool]:
    """Create the run and queue the task, unless a backfill of this account is still running."""
    from fitsync.dashboard.actions import start_once

    def queue(run: SyncRun) -> None:
        jobs.send("integrations.hevy.tasks.backfill", account.pk, run.pk, name=f"hevy backfill {account.pk}")

    return start_once(SyncRun.Trigger.BACKFILL, account, HISTORY_ROUTE, queue)
