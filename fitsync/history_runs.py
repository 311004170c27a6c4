"""The history import from a source's page: a run per route from the source, each run by a worker.

Every route from the source gets the source's history through `fitsync.imports.import_history`, so a new
route gets its history import with no code of its own. Each route's import is a run of its own
(`SyncRun.route`): its progress, its items, the overview's "Import your history" step and the account
its writes credit are that route's, and one route's import blocks no other. A route whose destination
writes in bulk needs that destination connected; one whose items are queued for the engine does not
(they wait for it). A transient upstream failure leaves the run due again after a backoff, and the
dispatcher resumes it, a bounded number of times: the import skips what it already wrote.
"""

import logging
from datetime import UTC, datetime

from django.contrib import messages
from django.shortcuts import redirect

from . import jobs
from .dashboard.actions import already_running, start_once
from .errors import UpstreamError
from .imports import ImportBlocked, ImportOptions, destination_of, import_history, writes_in_bulk
from .models import ConnectedAccount, SyncRun
from .routes import ROUTES, Route, routes_from
from .sync import backoff_seconds

log = logging.getLogger("fitsync.imports")
TASK = "fitsync.history_runs.import_run"
MAX_TRIES = 5


def importable_routes(account: ConnectedAccount) -> list[Route]:
    """The routes from the account's service whose import can start now; ImportBlocked (the first reason)
    when there is none."""
    routes, reasons = [], []
    for route in routes_from(account.provider):
        try:
            destination_of(route, account, required=writes_in_bulk(route))
        except ImportBlocked as exc:
            reasons.append(exc)
        else:
            routes.append(route)
    if not routes:
        raise reasons[0] if reasons else ImportBlocked("No route starts from this service.")
    return routes


def start(
    account: ConnectedAccount, *, since: datetime | None = None, until: datetime | None = None, lift_cap: bool = False
) -> list[tuple[SyncRun, bool]]:
    """(run, started) per importable route: a new run, queued after commit, or that route's import still
    running (`start_once`). ImportBlocked when no route can import now."""
    params = {"since": epoch(since), "until": epoch(until), "lift_cap": bool(lift_cap)}
    return [
        start_once(SyncRun.Trigger.BACKFILL, account, route.name, _send, task=TASK, params=params)
        for route in importable_routes(account)
    ]


def _send(run: SyncRun) -> None:
    jobs.send(TASK, run.pk, name=f"history import {run.route} run {run.pk}")


def answer(request, runs: list[tuple[SyncRun, bool]], back: str, *, started: str, running: str):
    """The page's answer to its import button: to the run started (the runs' list for several), or back
    with a note that the import is still running ("{started} started", "{running} is already running")."""
    new = [run for run, is_new in runs if is_new]
    if not new:
        messages.info(request, already_running(running, runs[0][0]))
        return redirect(back)
    numbers = ", ".join(f"#{run.pk}" for run in new)
    messages.success(request, f"{started} started (run{'s' if len(new) > 1 else ''} {numbers}).")
    return redirect("dashboard:run", pk=new[0].pk) if len(new) == 1 else redirect("dashboard:runs")


def import_run(run_id: int) -> str:
    """The worker's part (and the dispatcher's call for a run due again): import the run's route."""
    run = SyncRun.objects.filter(pk=run_id, finished_at__isnull=True).select_related("account").first()
    if run is None:
        return f"run {run_id}: already finished"
    route = ROUTES.get(run.route)
    if route is None or run.account is None:
        run.finish(error=f"No route {run.route!r} to import through.")
        return f"run {run_id}: no route"
    run.attempts += 1
    SyncRun.objects.filter(pk=run.pk).update(attempts=run.attempts, retry_at=None)
    try:
        report = import_history(route, run.account, options_of(run.params), run=run)
    except ImportBlocked as exc:
        run.finish(error=str(exc))
        return f"history import run {run.pk}: {exc}"
    except UpstreamError as exc:
        return _failed(run, route, exc)
    run.finish(error="; ".join(report.errors[:5]))
    counts = f"{report.created} created, {report.updated} updated, {report.held} held, {report.failed} failed"
    return f"history import run {run.pk}: {counts}"


def _failed(run: SyncRun, route: Route, exc: UpstreamError) -> str:
    if exc.provider == route.source_provider:
        run.account.mark_error(exc.message)
    if exc.permanent or run.attempts >= MAX_TRIES:
        run.finish(error=exc.message)
        return f"history import run {run.pk}: gave up: {exc.message}"
    run.retry_later(backoff_seconds(run.attempts, exc.retry_after), exc.message)
    return f"history import run {run.pk}: will retry: {exc.message}"


def options_of(params: dict) -> ImportOptions:
    return ImportOptions(
        since=moment(params.get("since")), until=moment(params.get("until")), lift_cap=bool(params.get("lift_cap"))
    )


def epoch(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when else None


def moment(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
