"""The engine's state machine, with a scripted destination standing in for a real one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync import sync
from fitsync.errors import AuthExpired, PermanentError, RateLimited, TransientError
from fitsync.models import AccountStatus, ItemStatus, SyncItem
from fitsync.roles import Described, Destination, NotYet, Source
from fitsync.routes import ROUTES, Route
from tests.items import put_in_state

pytestmark = pytest.mark.django_db


class ItemSource(Source):
    """A source whose record is what the item already holds."""

    provider = "hevy"

    def fetch(self, context):
        return context.item

    def describe(self, item):
        return Described(item.title, item.occurred_at, item.snapshot)


class ScriptedRoute(Destination):
    """Plays a list of outcomes (exceptions or results), one per write, recording each call."""

    provider = "intervals"

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0
        self.writes = 0

    def write(self, context, payload):
        return self(context)

    def __call__(self, context):
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else sync.SyncResult(action="created", destination_id="d1")
        if isinstance(outcome, Exception):
            raise outcome
        self.writes += outcome.action in ("created", "updated")
        return outcome


def as_it_is(record, target):
    return record


@pytest.fixture
def route(monkeypatch):
    script = ScriptedRoute()
    monkeypatch.setitem(ROUTES, "test_route", Route("test_route", "Test", ItemSource(), script, as_it_is))
    return script


@pytest.fixture
def item(make_account):
    source = make_account("hevy")
    make_account("intervals")
    return SyncItem.objects.create(account=source, route="test_route", source_id="w1", title="Leg day")


def run(item):
    sync.run_item(item.pk)
    item.refresh_from_db()
    return item


def test_it_syncs_a_pending_item(route, item):
    item = run(item)
    assert (item.status, item.destination_id, item.attempts, item.lease_owner) == ("synced", "d1", 1, "")
    assert item.attempt_log.get().outcome == "created"


def test_it_retries_transient_errors_with_backoff(route, item, settings):
    settings.SYNC_BACKOFF_BASE = 30
    route.outcomes = [TransientError("HTTP 503", provider="intervals")]
    before = timezone.now()
    item = run(item)
    assert (item.status, item.attempts, item.last_error) == ("pending", 1, "HTTP 503")
    assert before + timedelta(seconds=22) <= item.next_attempt_at <= before + timedelta(seconds=31)
    assert sync.run_item(item.pk).endswith("not due or taken by another worker")  # not before the backoff


def test_it_respects_retry_after(route, item, settings):
    settings.SYNC_BACKOFF_BASE = 1
    route.outcomes = [RateLimited("HTTP 429", provider="intervals", retry_after=600)]
    before = timezone.now()
    item = run(item)
    assert item.next_attempt_at >= before + timedelta(seconds=600)


def test_a_429_spends_no_attempt_so_a_busy_upstream_never_fails_the_item(route, item, settings):
    settings.SYNC_MAX_ATTEMPTS = 2
    route.outcomes = [RateLimited("HTTP 429", provider="intervals")] * 3
    for _ in range(3):
        SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
        item = run(item)
        assert (item.status, item.attempts) == ("pending", 0) and "tries again shortly" in item.last_error
        assert item.next_attempt_at > timezone.now()
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    assert run(item).status == "synced"
    assert [a.outcome for a in item.attempt_log.order_by("pk")] == ["waiting"] * 3 + ["created"]


def test_it_bounds_the_backoff(settings):
    settings.SYNC_BACKOFF_BASE, settings.SYNC_BACKOFF_MAX = 30, 3600
    assert all(sync.backoff_seconds(n) <= 3600 for n in range(1, 40))
    assert sync.backoff_seconds(3) > sync.backoff_seconds(1)


def test_it_gives_up_after_max_attempts(route, item, settings):
    settings.SYNC_MAX_ATTEMPTS = 2
    route.outcomes = [TransientError("down"), TransientError("still down")]
    item = run(item)
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    item = run(item)
    assert (item.status, item.attempts, item.last_error) == ("failed", 2, "still down")


def test_it_fails_permanent_errors_at_once_with_the_message(route, item):
    route.outcomes = [PermanentError("Intervals.icu: HTTP 422: Name is too long")]
    item = run(item)
    assert (item.status, item.attempts) == ("failed", 1)
    assert "Name is too long" in item.last_error


def test_it_marks_the_account_on_auth_errors_and_burns_no_attempt(route, item):
    route.outcomes = [AuthExpired("HTTP 401", provider="intervals")]
    item = run(item)
    destination = item.account.owner.accounts.get(provider="intervals")
    assert destination.status == AccountStatus.NEEDS_REAUTH
    assert "Reconnect" in destination.status_message
    assert (item.status, item.attempts) == ("pending", 0)
    assert list(sync.due_items()) == []  # waits until the account is reconnected
    destination.mark_connected()
    assert list(sync.due_items()) == [item.pk]


def test_it_waits_when_the_destination_is_not_connected(route, make_account):
    item = SyncItem.objects.create(account=make_account("hevy"), route="test_route", source_id="w2")
    item = run(item)
    assert (item.status, item.attempts, route.calls) == ("pending", 0, 0)
    assert "Connect Intervals.icu" in item.last_error


def test_a_destination_that_says_not_yet_gets_the_item_back_at_that_time_without_spending_an_attempt(
    route, item, sent_jobs, django_capture_on_commit_callbacks
):
    import time_machine

    later = timezone.now().replace(microsecond=0) + timedelta(minutes=30)
    route.outcomes = [NotYet(later, "Waiting until 18:45 for your watch to sync")]
    item = run(item)
    assert (item.status, item.attempts, item.next_attempt_at) == ("pending", 0, later)
    assert item.last_error == "Waiting until 18:45 for your watch to sync"
    assert item.attempt_log.get().outcome == "waiting"
    assert list(sync.due_items()) == [] and sync.run_item(item.pk).endswith("not due or taken by another worker")
    with time_machine.travel(later - timedelta(seconds=1), tick=False):
        assert list(sync.due_items()) == []
    with time_machine.travel(later, tick=False):
        assert list(sync.due_items()) == [item.pk]
        with django_capture_on_commit_callbacks(execute=True):
            assert sync.dispatch_due() == 1
        item = run(item)
    assert (item.status, item.attempts, item.last_error, route.calls) == ("synced", 1, "", 2)


def test_a_job_run_twice_runs_once(route, item):
    sync.run_item(item.pk)
    sync.run_item(item.pk)
    assert route.calls == 1


def test_it_does_not_claim_an_item_leased_by_another_worker(route, item):
    assert SyncItem.objects.claim(item.pk, "other-worker") is not None
    assert sync.run_item(item.pk).endswith("taken by another worker")
    assert route.calls == 0


def test_a_resync_committed_while_the_claim_waited_for_the_lock_is_still_claimed(route, item, monkeypatch):
    # The worker read `now`, then waited for the write lock while a resync set next_attempt_at just after it.
    first = timezone.now()
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=first + timedelta(milliseconds=200))
    clock, real_now = iter([first, first + timedelta(seconds=1)]), timezone.now
    monkeypatch.setattr(sync.timezone, "now", lambda: next(clock, None) or real_now())
    assert SyncItem.objects.claim(item.pk, "worker") is not None


def test_a_job_that_finds_its_item_not_due_drops_the_queued_mark(
    route, item, sent_jobs, django_capture_on_commit_callbacks
):
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        sync.enqueue([item.pk])
        assert "not due" in sync.run_item(item.pk)
        SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
        assert sync.enqueue([item.pk]) == 1  # a click right after queues a job again, not 6 minutes later
    assert sent_jobs == [item.pk, item.pk]


def test_the_dispatcher_recovers_an_expired_lease(route, item, sent_jobs, django_capture_on_commit_callbacks):
    SyncItem.objects.claim(item.pk, "worker-that-died")
    SyncItem.objects.filter(pk=item.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sync.dispatch_due() == 1
    assert sent_jobs == [item.pk]
    item = run(item)
    assert item.status == "synced" and route.calls == 1


def test_enqueue_sends_one_job_per_item_however_often_it_is_asked(item, sent_jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = [sync.enqueue([item.pk]) for _ in range(20)]
    assert queued == [1] + [0] * 19
    assert sent_jobs == [item.pk]


def test_enqueue_requeues_a_task_the_broker_lost(item, sent_jobs, django_capture_on_commit_callbacks, settings):
    SyncItem.objects.filter(pk=item.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync.enqueue([item.pk]) == 1


def test_new_data_during_a_run_triggers_another_run(route, item, sent_jobs, django_capture_on_commit_callbacks):
    class EditingDestination(ScriptedRoute):
        def write(self, context, payload):
            SyncItem.objects.upsert(context.item.account_id, "test_route", "w1", title="Leg day (edited)")
            return sync.SyncResult(action="created", destination_id="d1")

    ROUTES["test_route"] = Route("test_route", "Test", ItemSource(), EditingDestination(), as_it_is)
    with django_capture_on_commit_callbacks(execute=True):
        item = run(item)
    assert (item.status, item.title, item.rerun) == ("pending", "Leg day (edited)", False)
    assert sent_jobs == [item.pk]


def test_a_crashing_route_fails_the_attempt_instead_of_leaving_it_running(route, item):
    route.outcomes = [ZeroDivisionError()]
    item = run(item)
    assert item.status == "pending" and "Internal error" in item.last_error and item.lease_owner == ""


def test_an_error_at_the_destination_is_shown_on_the_destination_account(route, item):
    route.outcomes = [TransientError("HTTP 503", provider="intervals")]
    item = run(item)
    source, destination = item.account, item.account.owner.accounts.get(provider="intervals")
    source.refresh_from_db()
    assert (destination.last_error, source.last_error) == ("HTTP 503", "")


def test_a_later_success_clears_the_destination_accounts_error(route, item):
    """The destination's card must not keep showing a 503 as its current problem once a sync went through."""
    route.outcomes = [TransientError("HTTP 503", provider="intervals")]
    run(item)
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    run(item)
    destination = item.account.owner.accounts.get(provider="intervals")
    assert destination.last_success_at and destination.last_success_at > destination.last_error_at


def test_the_reauth_message_names_the_action_once(route, item):
    route.outcomes = [AuthExpired("the sign-in was removed. Reconnect Garmin", provider="intervals")]
    item = run(item)
    message = item.account.owner.accounts.get(provider="intervals").status_message
    assert message.count("Reconnect") == 1


@pytest.mark.parametrize(
    "row_status, given, expected",
    [
        ("running", {}, ("running", True)),
        ("synced", {}, ("pending", False)),
        ("held", {}, ("held", False)),
        ("held", {"status": ItemStatus.SKIPPED}, ("skipped", False)),
        ("running", {"status": ItemStatus.SKIPPED}, ("running", True)),
    ],
)
def test_upsert_of_an_existing_item_follows_its_row(item, row_status, given, expected):
    """Decided inside the one statement, so a worker's claim or record just before it is respected (R2)."""
    put_in_state(SyncItem.objects.filter(pk=item.pk), status=row_status)
    item_id, created = SyncItem.objects.upsert(item.account_id, item.route, item.source_id, title="edited", **given)
    updated = SyncItem.objects.get(pk=item_id)
    assert (item_id, created) == (item.pk, False)
    assert (updated.status, updated.rerun) == expected and updated.title == "edited"


def test_upsert_creates_a_pending_item_with_the_given_fields(item):
    item_id, created = SyncItem.objects.upsert(
        item.account_id, item.route, "w-new", title="Push day", snapshot={"sets": 3}
    )
    created_item = SyncItem.objects.get(pk=item_id)
    assert created and created_item.status == ItemStatus.PENDING and created_item.snapshot == {"sets": 3}
    assert created_item.title == "Push day" and created_item.next_attempt_at <= timezone.now()
