"""R3: create/update/delete histories of Hevy workouts, delivered in any order, then one reconciliation.

A hypothesis state machine edits workouts in the fake Hevy and interleaves, in any order: webhooks (new
events and re-sends) through the real view, events-feed polls, and the queued jobs, each run zero, one or
more times (at-least-once delivery). At the end the outstanding jobs run, then one reconciliation (the
events poll task and the jobs it queues) and the fake Intervals.icu must equal the fake Hevy: one activity
per live workout with its current content, none for a deleted one.

For speed the jobs run inline (`fitsync.sync.run_item`) and the fakes are reached in-process through
`responses`; the broker and the worker process are proven by the other modules of this package.
"""

import random
import uuid
from datetime import UTC, datetime

import pytest
import responses
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from fitsync import sync
from fitsync.models import ConnectedAccount, InboundEvent, SyncItem
from integrations.hevy import tasks as hevy_tasks
from integrations.hevy.client import HevyClient
from integrations.intervals.mapping import activity_from_workout
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.mock import mount
from sandbox.workouts import generate_workouts

from .conftest import ATHLETE, HEVY_KEY, INTERVALS_KEY, WEBHOOK_PATH, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)
TITLES = st.sampled_from(["Push", "Pull", "Legs", "Push (edited)", "Deadlift day", "Zone 2 + core"])


class HevyHistories(RuleBasedStateMachine):
    """One example: fresh fakes and an empty queue; the accounts come from the test's fixtures."""

    client = hevy_account = current = None  # set by the test; `current` is the running example
    workouts = Bundle("workouts")

    @initialize(collapse_events=st.booleans(), bulk_upsert=st.booleans())
    def start(self, collapse_events, bulk_upsert):
        SyncItem.objects.all().delete()
        InboundEvent.objects.all().delete()
        ConnectedAccount.objects.filter(pk=self.hevy_account.pk).update(cursor="")
        self.hevy, self.intervals = HevyFake(collapse_events=collapse_events), IntervalsFake(bulk_upsert=bulk_upsert)
        self.hevy.add_user(HEVY_KEY)
        self.intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin")
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        mount(self.mock, self.hevy, django_settings.HEVY_API_URL)
        mount(self.mock, self.intervals, django_settings.INTERVALS_API_URL)
        self.jobs: list[int] = []  # item ids handed to the "broker", in the order they were sent
        HevyHistories.current = self
        self.events: dict[str, list[str]] = {}

    def teardown(self):
        if hasattr(self, "mock"):
            try:
                self.reconcile_and_compare()
            finally:
                self.mock.stop()
                self.mock.reset()

    # --- what happens in Hevy ---------------------------------------------------------------------
    @rule(target=workouts, title=TITLES)
    def create(self, title):
        (workout,) = generate_workouts(1, rng=random.Random(uuid.uuid4().int), end=datetime.now(UTC))
        saved_at = datetime.now(UTC).isoformat()  # Hevy stamps a save with the server's time
        return self.hevy.add_workout(HEVY_KEY, {**workout, "title": title, "updated_at": saved_at})["id"]

    @rule(workout_id=workouts, title=TITLES, notes=st.text(max_size=20))
    def update(self, workout_id, title, notes):
        if self.is_alive(workout_id):
            self.hevy.update_workout(HEVY_KEY, workout_id, title=title, description=notes)

    @rule(workout_id=workouts)
    def delete(self, workout_id):
        if self.is_alive(workout_id):
            self.hevy.delete_workout(HEVY_KEY, workout_id)

    # --- deliveries, in any order -----------------------------------------------------------------
    @rule(workout_id=workouts, resend=st.booleans())
    def webhook(self, workout_id, resend):
        sent = self.events.setdefault(workout_id, [])
        if not (resend and sent):
            sent.append(str(uuid.uuid4()))
        body = {"id": sent[-1], "payload": {"workoutId": workout_id}}
        response = self.client.post(
            WEBHOOK_PATH, body, content_type="application/json", HTTP_AUTHORIZATION=WEBHOOK_SECRET
        )
        assert response.status_code == 200

    @rule()
    def poll(self):
        hevy_tasks.poll_events()

    @rule(pick=st.integers(min_value=0), again=st.booleans())
    def run_job(self, pick, again):
        """One queued job, any of them; with `again` its delivery is repeated later (at-least-once)."""
        if self.jobs:
            item_id = self.jobs[pick % len(self.jobs)]
            if not again:
                self.jobs.remove(item_id)
            sync.run_item(item_id)

    # --- the end: reconciliation, then Intervals.icu must equal Hevy ------------------------------
    def reconcile_and_compare(self):
        self.drain()
        hevy_tasks.poll_events()  # the reconciliation
        self.drain()
        live = self.hevy.users[HEVY_KEY]["workouts"]
        activities = self.intervals.activities(ATHLETE)
        by_workout = {}
        for activity in activities:
            by_workout.setdefault(activity["external_id"], []).append(activity)
        assert set(by_workout) == set(live), "an activity per live workout, none for a deleted one"
        client = HevyClient(HEVY_KEY)
        for workout_id, (activity, *duplicates) in by_workout.items():
            assert not duplicates, f"workout {workout_id} has {1 + len(duplicates)} activities"
            expected = activity_from_workout(client.workout(workout_id), "Europe/Berlin")
            assert {k: activity.get(k) for k in expected} == expected

    def drain(self):
        for _ in range(20):
            sync.dispatch_due()
            if not self.jobs:
                return
            while self.jobs:
                sync.run_item(self.jobs.pop(0))
        raise AssertionError("jobs keep coming")

    def is_alive(self, workout_id) -> bool:
        return workout_id in self.hevy.users[HEVY_KEY]["workouts"]


def run_histories(monkeypatch, client, hevy_accounts, examples: int, steps: int):
    HevyHistories.client, HevyHistories.hevy_account = client, hevy_accounts[0]
    monkeypatch.setattr("fitsync.sync._send", lambda ids: HevyHistories.current.jobs.extend(ids))
    run_state_machine_as_test(
        HevyHistories,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


@pytest.fixture
def inline(settings):
    settings.HEVY_REQUESTS_PER_SECOND = settings.INTERVALS_REQUESTS_PER_SECOND = 0


def test_histories_in_any_order_end_with_intervals_equal_to_hevy(inline, monkeypatch, client, hevy_accounts):
    run_histories(monkeypatch, client, hevy_accounts, examples=15, steps=20)


@pytest.mark.slow
def test_histories_in_any_order_full_budget(inline, monkeypatch, client, hevy_accounts):
    run_histories(monkeypatch, client, hevy_accounts, examples=500, steps=50)
