"""The real job queue: a qcluster subprocess on this run's broker (ORM or Redis) and database."""

import pytest
from django.utils import timezone

from fitsync.models import Heartbeat, ItemStatus, SyncItem
from fitsync.signals import ensure_schedules
from tests.live import wait_for, worker

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_the_worker_runs_the_schedules_and_beats():
    ensure_schedules()
    with worker():
        beat = wait_for(lambda: Heartbeat.objects.filter(name="worker").first(), timeout=60)
    assert (timezone.now() - beat.beat_at).total_seconds() < 60


def test_a_queued_job_reaches_the_worker_and_its_result_is_saved(make_account):
    from datetime import timedelta

    from django_q.models import Task
    from django_q.tasks import async_task

    later = timezone.now() + timedelta(hours=1)
    item = SyncItem.objects.create(
        account=make_account("hevy"), route="hevy_intervals", source_id="w1", next_attempt_at=later
    )
    with worker():
        async_task("fitsync.tasks.sync_item", item.pk)
        task = wait_for(lambda: Task.objects.filter(func="fitsync.tasks.sync_item").first())
    # Not due yet: the engine declines to claim it, and says so.
    assert task.success and "not due" in task.result
    assert SyncItem.objects.get(pk=item.pk).status == ItemStatus.PENDING
