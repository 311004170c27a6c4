"""R2, the redelivery storm: copies of Hevy webhooks, shuffled and concurrent, make one write per workout.

GIVEN a live fitsync web server, a real `qcluster` worker and the sandbox Hevy and Intervals.icu over HTTP,
WHEN sender threads POST 1-6 copies of each workout's webhook (re-sends of one event and new events for the
same workout) in a generated order with generated pauses, some while the first copy is being processed,
THEN every workout is synced and the Intervals.icu ledger shows exactly one write per workout.
"""

import queue
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitsync.models import ItemStatus, SyncAttempt, SyncItem
from tests.live import wait_for, worker

from .conftest import WEBHOOK_PATH, WEBHOOK_SECRET

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
SENDERS = 6
PAUSES = st.sampled_from([0.0, 0.0, 0.0, 0.005, 0.02, 0.1, 0.3])
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


def send_all(url: str, workout_ids: list[str], storm: list[Delivery]) -> list[int]:
    """POST every delivery from SENDERS threads; returns the HTTP statuses."""
    first_event = {i: str(uuid.uuid4()) for i in range(len(workout_ids))}
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


def all_synced(workout_ids: list[str]) -> bool:
    items = SyncItem.objects.filter(source_id__in=workout_ids)
    return items.count() == len(workout_ids) and not items.exclude(status=ItemStatus.SYNCED).exists()


def storm_proof(live_server, hevy_sandbox, storm: list[Delivery], items: int) -> None:
    workouts = hevy_sandbox.add_workouts(items)
    ids = [w["id"] for w in workouts]
    statuses = send_all(live_server.url + WEBHOOK_PATH, ids, storm)
    assert statuses == [200] * len(storm)
    try:
        wait_for(lambda: all_synced(ids), timeout=60 + 2 * items)
    except AssertionError:
        stuck = SyncItem.objects.filter(source_id__in=ids).exclude(status=ItemStatus.SYNCED)
        fields = ("source_id", "status", "queued_at", "next_attempt_at", "lease_expires_at", "rerun", "last_error")
        raise AssertionError(f"not synced: {list(stuck.values_list(*fields))}") from None
    time.sleep(0.5)  # a late duplicate job would write now
    assert all_synced(ids)
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
