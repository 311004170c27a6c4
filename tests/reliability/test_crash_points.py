"""R4: a worker SIGKILLed at each crash point of the sync path; after a restart, one effective write.

GIVEN a queued item and a real `qcluster` worker started with FITSYNC_CRASH_POINT=<point>,
WHEN the worker process kills itself there (before the upstream write; after it, before recording;
after recording) and a normal worker is started,
THEN the item ends synced with exactly one activity per external_id in Intervals.icu (one weigh-in and
one upload in Garmin).

Recovery differs by broker, and both are exercised by CI's two passes. The ORM broker hands the unacked
task out again after `retry` (shortened here through Q_RETRY=6 s, with Q_TIMEOUT=4 s and a 5 s lease).
Redis loses the killed worker's task: the dispatcher recovers it. Instead of waiting up to a minute for
its schedule, the test calls `fitsync.tasks.dispatch` (the scheduled function itself) once the lease
has expired.
"""

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fitsync import sync, tasks
from fitsync.models import ItemStatus, SyncItem
from integrations.withings import tasks as withings_tasks
from tests.live import stop, wait_for, worker

from .conftest import ATHLETE, WITHINGS_USER

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
POINTS = ["before_write", "after_write", "after_record"]
FAST_RECOVERY = {"Q_TIMEOUT": 4, "Q_RETRY": 6, "SYNC_LEASE_SECONDS": 5}


def crash_then_recover(item: SyncItem, point: str, env: dict, has_crashed) -> SyncItem:
    """Run the item on a worker that dies at `point`, then on a normal one until it is finished."""
    with worker(**env, **FAST_RECOVERY, FITSYNC_CRASH_POINT=point) as crashing:
        wait_for(lambda: worker_died(crashing), timeout=60)
        stop(crashing)  # before the ORM broker hands the task out again, to the crashing worker
    assert has_crashed(), f"the worker died, but not at {point}"
    with worker(**env, **FAST_RECOVERY):
        if "redis" in settings.Q_CLUSTER:  # the task died with the worker: the dispatcher's turn
            wait_for(lambda: is_finished(item) or lease_expired(item), timeout=30)
            tasks.dispatch()
        wait_for(lambda: is_finished(item), timeout=60)
    item.refresh_from_db()
    return item


def worker_died(process) -> bool:
    with open(process.log_path, encoding="utf-8", errors="replace") as log:
        return "after death" in log.read()  # django-q2's sentinel reincarnating a dead worker


def is_finished(item: SyncItem) -> bool:
    """Synced; or, for Garmin after "after_write", skipped as "already there" and linked to that weigh-in."""
    done = Q(status=ItemStatus.SYNCED) | (Q(status=ItemStatus.SKIPPED) & ~Q(destination_id=""))
    return SyncItem.objects.filter(Q(pk=item.pk) & done).exists()


def lease_expired(item: SyncItem) -> bool:
    return SyncItem.objects.filter(pk=item.pk, lease_expires_at__lt=timezone.now()).exists()


@pytest.fixture(params=["bulk_upserts", "bulk_creates"])
def intervals_bulk_upsert(request) -> bool:
    """The Hevy proof runs with the bulk upload upserting on external_id and with it always creating."""
    return request.param == "bulk_upserts"


@pytest.mark.parametrize("point", POINTS)
def test_a_hevy_job_killed_at_each_crash_point_writes_one_activity(point, hevy_sandbox, hevy_accounts, worker_env):
    (workout,) = hevy_sandbox.add_workouts(1)
    with transaction.atomic():
        item_id, _ = SyncItem.objects.upsert(hevy_accounts[0].pk, "hevy_intervals", workout["id"])
        sync.enqueue([item_id])
    item = SyncItem.objects.get(pk=item_id)
    written = {"before_write": 0, "after_write": 1, "after_record": 1}[point]

    def has_crashed():
        return hevy_sandbox.writes_per_workout([workout["id"]])[workout["id"]] == written

    item = crash_then_recover(item, point, {**worker_env, **hevy_sandbox.urls}, has_crashed)

    # A repeat after "after_write" finds the activity by external_id and updates it in place by id.
    assert hevy_sandbox.writes_per_workout([workout["id"]])[workout["id"]] in (
        (1, 2) if point == "after_write" else (1,)
    )
    activities = [a for a in hevy_sandbox.intervals.activities(ATHLETE) if a.get("external_id") == workout["id"]]
    assert len(activities) == 1 and item.destination_id == activities[0]["id"]


@pytest.mark.parametrize("point", POINTS)
def test_a_garmin_job_killed_at_each_crash_point_makes_one_weigh_in(point, scale_sandbox, scale_accounts, worker_env):
    from decimal import Decimal

    withings_account, _ = scale_accounts
    scale_sandbox.withings.step_on_scale(WITHINGS_USER, weight_kg=Decimal("81.4"))  # nobody subscribed yet
    withings_tasks.fetch_new(withings_account.pk)  # the fetch stores the item and queues its job
    item = SyncItem.objects.get(account=withings_account, route="withings_garmin")
    uploads = {"before_write": 0, "after_write": 1, "after_record": 1}[point]

    def has_crashed():
        return len(scale_sandbox.garmin.calls("POST", "/upload-service/upload")) == uploads

    item = crash_then_recover(item, point, {**worker_env, **scale_sandbox.urls}, has_crashed)

    weigh_ins = scale_sandbox.weigh_ins()
    assert len(weigh_ins) == 1 and len(scale_sandbox.garmin.calls("POST", "/upload-service/upload")) == 1
    assert item.destination_id == str(weigh_ins[0]["samplePk"])
