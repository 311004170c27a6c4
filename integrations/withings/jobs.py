"""Running Withings fetches as jobs: one SyncRun each, and what each failure means for the account.

Auth failures pause the account until the user reconnects (no retry loop); a 601 or another
transient failure is tried again once Withings' rate window has passed, a bounded number of times.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun
from fitsync.sync import start_run

from . import fetch

log = logging.getLogger("fitsync.withings")
TASKS = "integrations.withings.tasks"
MAX_TRIES = 5
MIN_RETRY_SECONDS = 60  # Withings counts 120 requests per rolling minute


def queue(task: str, *args) -> None:
    """Send a task to django-q once the surrounding transaction commits."""
    transaction.on_commit(lambda: _send(task, *args))


def _send(task: str, *args) -> None:
    from django_q.tasks import async_task

    async_task(f"{TASKS}.{task}", *args, task_name=f"withings {task} {args[0] if args else ''}".strip(),
               group="withings")


def retry_later(task: str, args: tuple, seconds: float) -> None:
    from django_q.tasks import schedule

    next_run = timezone.now() + timedelta(seconds=max(seconds, MIN_RETRY_SECONDS))
    schedule(f"{TASKS}.{task}", *args, schedule_type="O", repeats=-1, next_run=next_run)  # deleted after its run


def connected_account(account_id: int) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(
        pk=account_id, provider=Provider.WITHINGS, status=AccountStatus.CONNECTED
    ).first()


def run_fetch(account: ConnectedAccount, run: SyncRun, attempt: int, retry_task: str, retry_args: tuple,
              window_days: int | None = None, lift_cap: bool = False) -> str:
    """Fetch into `run`; on failure record it on the run and the account, and maybe try later."""
    try:
        if window_days is None:
            counts = fetch.fetch_new(account, run)
        else:
            counts = fetch.fetch_window(account, run, window_days, lift_cap=lift_cap)
    except UpstreamError as exc:
        return _failed(account, run, exc, attempt, retry_task, retry_args)
    run.finish()
    account.mark_success()
    return f"withings account {account.pk}: {counts}"


def _failed(account, run, exc: UpstreamError, attempt: int, retry_task: str, retry_args: tuple) -> str:
    run.finish(error=exc.message)
    if isinstance(exc, AuthExpired):
        return f"withings account {account.pk}: needs reconnecting"  # auth marked it; items wait
    account.mark_error(exc.message)
    if exc.permanent or attempt >= MAX_TRIES:
        return f"withings account {account.pk}: gave up: {exc.message}"
    retry_later(retry_task, (*retry_args, attempt + 1), exc.retry_after or MIN_RETRY_SECONDS * attempt)
    return f"withings account {account.pk}: will retry: {exc.message}"


def new_run(account: ConnectedAccount, trigger: str) -> SyncRun:
    return start_run(trigger, account=account, route="withings_garmin")
