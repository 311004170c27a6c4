"""POST /webhooks/hevy/: status codes, dedupe, and no upstream call while Hevy waits."""

import json
import threading

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fitsync.models import InboundEvent, SyncItem

from .conftest import HEVY_KEY, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
URL = "/webhooks/hevy/"
WORKOUT = "b459cba5-cd6d-463c-abd6-54f8eafcadcb"


def deliver(client, body, authorization=WEBHOOK_SECRET, content_type="application/json"):
    data = json.dumps(body) if isinstance(body, dict) else body
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return client.generic("POST", URL, data, content_type=content_type, **headers)


def delivery(workout_id=WORKOUT, event_id="7f3e0c1a-0d4b-4c55-9a61-2f1e7d3b9a40"):
    return {"id": event_id, "payload": {"workoutId": workout_id}}


@pytest.mark.parametrize("authorization", [WEBHOOK_SECRET, f"Bearer {WEBHOOK_SECRET}", f"bearer  {WEBHOOK_SECRET}"])
def test_it_accepts_the_raw_secret_and_bearer(
    client, hevy_account, sent_jobs, authorization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, delivery(), authorization)
    assert response.status_code == 200
    item = SyncItem.objects.get()
    assert (item.account, item.route, item.source_id, item.status) == (
        hevy_account,
        "hevy_intervals",
        WORKOUT,
        "pending",
    )
    assert sent_jobs == [item.pk]
    assert InboundEvent.objects.get().account == hevy_account


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "wrong", f"Bearer {WEBHOOK_SECRET}x", WEBHOOK_SECRET[:-1]]
)
def test_it_refuses_a_missing_or_wrong_secret(client, hevy_account, authorization):
    assert deliver(client, delivery(), authorization).status_code == 401
    assert not SyncItem.objects.exists() and not InboundEvent.objects.exists()


def test_it_refuses_a_body_over_64_kb(client, hevy_account):
    body = json.dumps({**delivery(), "padding": "x" * 65 * 1024})
    assert deliver(client, body).status_code == 413
    assert not SyncItem.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        '{"payload": {}}',
        '{"payload": "w1"}',
        '{"payload": {"workoutId": 5}}',
        '{"payload": {"workoutId": "../../etc"}}',
        '{"id": "e1"}',
        b"\xff\xfe",
    ],
)
def test_it_answers_400_to_anything_without_a_workout_id(client, hevy_account, body):
    assert deliver(client, body).status_code == 400
    assert not SyncItem.objects.exists()


def test_it_answers_probes_without_touching_anything(client, hevy_account):
    assert client.get(URL).status_code == 200
    assert client.head(URL).status_code == 200
    assert client.put(URL).status_code == 405


def test_duplicate_deliveries_make_one_item_and_one_job(
    client, hevy_account, sent_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answers = [deliver(client, delivery()).json()["outcome"] for _ in range(3)]
        answers.append(deliver(client, delivery(event_id="another-delivery-same-workout")).json()["outcome"])
    assert answers == ["accepted", "duplicate", "duplicate", "accepted"]
    assert SyncItem.objects.count() == 1
    assert len(sent_jobs) == 1  # the second event found the job already queued


def test_it_makes_no_upstream_call(client, hevy_account, upstreams, hevy, intervals):
    deliver(client, delivery())
    assert hevy.ledger == [] and intervals.ledger == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_make_one_item_and_one_job(hevy_account, sent_jobs):
    from django.test import Client

    answers = []

    def send(n):
        try:
            answers.append(deliver(Client(), delivery(event_id=f"event-{n % 3}")).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert answers == [200] * 12
    assert SyncItem.objects.count() == 1 and InboundEvent.objects.count() == 3
    assert len(sent_jobs) == 1


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
        ).map(lambda v: json.dumps({"payload": v}).encode()),
    ),
    authorized=st.booleans(),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_fuzzed_bodies_never_cause_a_server_error(client, hevy_account, body, authorized, content_type):
    response = deliver(client, body, WEBHOOK_SECRET if authorized else "nope", content_type)
    assert response.status_code in ((200, 400) if authorized else (401,))
    if not authorized:
        assert not SyncItem.objects.exists()


def test_copies_delivered_in_any_order_and_during_a_sync_write_each_workout_once(
    client, upstreams, accounts, hevy, intervals, sent_jobs, django_capture_on_commit_callbacks
):
    import random

    workouts = [hevy.add_workout(HEVY_KEY, {"title": f"W{n}"})["id"] for n in range(5)]
    copies = [(w, f"event-{w}-{c % 2}") for w in workouts for c in range(random.Random(w).randint(1, 6))]
    random.Random(4).shuffle(copies)
    original = hevy._get_workout

    def redelivered_while_syncing(request, user, workout_id):
        deliver(client, delivery(workout_id, event_id=f"during-{workout_id}"))  # Hevy re-sends meanwhile
        return original(request, user, workout_id)

    hevy.routes = [
        (m, p, hevy._authed(redelivered_while_syncing) if "workout_id" in p.pattern else h) for m, p, h in hevy.routes
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for n, (workout_id, event_id) in enumerate(copies):
            deliver(client, delivery(workout_id, event_id))
            if n % 3 == 0:
                drain()
        drain()
    assert sorted(a["external_id"] for a in intervals.activities("i12345")) == sorted(workouts)
    assert len(intervals.calls("POST", r"/manual/bulk")) == 5
    assert SyncItem.objects.filter(status="synced").count() == 5


def drain():
    from django.utils import timezone

    from fitsync import sync

    while SyncItem.objects.filter(status="pending").exists():
        SyncItem.objects.update(next_attempt_at=timezone.now())
        for pk in SyncItem.objects.filter(status="pending").values_list("pk", flat=True):
            sync.run_item(pk)


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="the ORM broker's job row")
def test_an_accepted_delivery_has_its_job_row_committed_with_it(client, hevy_account):
    """R1: nothing acknowledged before the event and its job are committed (one transaction, one job)."""
    from django_q.models import OrmQ

    assert deliver(client, delivery()).status_code == 200
    assert deliver(client, delivery(event_id="0d8a1c55-1f6e-4b8e-8a53-1c9b6f1e2d77")).status_code == 200
    item = SyncItem.objects.get()
    (job,) = OrmQ.objects.all()
    assert (job.func(), job.task["args"], job.name()) == ("fitsync.tasks.sync_item", (item.pk,), f"sync item {item.pk}")


def test_a_delivery_whose_transaction_fails_leaves_nothing(client, hevy_account, monkeypatch):
    def fail(item_ids, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("fitsync.sync.enqueue", fail)
    with pytest.raises(RuntimeError):
        deliver(client, delivery())
    assert not InboundEvent.objects.exists() and not SyncItem.objects.exists()


# --- what the top-level id identifies is undocumented: every variant the fake can send ---------------
@pytest.fixture(params=["per_event", "stable"])
def webhook_ids(request, hevy):
    hevy.webhook_ids = request.param
    return request.param


def deliver_saved(client, hevy, workout_id, django_capture_on_commit_callbacks):
    """One new webhook event for `workout_id` as the fake sends it, then the jobs it queued."""
    body = hevy.webhook_body(workout_id)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = deliver(client, body).json()["outcome"]
        drain()
    return body, outcome


def test_two_workouts_both_sync_whatever_the_id_identifies(
    client, upstreams, accounts, hevy, intervals, sent_jobs, webhook_ids, django_capture_on_commit_callbacks
):
    first, second = (hevy.add_workout(HEVY_KEY, {"title": t})["id"] for t in ("Push", "Pull"))
    outcomes = [deliver_saved(client, hevy, w, django_capture_on_commit_callbacks)[1] for w in (first, second)]
    assert outcomes == ["accepted", "accepted"]
    assert sorted(a["external_id"] for a in intervals.activities("i12345")) == sorted([first, second])


def test_an_immediate_redelivery_writes_once(
    client, upstreams, accounts, hevy, intervals, sent_jobs, webhook_ids, django_capture_on_commit_callbacks
):
    workout = hevy.add_workout(HEVY_KEY, {"title": "Legs"})["id"]
    body, _ = deliver_saved(client, hevy, workout, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, body).json()["outcome"] == "duplicate"  # Hevy re-sends the same body
        drain()
    assert len(intervals.calls("POST")) == 1 and len(hevy.calls("GET", r"/v1/workouts/")) == 1


def test_an_edit_delivered_later_syncs_again(
    client,
    upstreams,
    accounts,
    hevy,
    intervals,
    sent_jobs,
    webhook_ids,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.hevy import webhook

    workout = hevy.add_workout(HEVY_KEY, {"title": "Legs"})["id"]
    deliver_saved(client, hevy, workout, django_capture_on_commit_callbacks)
    hevy.update_workout(HEVY_KEY, workout, title="Legs (edited)")
    later = timezone.now() + webhook.REDELIVERY_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(webhook, "clock", lambda: later)
    _, outcome = deliver_saved(client, hevy, workout, django_capture_on_commit_callbacks)
    assert outcome == "accepted"
    assert [a["name"] for a in intervals.activities("i12345")] == ["Legs (edited)"]


def test_the_same_pair_just_inside_the_window_is_still_a_redelivery(client, hevy_account, sent_jobs, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.hevy import webhook

    start = timezone.now()
    for offset in (0, webhook.REDELIVERY_WINDOW.total_seconds() - 1):
        monkeypatch.setattr(webhook, "clock", lambda offset=offset: start + timedelta(seconds=offset))
        outcome = deliver(client, delivery()).json()["outcome"]
    assert outcome == "duplicate" and InboundEvent.objects.count() == 1
