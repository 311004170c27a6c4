"""django-q2 entry points for Hevy: primitive ids in, a short summary out."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun
from fitsync.sync import reauth_message

from .events import poll_account

log = logging.getLogger("fitsync.hevy")
FEED_FAILURES = "events_feed_failures"  # in ConnectedAccount.meta: {"count": n, "since": first failure}


def poll_events() -> str:
    """Every HEVY_EVENTS_POLL_MINUTES: queue edits, deletions and missed webhooks of every account."""
    accounts = ConnectedAccount.objects.filter(provider=Provider.HEVY, status=AccountStatus.CONNECTED)
    return "; ".join(poll_one(account)[1] for account in accounts) or "no Hevy accounts"


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
    meta = _fresh_meta(account)
    failures = meta.get(FEED_FAILURES) or {"count": 0, "since": timezone.now().isoformat()}
    failures = {**failures, "count": int(failures.get("count") or 0) + 1}
    _save_meta(account, {**meta, FEED_FAILURES: failures})
    since = timezone.localtime(datetime.fromisoformat(failures["since"]))
    return f"Hevy's events feed has failed {failures['count']} times since {since:%Y-%m-%d %H:%M}: {error}"


def feed_recovered(account: ConnectedAccount) -> None:
    meta = _fresh_meta(account)
    if FEED_FAILURES in meta:
        del meta[FEED_FAILURES]
        _save_meta(account, meta)


def _fresh_meta(account: ConnectedAccount) -> dict:
    # Read again: the connect page and the timezone refresh write other keys of the same meta.
    meta = ConnectedAccount.objects.filter(pk=account.pk).values_list("meta", flat=True).first()
    return dict(meta or {})


def _save_meta(account: ConnectedAccount, meta: dict) -> None:
    ConnectedAccount.objects.filter(pk=account.pk).update(meta=meta)
    account.meta = meta


def sync_now(account_id: int, run_id: int) -> str:
    """The dashboard's "Sync now": poll the events feed at once, reporting into the run."""
    account = ConnectedAccount.objects.get(pk=account_id)
    run = SyncRun.objects.get(pk=run_id)
    succeeded, summary = poll_one(account)
    run.finish(error="" if succeeded else summary)
    return summary


def backfill(account_id: int, run_id: int) -> str:
    """The dashboard's history import: the same backfill as `manage.py backfill_hevy`."""
    from fitsync.pipelines.hevy_to_intervals_backfill import BackfillError, BackfillOptions, backfill

    account = ConnectedAccount.objects.get(pk=account_id)
    run = SyncRun.objects.get(pk=run_id)
    try:
        report = backfill(account, BackfillOptions(), run=run)
    except (BackfillError, UpstreamError) as exc:
        run.finish(error=str(exc))
        return f"backfill failed: {exc}"
    run.finish(error="; ".join(report.errors[:5]))
    return f"backfill: {report.created} created, {report.updated} updated, {report.failed} failed"


def start_backfill(account: ConnectedAccount) -> SyncRun | None:
    """Create the run and queue the task, unless a backfill of this account is still running."""
    from django_q.tasks import async_task

    from fitsync.pipelines.hevy_to_intervals import ROUTE

    recent = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"])
    running = SyncRun.objects.filter(account=account, trigger=SyncRun.Trigger.BACKFILL,
                                     finished_at__isnull=True, started_at__gte=recent)
    if running.exists():
        return None
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.BACKFILL, account=account, owner=account.owner, route=ROUTE)
    async_task("integrations.hevy.tasks.backfill", account.pk, run.pk, task_name=f"hevy backfill {account.pk}")
    return run
