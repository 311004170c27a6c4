"""Withings weigh-ins -> Intervals.icu wellness days through the engine, checked in the fake's wellness
records, under both settings of its `wellness_put` switch (see wellness_support.py).

GIVEN weigh-ins taken in as a Withings fetch hands them over, WHEN the route's jobs run, THEN the record of
each weigh-in's local day holds fitsync's fields as the route's pick computes them from every weigh-in of
that day, and nothing else of the athlete's changes.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils.html import escape

from fitsync import route_settings
from fitsync.models import ItemStatus, SyncItem
from integrations.intervals.wellness.fields import fields_sent_for
from tests.integrations.garmin.fixtures import measurement
from tests.items import put_in_state

from . import wellness_support
from .wellness_support import ATHLETE, ROUTE, choose_pick, delete_at_source, item, sync_route, take, wellness_puts

pytestmark = pytest.mark.django_db
route, rsps, intervals, accounts = (
    wellness_support.route,
    wellness_support.rsps,
    wellness_support.intervals,
    wellness_support.accounts,
)
commits = wellness_support.commits
DAY = "2026-11-30"
MORNING = datetime(2026, 11, 30, 5, 30, tzinfo=UTC)  # 06:30 in Berlin


def weigh_in(source_id: str, hours: float = 0, weight: str = "80.35", **values):
    return measurement(source_id, at=MORNING + timedelta(hours=hours), weight=weight, **values)


def record(intervals, day: str = DAY) -> dict:
    return intervals.wellness(ATHLETE).get(day, {})


def test_a_weigh_in_fills_weight_and_body_fat_of_its_local_day(accounts, intervals, sent_jobs):
    withings, _ = accounts
    late = measurement("1002", at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), weight="80.10")  # 00:30 next day
    take(withings, weigh_in("1001"), late)
    first, second = sync_route(sent_jobs)

    assert (first.status, first.destination_id, second.destination_id) == ("synced", DAY, "2026-12-01")
    day = record(intervals)
    assert (day["weight"], day["bodyFat"]) == (80.35, 20.14)
    assert record(intervals, "2026-12-01")["weight"] == 80.1
    # No custom fields defined: nothing else is sent, and body water never goes to the subjective `hydration`.
    assert {name for body in wellness_puts(intervals) for name in body} <= {"id", "weight", "bodyFat"}
    assert first.sent == {"day": DAY, "values": {"weight": "80.35", "bodyFat": "20.14"}, "cleared": []}


@pytest.mark.parametrize(
    "pick, weight, body_fat",
    [("first", 80.9, 20.4), ("last", 80.1, 20.0), ("average", 80.5, 20.2), ("", 80.9, 20.4)],
    ids=["first", "last", "average", "default-first"],
)
def test_three_weigh_ins_of_a_day_give_it_the_picked_values(accounts, intervals, sent_jobs, pick, weight, body_fat):
    withings, athlete = accounts
    choose_pick(athlete, pick)
    take(
        withings,
        weigh_in("1001", 0, "80.90", fat_ratio_pct=None),  # the morning's first: no body fat measured
        weigh_in("1002", 1, "80.50", fat_ratio_pct=Decimal("20.40")),
        weigh_in("1003", 14, "80.10", fat_ratio_pct=Decimal("20.00")),
    )
    items = sync_route(sent_jobs)

    assert {(i.status, i.destination_id) for i in items} == {("synced", DAY)}
    assert (record(intervals)["weight"], record(intervals)["bodyFat"]) == (weight, body_fat)
    assert {i.sent["values"]["weight"] for i in items[-1:]} == {f"{weight:.2f}"}


def test_the_athletes_own_entries_stay_as_they_are(accounts, intervals, sent_jobs):
    withings, _ = accounts
    intervals.set_wellness(ATHLETE, DAY, comments="slept badly", restingHR=48, weight=81.0)
    intervals.set_wellness(ATHLETE, "2026-11-29", weight=79.0, sleepSecs=27000)  # typed by hand, no weigh-in
    take(withings, weigh_in("1001"))
    sync_route(sent_jobs)

    day = record(intervals)
    assert (day["weight"], day["comments"], day["restingHR"]) == (80.35, "slept badly", 48)
    other = record(intervals, "2026-11-29")
    assert (other["weight"], other["sleepSecs"]) == (79.0, 27000)
    assert [body.get("id", DAY) for body in wellness_puts(intervals)] == [DAY]


def test_an_edited_weigh_in_rewrites_its_day_and_a_moved_one_both_days(accounts, intervals, sent_jobs):
    withings, _ = accounts
    take(withings, weigh_in("1001"))
    sync_route(sent_jobs)
    take(withings, weigh_in("1001", weight="79.95"))  # edited at Withings
    [edited] = sync_route(sent_jobs)
    assert (edited.status, record(intervals)["weight"]) == ("synced", 79.95)

    take(withings, weigh_in("1001", hours=-24, weight="79.95"))  # its time moved to the day before
    [moved] = sync_route(sent_jobs)
    assert (moved.destination_id, record(intervals, "2026-11-29")["weight"]) == ("2026-11-29", 79.95)
    assert (record(intervals).get("weight"), record(intervals).get("bodyFat")) == (None, None)


def test_an_unchanged_weigh_in_writes_nothing_and_a_replay_the_same_values(accounts, intervals, sent_jobs):
    withings, _ = accounts
    take(withings, weigh_in("1001"))
    sync_route(sent_jobs)
    writes = len(wellness_puts(intervals))
    put_in_state(SyncItem.objects.filter(pk=item("1001").pk), status="pending")  # delivered once more
    sent_jobs.append(item("1001").pk)
    assert sync_route(sent_jobs)[0].attempt_log.last().outcome == "unchanged"

    put_in_state(SyncItem.objects.filter(pk=item("1001").pk), content_hash="", status="pending")  # a lost row
    sent_jobs.append(item("1001").pk)
    assert sync_route(sent_jobs)[0].status == "synced"
    assert len(wellness_puts(intervals)) == writes  # the day already held these values: read, not written


def test_a_deleted_weigh_in_recomputes_its_day_and_the_last_clears_only_untouched_values(
    accounts, intervals, sent_jobs
):
    withings, athlete = accounts
    choose_pick(athlete, "last")
    intervals.set_wellness(ATHLETE, DAY, comments="race week")
    take(withings, weigh_in("1001", 0, "80.35"), weigh_in("1002", 12, "80.05", fat_ratio_pct=Decimal("19.80")))
    sync_route(sent_jobs)
    assert (record(intervals)["weight"], record(intervals)["bodyFat"]) == (80.05, 19.8)

    delete_at_source(sent_jobs, "1002")
    assert (item("1002").status, item("1002").attempt_log.last().outcome) == ("synced", "deleted")
    assert (record(intervals)["weight"], record(intervals)["bodyFat"]) == (80.35, 20.14)

    intervals.set_wellness(ATHLETE, DAY, bodyFat=21.0)  # the athlete corrects the body fat by hand
    delete_at_source(sent_jobs, "1001")
    day = record(intervals)
    assert (day.get("weight"), day["bodyFat"], day["comments"]) == (None, 21.0, "race week")
    assert item("1001").sent["cleared"] == ["weight"] and item("1001").sent["deleted"] is True


def test_a_locked_day_is_reported_and_written_once_unlocked(accounts, intervals, sent_jobs, logged_in):
    withings, _ = accounts
    intervals.set_wellness(ATHLETE, DAY, weight=81.0, locked=True)
    take(withings, weigh_in("1001"))
    [locked] = sync_route(sent_jobs)

    note = f"Intervals.icu's wellness record for {DAY} is locked; unlock it there and press Resync."
    assert (locked.status, locked.last_error, record(intervals)["weight"]) == (ItemStatus.SKIPPED, note, 81.0)
    assert wellness_puts(intervals) == []
    assert escape(note) in logged_in.get(f"/{ROUTE.list_slug}/").content.decode()  # the route's list on the dashboard

    intervals.set_wellness(ATHLETE, DAY, locked=False)
    sent_jobs.extend(SyncItem.objects.filter(pk=locked.pk).requeue())  # the dashboard's Resync
    [resynced] = sync_route(sent_jobs)
    assert (resynced.status, resynced.last_error, record(intervals)["weight"]) == ("synced", "", 80.35)


def test_custom_fields_are_sent_only_once_the_athlete_defines_them(accounts, intervals, sent_jobs):
    withings, athlete = accounts
    take(withings, weigh_in("1001"))
    sync_route(sent_jobs)
    assert [f.name for f in fields_sent_for(athlete)] == ["weight", "bodyFat"]

    for code in ("MuscleMass", "BodyWater", "BMI"):
        intervals.add_custom_item(ATHLETE, code)
    intervals.add_custom_item(ATHLETE, "VisceralFat", field_type="text")  # not a number: not filled
    intervals.add_custom_item(ATHLETE, "BoneMass", item_type="ACTIVITY_FIELD")  # an activity's field
    assert [f.label for f in fields_sent_for(athlete)] == [
        "Weight (kg)",
        "Body fat (%)",
        "Muscle mass (kg)",
        "Body water (kg)",
        "BMI",
    ]
    sent_jobs.extend(SyncItem.objects.filter(pk=item("1001").pk).requeue())
    sync_route(sent_jobs)

    day = record(intervals)
    assert (day["MuscleMass"], day["BodyWater"], day["BMI"]) == (61.25, 44.37, 25.36)
    last = wellness_puts(intervals)[-1]
    assert not {"VisceralFat", "BoneMass", "hydration", "hydrationVolume"} & set(last)


def test_the_options_page_says_what_is_written_and_saves_the_pick(logged_in, accounts, intervals):
    intervals.add_custom_item(ATHLETE, "MuscleMass")
    page = logged_in.get(f"/routes/{ROUTE.name}/options/").content.decode()
    assert "What it writes to Intervals.icu" in page and "<li>Weight (kg)</li>" in page
    assert "<li>Muscle mass (kg), in your custom field MuscleMass</li>" in page
    assert "custom wellness fields of these codes in Intervals.icu: BoneMass, BodyWater" in page
    assert logged_in.post(f"/routes/{ROUTE.name}/options/", {"pick": "average"}).status_code == 302
    assert route_settings.options_of(accounts[0].owner_id, ROUTE.name) == {"pick": "average"}
