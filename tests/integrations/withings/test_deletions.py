"""A weigh-in deleted at Withings is deleted at Garmin Connect and taken out of its Intervals.icu wellness day,
whatever shape the deletion takes in getmeas and whatever window its notification names (both unconfirmed:
the fake's `deletion_shape` and `deletion_window` switches); the 6-hourly fetch repairs what a notification
could not show; a bulk run holds a mass of deletions beyond the cap; a failed read deletes nothing.

Checked in the fakes' stores (Garmin's weigh-ins, Intervals.icu's wellness records) and on the items.
"""

from itertools import product

import pytest
from django.urls import reverse

from fitsync.models import ItemStatus, SyncItem, SyncRun
from sandbox.core import Fault
from sandbox.withings_measures import DELETION_SHAPES
from sandbox.withings_notify import DELETION_WINDOWS

from .conftest import USER
from .deletion_world import GARMIN_ROUTE, WELLNESS_ROUTE, days_ago, is_deleted, item, local_day, world

pytestmark = pytest.mark.django_db
__all__ = ["world"]  # fixtures used by name
VARIANTS = [dict(deletion_shape=s, deletion_window=w) for s, w in product(DELETION_SHAPES, DELETION_WINDOWS)]


@pytest.fixture(params=VARIANTS, ids=lambda v: f"{v['deletion_shape']}-{v['deletion_window']}")
def withings_switches(request) -> dict:
    return request.param


def shown_at_once(switches: dict) -> bool:
    """Whether the notification's own fetch can see the deletion: an emptied group comes back in the
    incremental read; a vanished one only in a read of the window holding its measurement date."""
    return switches["deletion_shape"] == "empty" or switches["deletion_window"] == "measured"


def test_a_deleted_weigh_in_leaves_garmin_and_its_wellness_day(world, withings_switches):
    morning, evening, lonely = days_ago(3), days_ago(3, hour=19), days_ago(5)
    kept = world.weigh(morning, "80.40", fat_ratio="20.1")
    gone = world.weigh(evening, "81.20", fat_ratio="21.3")
    alone = world.weigh(lonely, "79.70", fat_ratio="19.5")
    world.sync()
    world.intervals.set_wellness("i4242", local_day(lonely), comments="rest day", restingHR=47)
    assert world.garmin_weights() == [79.7, 80.4, 81.2]

    with world.capture(execute=True):
        world.withings.delete_weigh_in(kept)  # the day's first weigh-in: the day now shows the evening's
        world.withings.delete_weigh_in(alone)  # the only one of its day
    assert [d.status for d in world.withings.deliveries] == [200, 200]
    world.settle()
    if not shown_at_once(withings_switches):
        assert world.garmin_weights() == [79.7, 80.4, 81.2]  # nothing named the deleted weigh-ins' dates
        world.scheduled_fetch()

    assert world.garmin_weights() == [81.2]
    assert all(is_deleted(route, g) for route in (GARMIN_ROUTE, WELLNESS_ROUTE) for g in (kept, alone))
    assert item(GARMIN_ROUTE, gone).operation == SyncItem.Operation.UPSERT
    day = world.wellness(local_day(morning))
    assert (day["weight"], day["bodyFat"]) == (81.2, 21.3)
    emptied = world.wellness(local_day(lonely))
    assert (emptied.get("weight"), emptied.get("bodyFat")) == (None, None)
    assert (emptied["comments"], emptied["restingHR"]) == ("rest day", 47)  # the athlete's own, untouched


@pytest.mark.parametrize("withings_switches", [VARIANTS[0]], ids=["vanish-measured"])
def test_replaying_a_deletion_notification_five_times_deletes_once(world, withings_switches):
    grpid = world.weigh(days_ago(2), "80.40")
    world.sync()
    date = world.withings.groups[grpid].date
    world.withings.delete_measurement(grpid)
    for _ in range(5):
        with world.capture(execute=True):
            world.withings.notify_user(USER, 1, date, date + 1)
        world.settle()  # each copy after the last fetch finished: a fetch each, not one deduplicated

    assert world.garmin_weights() == [] and world.garmin_deletes() == 1
    assert is_deleted(GARMIN_ROUTE, grpid) and item(GARMIN_ROUTE, grpid).attempt_log.count() == 2


@pytest.mark.parametrize("withings_switches", [VARIANTS[0], VARIANTS[1]], ids=["vanish-measured", "vanish-now"])
def test_a_weigh_in_deleted_and_entered_again_keeps_one_garmin_weigh_in(world, withings_switches):
    when = days_ago(2)
    old = world.weigh(when, "80.40")
    world.sync()
    measured = int(when.timestamp())
    window = (measured, measured + 1) if withings_switches["deletion_window"] == "measured" else (None, None)
    with world.capture(execute=True):
        world.withings.delete_weigh_in(old)
        new = world.weigh(when, "80.40")  # typed in again: the same values, a new grpid
        world.withings.notify_user(USER, 1, *window)  # its notification names a window as the deletion's did
    world.settle()
    world.scheduled_fetch()

    [entry] = world.garmin.weigh_ins("ada@example.com")
    assert is_deleted(GARMIN_ROUTE, old)
    assert item(GARMIN_ROUTE, new).destination_id == str(entry["samplePk"])
    assert world.wellness(local_day(when))["weight"] == 80.4


@pytest.mark.parametrize("withings_switches", [VARIANTS[0]], ids=["vanish-measured"])
def test_a_mass_vanish_in_a_bulk_run_holds_deletions_beyond_the_cap(world, withings_switches, settings, logged_in):
    grpids = [world.weigh(days_ago(days), f"80.{days}0") for days in range(1, 9)]
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 100
    world.sync()
    assert len(world.garmin_weights()) == 8
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 3
    for grpid in grpids:
        world.withings.delete_measurement(grpid)  # Withings answers an empty history by mistake

    world.scheduled_fetch()

    assert len(world.garmin_weights()) == 5 and world.garmin_deletes() == 3
    held = SyncItem.objects.filter(route=GARMIN_ROUTE, status=ItemStatus.HELD)
    assert held.count() == 5 and all("Deletion held by the safety cap of 3 per run" in i.last_error for i in held)
    run = SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE).get()
    assert set(held.values_list("run_id", flat=True)) == {run.pk}

    page = logged_in.get(reverse("dashboard:item", args=[held.first().pk])).content.decode()
    assert "Deletion held by the safety cap of 3 per run" in page

    world.scheduled_fetch()  # the next reconcile leaves the held deletions held
    assert held.count() == 5 and len(world.garmin_weights()) == 5

    with world.capture(execute=True):  # the user releases them
        logged_in.post(reverse("dashboard:bulk_upload_held"), {"route": GARMIN_ROUTE})
    world.settle()
    assert world.garmin_weights() == [] and all(is_deleted(GARMIN_ROUTE, g) for g in grpids)


@pytest.mark.parametrize("withings_switches", [VARIANTS[0]], ids=["vanish-measured"])
def test_a_weigh_in_back_at_withings_leaves_its_held_deletion(world, withings_switches, settings):
    grpids = [world.weigh(days_ago(days), f"80.{days}0") for days in range(1, 4)]
    world.sync()
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 1
    saved = {g: world.withings.groups[g] for g in grpids}
    for grpid in grpids:
        world.withings.delete_measurement(grpid)
    world.scheduled_fetch()
    assert SyncItem.objects.filter(route=GARMIN_ROUTE, status=ItemStatus.HELD).count() == 2

    world.withings.groups.update(saved)  # Withings answers in full again
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 100  # the revived items count as uploads of the run
    world.scheduled_fetch()

    assert not SyncItem.objects.filter(route=GARMIN_ROUTE, status=ItemStatus.HELD).exists()
    assert len(world.garmin_weights()) == 3  # the one deleted is uploaded again, the held two stayed
    assert all(item(GARMIN_ROUTE, g).operation == SyncItem.Operation.UPSERT for g in grpids)


class LaterPageFault(Fault):
    """A getmeas page after the first (one carrying an offset) fails."""

    def matches(self, request) -> bool:
        return bool(request.params().get("offset")) and super().matches(request)


@pytest.mark.parametrize("withings_switches", [VARIANTS[0]], ids=["vanish-measured"])
def test_a_window_read_that_fails_part_way_deletes_nothing(world, withings_switches):
    world.withings.page_size = 2
    grpids = [world.weigh(days_ago(days), f"80.{days}0") for days in range(1, 6)]
    world.sync()
    world.withings.delete_measurement(grpids[0])
    with world.withings.lock:
        world.withings.faults.append(LaterPageFault(path="/measure", body_status=601, times=1))

    world.scheduled_fetch()

    run = SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE).get()
    assert run.finished_at is None and run.retry_at is not None and run.error  # due again, the reason shown
    assert len(world.garmin_weights()) == 5 and world.garmin_deletes() == 0
    assert not SyncItem.objects.filter(operation=SyncItem.Operation.DELETE).exists()

    with world.capture(execute=True):
        world.jobs_sent.sent.append(("resume", (run.pk,)))  # the dispatcher resumes the run once it is due
    world.settle()
    assert len(world.garmin_weights()) == 4 and is_deleted(GARMIN_ROUTE, grpids[0])
