"""Edits, deletions and missed webhooks through /v1/workouts/events, then the real sync job."""

import pytest
from django.utils import timezone

from fitsync import sync
from fitsync.models import ConnectedAccount, SyncItem
from integrations.hevy import tasks
from integrations.hevy.events import poll_account

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
        "Missed webhook", workout["id"], "2024-09-01T18:00:00")


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
    assert account.last_error.startswith("Hevy: HTTP 503")

    assert tasks.poll_one(account)[0] is True
    account.refresh_from_db()
    assert account.cursor > before and SyncItem.objects.count() == 12
    assert str(poll_account(account)) == "0 to update, 0 to delete, 0 unchanged"  # nothing new since


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
