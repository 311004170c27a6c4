"""Running Withings fetches as jobs: one SyncRun each, and what each failure means for the account.

Auth failures pause the account until the user reconnects (no retry loop); a 601 or another transient
failure leaves the run due again after the engine's backoff (never sooner than Withings' rate window),
and the dispatcher resumes it, a bounded number of times. A run whose worker died is resumed the same way.
"""

import logging

from django.conf import settings
from django.db import transaction

from fitsync import jobs
from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun
from fitsync.sync import backoff_seconds, start_run

from . import fetch

log = logging.getLogger("fitsync.withings")
TASKS = "integrations.withings.tasks"
RESUME_TASK = f"{TASKS}.resume"
MAX_TRIES = 5
MIN_RETRY_SECONDS = 60  # Withings counts 120 requests per rolling minute


def queue(task: str, *args) -> None:
    """Send a Withings task to django-q once the surrounding transaction commits."""
    jobs.check_plain(args)
    transaction.on_commit(lambda: _send(task, *args))


def _send(task: str, *args) -> None:
    name = f"withings {task} {args[0] if args else ''}".strip()
    jobs.send(f"{TASKS}.{task}", *args, name=name, group="withings")


def connected_account(account_id: int) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(
        pk=account_id, provider=Provider.WITHINGS, status=AccountStatus.CONNECTED
    ).first()


def new_run(account: ConnectedAccount, trigger: str, window: list[int] | None = None) -> SyncRun:
    """A run for an incremental fetch (from the account's cursor), which also reads a notification's `window`
    [startdate, enddate], or, on the schedule, reconciles the last WITHINGS_RECONCILE_DAYS days."""
    params = {"window": window} if window else {}
    if trigger == SyncRun.Trigger.SCHEDULE and settings.WITHINGS_RECONCILE_DAYS > 0:
        params = {"days": settings.WITHINGS_RECONCILE_DAYS}
    return start_run(str(trigger), account=account, route=SyncRun.EVERY_ROUTE, task=RESUME_TASK, params=params)


def prepare_window_run(run: SyncRun, days: int, lift_cap: bool) -> None:
    """Make an existing run (created by a page or a command) a fetch of the last `days` days."""
    run.task, run.params = RESUME_TASK, {**run.params, "days": int(days), "lift_cap": bool(lift_cap)}
    SyncRun.objects.filter(pk=run.pk).update(task=run.task, params=run.params)


def run_fetch(account: ConnectedAccount, run: SyncRun) -> str:
    """Fetch into `run`; on failure record it on the run and the account, and maybe leave it due again."""
    attempt = run.start_attempt(settings.SYNC_LEASE_SECONDS)
    try:
        counts = _fetch(account, run)
    except UpstreamError as exc:
        return _failed(account, run, exc, attempt)
    run.finish()
    account.mark_success()
    return f"withings account {account.pk}: {counts}"


def _fetch(account: ConnectedAccount, run: SyncRun) -> dict:
    params, lift_cap = run.params, bool(run.params.get("lift_cap"))
    if params.get("days") is not None:
        return fetch.fetch_window(account, run, int(params["days"]), lift_cap=lift_cap)
    if params.get("window"):
        start, end = params["window"]
        return fetch.fetch_notified(account, run, int(start), int(end))
    return fetch.fetch_new(account, run)


def _failed(account: ConnectedAccount, run: SyncRun, exc: UpstreamError, attempt: int) -> str:
    if isinstance(exc, AuthExpired):
        run.finish(error=exc.message)
        return f"withings account {account.pk}: needs reconnecting"  # auth marked it; items wait
    account.mark_error(exc.message)
    if exc.permanent or attempt >= MAX_TRIES:
        run.finish(error=exc.message)
        return f"withings account {account.pk}: gave up: {exc.message}"
    run.retry_later(max(MIN_RETRY_SECONDS, backoff_seconds(attempt, exc.retry_after)), exc.message)
    return f"withings account {account.pk}: will retry: {exc.message}"
