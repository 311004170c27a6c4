"""Sending work to django-q2: the one way to queue a task, and the guards that keep the scheduler running.

django-q2 stores a schedule's arguments as `repr()` text and its scheduler parses them with
`ast.literal_eval` inside one transaction over every due schedule: a single argument that is not a plain
literal (an enum member, a model) rolls that transaction back on every pass, and no schedule runs again.
So task arguments are plain values only, and the scheduler skips any row it could not parse.
"""

import ast
import logging

from django.db import transaction

log = logging.getLogger("fitsync.jobs")
PLAIN = (int, str, float, bool, type(None))
SKIPPED_PREFIX = "skipped: "  # put before a quarantined schedule's name (shown on the dashboard)


def send(func: str, *args, name: str = "", group: str = "", broker=None, after_commit: bool = True) -> None:
    """Queue `func(*args)` once the surrounding transaction commits (at once outside one, or when
    `after_commit` is False: the ORM broker's job row then commits with the caller's own writes)."""
    check_plain(args)
    from django_q.tasks import async_task

    options = {"task_name": name or func.rsplit(".", 1)[-1], "broker": broker}
    if group:
        options["group"] = group
    if after_commit:
        transaction.on_commit(lambda: async_task(func, *args, **options))
    else:
        async_task(func, *args, **options)


def check_plain(args) -> None:
    """Task arguments are ids and strings: anything else could not be read back from a schedule row."""
    for value in args:
        if type(value) not in PLAIN:  # exact types: a str enum member is a str subclass, and repr()s as code
            raise TypeError(f"task argument {value!r} is a {type(value).__name__}; pass plain ints and strings")


def unreadable(schedule) -> str:
    """Why django-q2's scheduler could not turn this schedule row into a task, or "" if it can."""
    try:
        if schedule.args:
            ast.literal_eval(schedule.args)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as exc:
        return f"arguments cannot be read ({exc.__class__.__name__})"
    return ""


def quarantine_unreadable_schedules() -> int:
    """Stop every due schedule the scheduler would choke on (repeats=0) and mark it; how many."""
    from django.utils import timezone
    from django_q.models import Schedule

    stopped = 0
    for schedule in Schedule.objects.exclude(repeats=0).filter(next_run__lt=timezone.now()):
        reason = unreadable(schedule)
        if reason:
            log.error("schedule %s (%s) skipped: %s", schedule.pk, schedule.func, reason)
            name = f"{SKIPPED_PREFIX}{reason}: {schedule.name or schedule.func}"[:100]
            stopped += Schedule.objects.filter(pk=schedule.pk).update(repeats=0, name=name)
    return stopped


def guarded(scheduler):
    """django-q2's scheduler, run after the unreadable rows are set aside, so one bad row stops nothing."""

    def scheduler_that_skips_bad_rows(*args, **kwargs):
        try:
            quarantine_unreadable_schedules()
        except Exception:  # the scheduler itself must still run
            log.exception("could not check the schedules")
        return scheduler(*args, **kwargs)

    scheduler_that_skips_bad_rows.__wrapped__ = scheduler
    return scheduler_that_skips_bad_rows


def install_scheduler_guard() -> None:
    """Wrap the scheduler the cluster's sentinel calls (it imported it by name)."""
    from django_q import cluster

    if not hasattr(cluster.scheduler, "__wrapped__"):
        cluster.scheduler = guarded(cluster.scheduler)


def skipped_schedules():
    """Schedules set aside because they could not be read: for the dashboard and /health."""
    from django_q.models import Schedule

    return Schedule.objects.filter(repeats=0, name__startswith=SKIPPED_PREFIX)


def shown_on_card(account, exc: Exception) -> str:
    """What a periodic job's failure means unless the job says otherwise: logged, and shown on the
    account's card until the next success."""
    log.error("periodic job failed for account %s", account.pk, exc_info=exc)
    account.mark_error(f"A periodic job failed ({exc.__class__.__name__}); fitsync tries again next time.")
    return f"account {account.pk}: failed ({exc.__class__.__name__})"


def for_each(accounts, work, on_failure=shown_on_card) -> list:
    """`work(account)` for every account of a periodic job, and the others still run when one raises:
    `on_failure(account, exc)` then says what that means, and its answer stands in for the result."""
    results = []
    for account in accounts:
        try:
            results.append(work(account))
        except Exception as exc:
            results.append(on_failure(account, exc))
    return results
