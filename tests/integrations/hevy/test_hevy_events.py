"""Edits, deletions and missed webhooks through /v1/workouts/events, then the real sync job."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync import sync
from fitsync.models import ConnectedAccount, SyncItem
from integrations.hevy import tasks
from integrations.hevy.events import poll_account
from integrations.hevy.mapping import parse_time

from .conftest import ATHLETE, HEVY_KEY

pytestmark = pytest.mark.django_db


def sync_all():
    SyncItem.objects.update(next_attempt_at=timezone.now())
    for pk in SyncItem.objects.filter(status="pending").values_list("pk", flat=True):
        sync.run_item(pk)


def poll_and_sync(account):
    summary = poll_account(ConnectedAccount.objects.get(pk=account.pk))
    sync_all()
    return summary


def test_it_catches_a_workout_whose_webhook_never_arrived(upstreams, accounts, hevy, intervals, sent_jobs):
    workout = hevy.add_workout(HEVY_KEY, {"title": "Missed webhook", "start_time": "2024-09-01T16:00:00+00:00"})
    assert str(poll_and_sync(accounts[0])) == "1 to update, 0 to delete, 0 unchanged"
    (activity,) = intervals.activities(ATHLETE)
    assert (activity["name"], activity["external_id"], activity["start_date_local"]) == (
        "Missed webhook",
        workout["id"],
        "2024-09-01T18:00:00",
    )


def test_an_edit_updates_and_a_deletion_deletes_the_same_activity(upstreams, accounts, hevy, intervals, sent_jobs):
    workout = hevy.add_workout(HEVY_KEY, {"title": "Legs", "start_time": "2024-09-01T16:00:00+00:00"})
    poll_and_sync(accounts[0])
    (created,) = intervals.activities(ATHLETE)

    hevy.update_workout(HEVY_KEY, workout["id"], title="Legs (edited)")
    assert str(poll_and_sync(accounts[0])) == "1 to update, 0 to delete, 0 unchanged"
    (updated,) = intervals.activities(ATHLETE)
    assert (updated["id"], updated["name"]) == (created["id"], "Legs (edited)")

    hevy.delete_workout(HEVY_KEY, workout["id"])
    assert str(poll_and_sync(accounts[0])) == "0 to update, 1 to delete, 0 unchanged"
    assert intervals.activities(ATHLETE) == []
    assert [c.path for c in intervals.calls("DELETE")] == [f"/api/v1/activity/{created['id']}"]


def test_a_deleted_workout_fitsync_never_synced_is_left_alone(upstreams, accounts, hevy, intervals, sent_jobs):
    workout = hevy.add_workout(HEVY_KEY, {"title": "Before fitsync"})
    hevy.delete_workout(HEVY_KEY, workout["id"])
    account = ConnectedAccount.objects.get(pk=accounts[0].pk)
    account.cursor = "1970-01-01T00:00:00Z"
    poll_and_sync(account)
    assert not SyncItem.objects.filter(operation="delete").exists()
    assert intervals.calls("DELETE") == []


def test_the_watermark_moves_only_after_a_successful_read(upstreams, accounts, hevy, sent_jobs):
    before = accounts[0].cursor
    hevy.add_workouts(HEVY_KEY, [{"title": f"W{n}"} for n in range(12)])  # two pages of events
    # First poll: page 1 answers, page 2 fails -> nothing stored, watermark unchanged.
    calls = {"n": 0}
    original = hevy._list_events

    def second_page_fails(request, user):
        calls["n"] += 1
        if request.query.get("page") == "2" and calls["n"] == 2:
            return hevy.error_response(503, "down")
        return original(request, user)

    hevy.routes = [(m, p, (hevy._authed(second_page_fails) if "events" in p.pattern else h)) for m, p, h in hevy.routes]
    assert tasks.poll_one(ConnectedAccount.objects.get(pk=accounts[0].pk))[0] is False
    account = ConnectedAccount.objects.get(pk=accounts[0].pk)
    assert account.cursor == before and not SyncItem.objects.exists()
    assert "Hevy: HTTP 503" in account.last_error

    assert tasks.poll_one(account)[0] is True
    account.refresh_from_db()
    assert account.cursor > before and SyncItem.objects.count() == 12
    # Nothing new since: the overlap reads the last minutes again and leaves the queued items alone.
    assert str(poll_account(account)) == "0 to update, 0 to delete, 12 unchanged"


def test_replayed_events_are_not_synced_again(upstreams, accounts, hevy, intervals, sent_jobs):
    hevy.add_workout(HEVY_KEY, {"title": "Once"})
    account = ConnectedAccount.objects.get(pk=accounts[0].pk)
    start = account.cursor
    poll_and_sync(account)
    ConnectedAccount.objects.filter(pk=account.pk).update(cursor=start)  # as if the watermark was not saved
    assert str(poll_and_sync(account)) == "0 to update, 0 to delete, 1 unchanged"
    assert len(intervals.calls("POST", r"/manual/bulk")) == 1


def test_histories_in_any_order_end_in_the_source_state(upstreams, accounts, hevy, intervals, sent_jobs):
    hevy.collapse_events = False  # every change listed, newest first
    workout = hevy.add_workout(HEVY_KEY, {"title": "v1"})
    hevy.update_workout(HEVY_KEY, workout["id"], title="v2")
    hevy.update_workout(HEVY_KEY, workout["id"], title="v3")
    poll_and_sync(accounts[0])
    assert [a["name"] for a in intervals.activities(ATHLETE)] == ["v3"]


def test_a_rejected_key_marks_the_account_for_reconnection(upstreams, accounts, hevy):
    hevy.users.clear()
    assert "no Hevy accounts" not in tasks.poll_events()
    assert ConnectedAccount.objects.get(pk=accounts[0].pk).status == "needs_reauth"


def test_the_schedules_exist_after_migrate():
    from django_q.models import Schedule

    names = dict(Schedule.objects.values_list("func", "minutes"))
    assert names["integrations.hevy.tasks.poll_events"] == 15
    assert names["integrations.intervals.tasks.refresh_timezones"] == 24 * 60


# --- the feed's timestamps, its overlap and its failures ------------------------------------------
@pytest.mark.parametrize("since_format", ["any", "z"])
def test_since_is_sent_as_hevy_writes_timestamps(upstreams, accounts, hevy, intervals, sent_jobs, since_format):
    hevy.since_format = since_format  # "z": Hevy refuses `+00:00`
    hevy.add_workout(HEVY_KEY, {"title": "Push"})
    assert tasks.poll_one(ConnectedAccount.objects.get(pk=accounts[0].pk))[0] is True
    sent = [call.query["since"] for call in hevy.calls("GET", r"/events$")]
    assert sent and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", since) for since in sent)
    sync_all()
    assert len(intervals.activities(ATHLETE)) == 1


def test_an_event_stamped_just_before_the_watermark_is_still_read(upstreams, accounts, hevy, intervals, sent_jobs):
    """GIVEN a poll that moved the watermark to the newest event
    WHEN an event stamped a minute earlier shows up in the feed only afterwards (a slow save)
    THEN the next poll reads it, because every poll reads a few minutes behind the watermark."""
    hevy.add_workout(HEVY_KEY, {"title": "First"})
    poll_and_sync(accounts[0])
    watermark = ConnectedAccount.objects.get(pk=accounts[0].pk).cursor
    late = parse_time(watermark) - timedelta(minutes=1)
    hevy.add_workout(HEVY_KEY, {"title": "Late", "updated_at": late.isoformat().replace("+00:00", "Z")})
    assert str(poll_and_sync(accounts[0])) == "1 to update, 0 to delete, 1 unchanged"
    assert sorted(a["name"] for a in intervals.activities(ATHLETE)) == ["First", "Late"]
    assert ConnectedAccount.objects.get(pk=accounts[0].pk).cursor == watermark


@pytest.mark.parametrize("deleted_at", [True, False])
def test_a_deletion_with_or_without_its_time_deletes_and_never_moves_the_watermark_back(
    upstreams, accounts, hevy, intervals, sent_jobs, deleted_at
):
    hevy.deleted_at = deleted_at
    workout = hevy.add_workout(HEVY_KEY, {"title": "Gone"})
    poll_and_sync(accounts[0])
    before = parse_time(ConnectedAccount.objects.get(pk=accounts[0].pk).cursor)
    hevy.delete_workout(HEVY_KEY, workout["id"])
    assert str(poll_and_sync(accounts[0])) == "0 to update, 1 to delete, 0 unchanged"
    assert intervals.activities(ATHLETE) == []
    assert parse_time(ConnectedAccount.objects.get(pk=accounts[0].pk).cursor) >= before
    poll_and_sync(accounts[0])  # read again: the deletion is known, nothing moves back
    assert parse_time(ConnectedAccount.objects.get(pk=accounts[0].pk).cursor) >= before


def test_a_feed_that_keeps_failing_shows_on_the_dashboard_until_it_recovers(logged_in, upstreams, accounts, hevy):
    hevy.add_fault(path=r"/events$", status=503, times=3)
    for _ in range(3):
        assert tasks.poll_one(ConnectedAccount.objects.get(pk=accounts[0].pk))[0] is False
    for page in ("/", "/hevy/"):
        text = logged_in.get(page).content.decode()
        assert "Hevy&#x27;s events feed has failed 3 times since" in text, page
    assert tasks.poll_one(ConnectedAccount.objects.get(pk=accounts[0].pk))[0] is True
    text = logged_in.get("/").content.decode()
    assert "<strong>Last problem:</strong>" not in text  # history now, no longer the card's current problem
    assert "Earlier problem, resolved since" in text and "events feed has failed" in text
    assert not ConnectedAccount.objects.get(pk=accounts[0].pk).meta.get("events_feed_failures")
