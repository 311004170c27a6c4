"""R2, the redelivery storm: copies of Hevy webhooks, shuffled and concurrent, make one write per workout.

GIVEN a live fitsync web server, a real `qcluster` worker and the sandbox Hevy and Intervals.icu over HTTP,
WHEN sender threads POST 1-6 copies of each workout's webhook (re-sends of one event and new events for the
same workout) in a generated order with generated pauses, some while the first copy is being processed,
THEN every workout is synced and the Intervals.icu ledger shows exactly one write per workout.

The optional routes, on: every Hevy webhook five times makes one Garmin Connect activity per workout (and
still one Intervals.icu activity), and every Withings notification five times one wellness value per day
at Intervals.icu (and still one Garmin weigh-in per measurement).
"""

import queue
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitsync.models import ItemStatus, SyncAttempt, SyncItem, SyncRun
from integrations.withings import subscriptions
from tests.live import wait_for, worker

from .conftest import ATHLETE, WEBHOOK_PATH, WEBHOOK_SECRET, WITHINGS_USER, turn_on

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
SENDERS = 6
PAUSE_SECONDS = [0.0, 0.0, 0.0, 0.005, 0.02, 0.1, 0.3]
PAUSES = st.sampled_from(PAUSE_SECONDS)
COPIES = 5
STORM_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass(frozen=True)
class Delivery:
    item: int  # index of the workout
    new_event: bool  # a new event id (a second "workout saved") rather than a re-send of the first
    pause: float  # seconds the sender waits before posting


@st.composite
def storms(draw, items: int, deliveries: int) -> list[Delivery]:
    """`deliveries` webhooks over `items` workouts, 1-6 copies each, in a generated order."""
    copies = [1] * items
    for pick in draw(st.lists(st.integers(0, items - 1), min_size=deliveries - items, max_size=deliveries - items)):
        while copies[pick] >= 6:  # full: the extra copy goes to the next workout with room
            pick = (pick + 1) % items
        copies[pick] += 1
    plan = [(i, n > 0) for i, count in enumerate(copies) for n in range(count)]
    order = draw(st.permutations(plan))
    return [Delivery(i, later and draw(st.booleans()), draw(PAUSES)) for i, later in order]


def send_all(url: str, workout_ids: list[str], storm: list[Delivery], first_event: dict | None = None) -> list[int]:
    """POST every delivery from SENDERS threads; returns the HTTP statuses. `first_event`: each workout's
    first event id (index -> id), for re-sends of an earlier storm's events."""
    first_event = first_event or {i: str(uuid.uuid4()) for i in range(len(workout_ids))}
    work: queue.Queue = queue.Queue()
    for delivery in storm:
        work.put(delivery)
    statuses: list[int] = []

    def sender():
        with requests.Session() as http:
            while True:
                try:
                    delivery = work.get_nowait()
                except queue.Empty:
                    return
                time.sleep(delivery.pause)
                event_id = str(uuid.uuid4()) if delivery.new_event else first_event[delivery.item]
                body = {"id": event_id, "payload": {"workoutId": workout_ids[delivery.item]}}
                statuses.append(
                    http.post(url, json=body, headers={"Authorization": WEBHOOK_SECRET}, timeout=10).status_code
                )

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def all_synced(source_ids: list[str], routes: int = 1) -> bool:
    """Every record has its item on each of `routes` routes, and every item is synced."""
    items = SyncItem.objects.filter(source_id__in=source_ids)
    return items.count() == len(source_ids) * routes and not items.exclude(status=ItemStatus.SYNCED).exists()


def wait_until_synced(source_ids: list[str], routes: int = 1, timeout: float = 60) -> None:
    try:
        wait_for(lambda: all_synced(source_ids, routes), timeout=timeout)
    except AssertionError:
        stuck = SyncItem.objects.filter(source_id__in=source_ids).exclude(status=ItemStatus.SYNCED)
        fields = ("route", "source_id", "status", "queued_at", "next_attempt_at", "lease_expires_at", "rerun")
        fields += ("last_error",)
        raise AssertionError(f"not synced: {list(stuck.values_list(*fields))}") from None
    time.sleep(0.5)  # a late duplicate job would write now
    assert all_synced(source_ids, routes)


def storm_proof(live_server, hevy_sandbox, storm: list[Delivery], items: int) -> None:
    workouts = hevy_sandbox.add_workouts(items)
    ids = [w["id"] for w in workouts]
    statuses = send_all(live_server.url + WEBHOOK_PATH, ids, storm)
    assert statuses == [200] * len(storm)
    wait_until_synced(ids, timeout=60 + 2 * items)
    assert hevy_sandbox.writes_per_workout(ids) == dict.fromkeys(ids, 1)
    runs = SyncAttempt.objects.filter(item__source_id__in=ids).count()
    print(f"{items} workouts, {len(storm)} deliveries, {runs} job runs, one write each")


@pytest.fixture
def storm_worker(hevy_sandbox, hevy_accounts, worker_env):
    hevy_sandbox.intervals.latency = 0.05  # each job holds its item long enough for copies to land meanwhile
    with worker(workers=2, **worker_env, **hevy_sandbox.urls) as process:
        yield process


@settings(max_examples=3, **STORM_SETTINGS)
@given(storm=storms(items=10, deliveries=30))
def test_a_redelivery_storm_writes_each_workout_once(live_server, hevy_sandbox, storm_worker, storm):
    storm_proof(live_server, hevy_sandbox, storm, items=10)


@pytest.mark.slow
@settings(max_examples=10, **STORM_SETTINGS)
@given(storm=storms(items=50, deliveries=200))
def test_r2_fifty_workouts_two_hundred_deliveries(live_server, hevy_sandbox, storm_worker, storm):
    storm_proof(live_server, hevy_sandbox, storm, items=50)


# --- the optional routes: every delivery five times ------------------------------------------------------
def copies(items: int, new_events: tuple[bool, ...], rng: random.Random) -> list[Delivery]:
    """For each workout, a copy per entry of `new_events` (True: a new event, False: a re-send of its
    first), shuffled, each after a pause."""
    plan = [Delivery(item, new, rng.choice(PAUSE_SECONDS)) for item in range(items) for new in new_events]
    rng.shuffle(plan)
    return plan


def test_five_copies_of_every_hevy_webhook_make_one_garmin_and_one_intervals_activity_per_workout(
    live_server, user, hevy_sandbox, scale_sandbox, every_service
):
    """Each workout's first event, then a re-send and a new event while the jobs run, then a re-send and a
    new event once everything is synced: five deliveries each."""
    turn_on(user, "hevy_garmin")
    hevy_sandbox.intervals.latency = scale_sandbox.garmin.latency = 0.05  # copies land while a job runs
    workouts = hevy_sandbox.add_workouts(8)
    ids = [w["id"] for w in workouts]
    seed = random.randrange(2**32)
    rng, url = random.Random(seed), live_server.url + WEBHOOK_PATH
    first_event = dict(enumerate(str(uuid.uuid4()) for _ in ids))
    with worker(workers=2, **every_service):
        statuses = send_all(url, ids, [Delivery(i, False, 0.0) for i in range(len(ids))], first_event)
        wait_for(lambda: SyncAttempt.objects.filter(item__route="hevy_garmin").exists(), timeout=30)
        statuses += send_all(url, ids, copies(len(ids), (False, True), rng), first_event)
        wait_until_synced(ids, routes=2, timeout=90)
        statuses += send_all(url, ids, copies(len(ids), (False, True), rng), first_event)
        wait_until_synced(ids, routes=2, timeout=90)
    assert statuses == [200] * COPIES * len(ids), f"seed {seed}"

    assert hevy_sandbox.writes_per_workout(ids) == dict.fromkeys(ids, 1), f"seed {seed}"
    made = {w["id"]: scale_sandbox.activities_at(w["start_time"]) for w in workouts}
    assert {id_: len(found) for id_, found in made.items()} == dict.fromkeys(ids, 1), f"seed {seed}"
    recorded = dict(SyncItem.objects.filter(route="hevy_garmin").values_list("source_id", "destination_id"))
    assert recorded == {id_: str(found[0]["activityId"]) for id_, found in made.items()}
    assert {a["activityName"] for a in scale_sandbox.activities()} == {w["title"] for w in workouts}
    assert len(scale_sandbox.garmin.calls("POST", "/upload-service/upload")) == len(ids), "one upload each"
    runs = SyncAttempt.objects.filter(item__route="hevy_garmin").count()
    print(f"{len(ids)} workouts, {len(statuses)} deliveries, {runs} Garmin job runs, one upload each")


BERLIN = ZoneInfo("Europe/Berlin")
# (days ago, local time, weight kg, body fat %): two days of two weigh-ins each, the second day's first
# without body fat (the route picks each field from the first weigh-in of the day that has it), and one more.
WEIGH_INS = [
    (3, "07:05", "81.40", "21.2"),
    (3, "19:40", "82.10", "21.6"),
    (2, "06:55", "81.05", None),
    (2, "21:10", "81.90", "20.9"),
    (1, "07:00", "80.80", "20.7"),
]


def local(today: date, days_ago: int, clock: str) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), datetime.strptime(clock, "%H:%M").time(), BERLIN)


def expected_days(today: date) -> dict[str, dict[str, float]]:
    """The wellness record of each day under the default pick, "first" (field by field)."""
    days: dict[str, dict[str, float]] = {}
    for days_ago, clock, weight, fat in WEIGH_INS:
        record = days.setdefault(local(today, days_ago, clock).date().isoformat(), {})
        record.setdefault("weight", float(weight))
        if fat:
            record.setdefault("bodyFat", float(fat))
    return days


def notify_five_times(withings, measured: datetime) -> list:
    """The weigh-in's notification COPIES times at once: three copies of one, two covering other windows."""
    at = int(measured.timestamp())
    windows = [(at, at + 1)] * 3 + [(at - 3600, at + 1), (at - 86400, int(time.time()))]
    with ThreadPoolExecutor(COPIES) as senders:
        sent = senders.map(lambda window: withings.notify_user(WITHINGS_USER, 1, *window, retries=0), windows)
        return [delivery for deliveries in sent for delivery in deliveries]


def test_five_copies_of_every_withings_notification_make_one_wellness_value_per_day(
    live_server, settings, user, hevy_sandbox, scale_sandbox, scale_accounts, every_service
):
    settings.SITE_URL = every_service["SITE_URL"] = live_server.url
    turn_on(user, "withings_intervals")
    withings_account, _ = scale_accounts
    subscriptions.subscribe(withings_account)  # the fake HEAD-probes the live server first
    withings, today = scale_sandbox.withings, datetime.now(BERLIN).date()
    with worker(workers=2, **every_service):
        deliveries = []
        for days_ago, clock, weight, fat in WEIGH_INS:
            measured = local(today, days_ago, clock)
            body = {"fat_ratio": Decimal(fat)} if fat else {}
            withings.add_measurement(WITHINGS_USER, measured, weight_kg=Decimal(weight), **body)
            deliveries += notify_five_times(withings, measured)
        assert [(d.ok, d.status) for d in deliveries] == [(True, 200)] * COPIES * len(WEIGH_INS)
        wait_for(lambda: SyncItem.objects.filter(account=withings_account).count() == 2 * len(WEIGH_INS), timeout=60)
        source_ids = list(SyncItem.objects.filter(account=withings_account).values_list("source_id", flat=True))
        wait_until_synced(sorted(set(source_ids)), routes=2)

    days = hevy_sandbox.intervals.wellness(ATHLETE)
    fields = {
        day: {n: v for n, v in record.items() if n in ("weight", "bodyFat") and v is not None}
        for day, record in days.items()
    }
    assert fields == expected_days(today)
    wellness_items = SyncItem.objects.filter(route="withings_intervals")
    assert set(wellness_items.values_list("destination_id", flat=True)) == set(fields), "each on its local day"
    weigh_ins = scale_sandbox.weigh_ins()
    assert len(weigh_ins) == len(WEIGH_INS), "one Garmin weigh-in per measurement"
    assert len(scale_sandbox.garmin.calls("POST", "/upload-service/upload")) == len(WEIGH_INS)
    fetches = SyncRun.objects.filter(account=withings_account).count()
    puts = len(hevy_sandbox.intervals.calls("PUT", r"/wellness"))
    print(f"{len(WEIGH_INS)} weigh-ins, {len(deliveries)} notifications, {fetches} fetches, {puts} wellness PUTs")
