"""R14: one bad schedule row never stops the others, and a failed Withings fetch is retried without one.

GIVEN a schedule row whose arguments django-q2 cannot read back (what the old Withings retry wrote:
`(3, SyncRun.Trigger.WEBHOOK, 2)`) and a Withings fetch that failed once (the sandbox answered 500),
WHEN django-q2's real scheduler runs (in-process as the sentinel calls it, and in a real `qcluster`),
THEN the bad row is set aside and shown, the dispatcher and heartbeat keep advancing, and the dispatcher
resumes the failed fetch, which uploads the weigh-in to Garmin once.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_q import cluster
from django_q.brokers import get_broker
from django_q.models import Schedule

from fitsync import jobs
from fitsync.models import Heartbeat, SyncRun
from fitsync.signals import CORE_SCHEDULES
from integrations.withings import tasks as withings_tasks
from tests.live import wait_for, worker

from .conftest import WITHINGS_USER

pytestmark = pytest.mark.django_db(transaction=True)
RETRY_FUNCS = ["integrations.withings.tasks.fetch_new", "integrations.withings.tasks.fetch_window"]
OLD_RETRY_ARGS = "(3, SyncRun.Trigger.WEBHOOK, 2)"
CORE = [func for _, func, _ in CORE_SCHEDULES]


def add_unreadable_schedule() -> Schedule:
    """A row as the old retry code wrote it; bulk_create sends no pre_save, as a raw INSERT would not."""
    (row,) = Schedule.objects.bulk_create(
        [
            Schedule(
                func="integrations.withings.tasks.fetch_new",
                args=OLD_RETRY_ARGS,
                schedule_type=Schedule.ONCE,
                repeats=-1,
                next_run=timezone.now() - timedelta(minutes=5),
            )
        ]
    )
    return row


def make_core_schedules_due() -> dict[str, object]:
    past = timezone.now() - timedelta(seconds=1)
    Schedule.objects.filter(func__in=CORE).update(next_run=past)
    return dict(Schedule.objects.filter(func__in=CORE).values_list("func", "next_run"))


def test_the_scheduler_sets_an_unreadable_row_aside_and_runs_the_others(queue_name):
    bad = add_unreadable_schedule()
    before = make_core_schedules_due()

    cluster.scheduler(broker=get_broker(queue_name))  # what the sentinel calls every 30 s

    after = dict(Schedule.objects.filter(func__in=CORE).values_list("func", "next_run"))
    assert all(after[func] > before[func] for func in CORE), "dispatcher and heartbeat must advance"
    assert all(Schedule.objects.filter(func__in=CORE).values_list("task", flat=True))  # their tasks were sent
    bad.refresh_from_db()
    assert bad.repeats == 0 and bad.name.startswith(jobs.SKIPPED_PREFIX)
    assert list(jobs.skipped_schedules()) == [bad]


def test_without_the_guard_one_unreadable_row_stops_every_schedule(queue_name):
    """The failure the guard exists for, shown on django-q2's own scheduler."""
    add_unreadable_schedule()
    before = make_core_schedules_due()

    cluster.scheduler.__wrapped__(broker=get_broker(queue_name))

    after = dict(Schedule.objects.filter(func__in=CORE).values_list("func", "next_run"))
    assert after == before  # rolled back: the next pass fails the same way, for ever


def test_no_schedule_with_unreadable_arguments_can_be_saved():
    with pytest.raises(ValueError, match="arguments cannot be read"):
        Schedule.objects.create(func="fitsync.tasks.heartbeat", args=OLD_RETRY_ARGS, next_run=timezone.now())
    with pytest.raises(TypeError, match="plain ints and strings"):
        jobs.send("fitsync.tasks.heartbeat", SyncRun.Trigger.WEBHOOK)


@pytest.mark.live
def test_a_real_worker_retries_a_failed_fetch_and_keeps_every_schedule_running(
    scale_sandbox, scale_accounts, worker_env
):
    withings_account, _ = scale_accounts
    scale_sandbox.withings.step_on_scale(WITHINGS_USER, weight_kg=Decimal("80.6"))
    scale_sandbox.withings.add_fault(path="^/measure$", status=500)
    assert "will retry" in withings_tasks.fetch_new(withings_account.pk)
    (run,) = SyncRun.objects.filter(account=withings_account)
    assert run.retry_at and not Schedule.objects.filter(func__in=RETRY_FUNCS)

    bad = add_unreadable_schedule()
    SyncRun.objects.filter(pk=run.pk).update(retry_at=timezone.now())  # its backoff has passed
    before = make_core_schedules_due()
    started = timezone.now()

    with worker(**worker_env, **scale_sandbox.urls):
        wait_for(lambda: len(scale_sandbox.weigh_ins()) == 1, timeout=75)
        wait_for(lambda: Heartbeat.objects.filter(beat_at__gte=started).exists(), timeout=30)

    after = dict(Schedule.objects.filter(func__in=CORE).values_list("func", "next_run"))
    assert all(after[func] > before[func] for func in CORE)
    run.refresh_from_db()
    assert run.finished_at and not run.error and run.attempts == 2
    assert [w["weight"] for w in scale_sandbox.weigh_ins()] and len(scale_sandbox.weigh_ins()) == 1
    bad.refresh_from_db()
    assert bad.repeats == 0 and bad.name.startswith(jobs.SKIPPED_PREFIX)
