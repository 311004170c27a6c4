"""Shutdown: SIGTERM to a worker with jobs in flight ends it within `timeout` + 15 s, and no work is lost.

GIVEN a real `qcluster` busy with slow jobs (the sandbox Intervals.icu answers after 2 s) and more queued,
WHEN it gets SIGTERM (to the qcluster process, as `docker stop` and `./fitsync.sh run` send it),
THEN it exits within Q_TIMEOUT + 15 s, and after a restart every item is synced with one activity each:
the ORM broker still holds the unfinished tasks; Redis may have lost the ones a worker had taken, and the
dispatcher queues them again. The test calls `fitsync.tasks.dispatch` every 2 s (its schedule runs every
minute) with the same `retry` the workers have, so a queued mark older than that counts as lost.
"""

import signal
import time

import pytest
from django.db import transaction

from fitsync import sync, tasks
from fitsync.models import ItemStatus, SyncItem
from tests.live import wait_for, worker

from .conftest import ATHLETE

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
TIMEOUT, RETRY, LEASE = 8, 12, 10
ITEMS = 6


def test_sigterm_with_jobs_in_flight_stops_in_time_and_loses_nothing(settings, hevy_sandbox, hevy_accounts, worker_env):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": RETRY}  # the test process dispatches like the workers
    env = {**worker_env, **hevy_sandbox.urls, "Q_TIMEOUT": TIMEOUT, "Q_RETRY": RETRY, "SYNC_LEASE_SECONDS": LEASE}
    ids = [w["id"] for w in hevy_sandbox.add_workouts(ITEMS)]
    with transaction.atomic():
        item_ids = [SyncItem.objects.upsert(hevy_accounts[0].pk, "hevy_intervals", workout_id)[0] for workout_id in ids]
        sync.enqueue(item_ids)
    hevy_sandbox.intervals.latency = 2.0

    with worker(workers=2, **env) as busy:
        wait_for(lambda: SyncItem.objects.filter(status=ItemStatus.RUNNING).count() >= 2, timeout=30)
        started = time.monotonic()
        busy.send_signal(signal.SIGTERM)
        busy.wait(TIMEOUT + 15)
        stopped_after = time.monotonic() - started
    print(f"SIGTERM with 2 jobs in flight: stopped after {stopped_after:.1f} s")
    assert stopped_after < TIMEOUT + 15

    hevy_sandbox.intervals.latency = 0
    with worker(workers=2, **env):
        wait_for(lambda: dispatch_then_check(ids), timeout=60, interval=2)
    activities = hevy_sandbox.intervals.activities_by_external_id(ATHLETE)
    assert sorted(activities) == sorted(ids) and len(hevy_sandbox.intervals.activities(ATHLETE)) == ITEMS


def dispatch_then_check(workout_ids) -> bool:
    tasks.dispatch()
    return all_synced(workout_ids)


def all_synced(workout_ids) -> bool:
    return SyncItem.objects.filter(source_id__in=workout_ids, status=ItemStatus.SYNCED).count() == len(workout_ids)
