"""R4: a worker SIGKILLed at each crash point of the sync path; after a restart, one effective write.

GIVEN a queued item and a real `qcluster` worker started with FITSYNC_CRASH_POINT=<point>,
WHEN the worker process kills itself there (before the upstream write; after it, before recording;
after recording) and a normal worker is started,
THEN the item ends synced with exactly one activity per external_id in Intervals.icu (one weigh-in and
one upload in Garmin).

The optional routes add write points of their own, proven the same way. Hevy → Garmin Connect
(`after_upload`, and `after_naming`: before deleting what the new activity replaces) over a new workout, an
edit that replaces its activity, a merge with a watch's recording that deletes the watch's own, and a
deletion: exactly one Garmin activity per workout (none once deleted). Withings → Intervals.icu
(`after_wellness_put`, which matters for a weigh-in moved to another day: its new day is written, its former
one not yet cleared) over a new weigh-in and a moved one: exactly one wellness value per day.

Recovery differs by broker, and both are exercised by CI's two passes. The ORM broker hands the unacked
task out again after `retry` (shortened here through Q_RETRY=6 s, with Q_TIMEOUT=4 s and a 5 s lease).
Redis loses the killed worker's task: the dispatcher recovers it. Instead of waiting up to a minute for
its schedule, the test calls `fitsync.tasks.dispatch` (the scheduled function itself) once the lease
has expired.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fitsync import route_settings, sync, tasks
from fitsync.models import ItemStatus, SyncItem
from fitsync.routes import ROUTES
from integrations.withings import tasks as withings_tasks
from tests.live import stop, wait_for, worker

from .conftest import ATHLETE, HEVY_KEY, WITHINGS_USER, turn_on

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


def cases(table: dict) -> list:
    return [pytest.param(*case, id="-".join(case)) for case in table]


# The Hevy proof runs with the bulk upload upserting on external_id and with it always creating.
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("intervals_bulk_upsert", [True, False], ids=["bulk_upserts", "bulk_creates"])
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


# --- Hevy -> Garmin Connect strength activities ---------------------------------------------------------
# (scenario, crash point) -> the Garmin calls made when the worker dies there: (uploads, names, deletes).
# `before_write` comes after the item's note of the upload, `after_naming` before deleting what the new
# activity replaces (the old version, the watch's own), the engine's `after_write` right after those
# deletes. Every point once at least, where it leaves the most to the retry (a new workout killed before
# the write or after naming is a merge's case without the watch).
STRENGTH_CASES = {
    ("new", "after_upload"): (1, 0, 0),
    ("new", "after_record"): (1, 1, 0),
    ("edit", "after_naming"): (1, 1, 0),
    ("edit", "after_write"): (1, 1, 1),
    ("merge", "before_write"): (0, 0, 0),
    ("merge", "after_upload"): (1, 0, 0),
    ("merge", "after_naming"): (1, 1, 0),
    ("delete", "after_write"): (0, 0, 1),
}
ACTIVITY = r"/activity-service/activity/\d+$"
RENAMED = "Renamed in Hevy"


def garmin_writes(garmin) -> tuple[int, int, int]:
    return (
        len(garmin.calls("POST", "/upload-service/upload")),
        len(garmin.calls("PUT", ACTIVITY)),
        len(garmin.calls("DELETE", ACTIVITY)),
    )


def run_to_the_end(item: SyncItem, env: dict) -> SyncItem:
    with worker(**env):
        wait_for(lambda: is_finished(item), timeout=60)
    item.refresh_from_db()
    return item


def queue_workout(account_id: int, workout_id: str, operation=SyncItem.Operation.UPSERT) -> SyncItem:
    with transaction.atomic():
        item_id, _ = SyncItem.objects.upsert(account_id, "hevy_garmin", workout_id, operation=operation)
        sync.enqueue([item_id])
    return SyncItem.objects.get(pk=item_id)


def changed_in_hevy(scenario: str, item: SyncItem, hevy_sandbox, env: dict) -> tuple[SyncItem, str]:
    """The item synced by a normal worker, then the workout renamed (a new file, uploaded beside the old
    activity, which is then deleted) or deleted in Hevy, and queued again; and the first activity's id."""
    first = run_to_the_end(item, env).destination_id
    if scenario == "edit":
        hevy_sandbox.hevy.update_workout(HEVY_KEY, item.source_id, title=RENAMED)
        return queue_workout(item.account_id, item.source_id), first
    hevy_sandbox.hevy.delete_workout(HEVY_KEY, item.source_id)
    return queue_workout(item.account_id, item.source_id, SyncItem.Operation.DELETE), first


@pytest.mark.parametrize("scenario, point", cases(STRENGTH_CASES))
def test_a_strength_job_killed_at_each_write_point_leaves_one_garmin_activity(
    scenario, point, user, hevy_sandbox, hevy_accounts, scale_sandbox, every_service
):
    from tests.integrations.garmin.fixtures import EMAIL

    garmin = scale_sandbox.garmin
    garmin.upload_hidden_reads = 0  # listed at once: the retry finds what the killed job uploaded, and adopts it
    turn_on(user, "hevy_garmin", watch="merge" if scenario == "merge" else "skip", grace_minutes=0)
    (workout,) = hevy_sandbox.add_workouts(1)
    if scenario == "merge":  # the watch recorded the session too, from a minute before to a minute after
        start, end = (datetime.fromisoformat(workout[f"{edge}_time"]) for edge in ("start", "end"))
        watch = garmin.add_watch_activity(EMAIL, start - timedelta(minutes=1), end + timedelta(minutes=1))
    item, first = queue_workout(hevy_accounts[0].pk, workout["id"]), ""
    if scenario in ("edit", "delete"):
        item, first = changed_in_hevy(scenario, item, hevy_sandbox, every_service)
    before = garmin_writes(garmin)

    def has_crashed():
        return tuple(n - b for n, b in zip(garmin_writes(garmin), before)) == STRENGTH_CASES[scenario, point]

    item = crash_then_recover(item, point, every_service, has_crashed)

    activities = scale_sandbox.activities()
    if scenario == "delete":
        assert activities == [] and item.sent["deleted"]
        return
    assert [str(a["activityId"]) for a in activities] == [item.destination_id], "one activity per workout"
    assert activities[0]["activityName"] == (RENAMED if scenario == "edit" else workout["title"])
    assert item.status == ItemStatus.SYNCED
    if scenario == "edit":
        assert item.destination_id != first and item.sent["replaced"] == first
    if scenario == "merge":  # the watch's heart rate is in the one activity, and its own activity is gone
        assert activities[0]["activityId"] != watch["activityId"] and activities[0]["averageHR"]
        assert item.sent["watch"]["mode"] == "merge" and item.sent["watch"]["deleted"]


# --- Withings -> Intervals.icu wellness ---------------------------------------------------------------
# (scenario, crash point) -> wellness PUTs made when the worker dies there. "moved": the weigh-in, synced,
# is moved to the day before at Withings; the crash comes after its new day is written, before its former
# day is cleared.
WELLNESS_CASES = {
    ("new", "before_write"): 0,
    ("new", "after_write"): 1,
    ("new", "after_record"): 1,
    ("moved", "after_wellness_put"): 1,
}
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("scenario, point", cases(WELLNESS_CASES))
def test_a_wellness_job_killed_at_each_write_point_leaves_one_value_per_day(
    scenario, point, user, hevy_sandbox, scale_sandbox, scale_accounts, every_service
):
    turn_on(user, "withings_intervals")
    route_settings.turn(user, ROUTES["withings_garmin"], on=False)  # the wellness job is the only one to kill
    withings_account, _ = scale_accounts
    measured = (datetime.now(BERLIN) - timedelta(days=1)).replace(hour=7, minute=5, second=0, microsecond=0)
    grpid = scale_sandbox.withings.add_measurement(
        WITHINGS_USER, measured, weight_kg=Decimal("81.4"), fat_ratio=Decimal("21.2")
    )
    withings_tasks.fetch_new(withings_account.pk)  # the fetch stores the item and queues its job
    item = SyncItem.objects.get(account=withings_account, route="withings_intervals")
    day, former = measured.date().isoformat(), None
    if scenario == "moved":
        former = run_to_the_end(item, every_service).destination_id
        measured -= timedelta(days=1)
        day = measured.date().isoformat()
        scale_sandbox.withings.edit_measurement(grpid, when=measured)
        withings_tasks.fetch_new(withings_account.pk)  # the edit: the item is pending and queued again
    intervals = hevy_sandbox.intervals
    before = len(intervals.calls("PUT", "/wellness"))

    def has_crashed():
        return len(intervals.calls("PUT", "/wellness")) - before == WELLNESS_CASES[scenario, point]

    item = crash_then_recover(item, point, every_service, has_crashed)

    values = {
        d: {name: record.get(name) for name in ("weight", "bodyFat")}
        for d, record in intervals.wellness(ATHLETE).items()
        if record.get("weight") is not None or record.get("bodyFat") is not None
    }
    assert values == {day: {"weight": 81.4, "bodyFat": 21.2}}, "one value per day, on the weigh-in's day"
    assert (item.status, item.destination_id) == (ItemStatus.SYNCED, day)
    if former:
        assert former != day and item.sent["day"] == day
