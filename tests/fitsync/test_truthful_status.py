"""Pages that tell the truth: a run counts the items it queued, an old error reads as history once a later
success exists, and the overview's Activity lists deliveries, syncs, runs, errors and reconnections."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.models import AccountStatus, Delivery, ItemStatus, SyncAttempt, SyncItem, SyncRun
from tests.items import put_in_state
from tests.seed import WORKOUTS, make_items

pytestmark = pytest.mark.django_db


def counts_shown(html: str) -> dict[str, str]:
    return dict(re.findall(r"<div><dt>(\w+)</dt><dd>(\d+)</dd></div>", html))


@pytest.fixture
def run_with_items(user, make_account):
    """A finished "Sync now" run that queued five workouts: one created, one updated, one failed, two queued."""
    hevy = make_account("hevy")
    make_account("intervals")
    run = SyncRun.objects.create(owner=user, account=hevy, trigger="manual", route=WORKOUTS, done=5)
    run.finish()
    make_items(hevy, WORKOUTS, 5)
    items = list(SyncItem.objects.order_by("source_id"))
    for item, outcome in zip(items[:2], ("created", "updated")):
        SyncAttempt.objects.create(item=item, outcome=outcome, finished_at=timezone.now())
    put_in_state(SyncItem.objects.filter(pk=items[2].pk), status=ItemStatus.FAILED)
    put_in_state(SyncItem.objects.filter(pk__in=[i.pk for i in items[3:]]), status=ItemStatus.PENDING)
    SyncItem.objects.update(run=run)
    make_items(hevy, WORKOUTS, 3, start=10)  # items of no run
    return run, items


def test_a_run_counts_the_items_it_queued_and_waits_for_them(logged_in, run_with_items):
    run, items = run_with_items
    html = logged_in.get(f"/runs/{run.pk}/").content.decode()
    assert counts_shown(html) == {
        "Created": "1",
        "Updated": "1",
        "Deleted": "0",
        "Skipped": "0",
        "Held": "0",
        "Failed": "1",
    }
    assert f'<a href="/workouts/?run={run.pk}">2 queued → see items</a>' in html
    assert "Waiting for its queued items" in html and 'hx-trigger="every 2s"' in html

    put_in_state(SyncItem.objects.filter(pk__in=[i.pk for i in items[3:]]), status=ItemStatus.SYNCED)
    for item in items[3:]:
        SyncAttempt.objects.create(item=item, outcome="created", finished_at=timezone.now())
    html = logged_in.get(f"/runs/{run.pk}/progress/").content.decode()
    assert counts_shown(html)["Created"] == "3" and "queued" not in html
    assert "Finished" in html and "hx-trigger" not in html


def test_the_run_list_counts_the_items_too(logged_in, run_with_items):
    html = logged_in.get("/runs/").content.decode()
    assert '<td data-label="New / upd. / del.">1 / 1 / 0</td>' in html
    assert '<td data-label="Skip / held / fail">0 / 0 / 1 <span class="muted">(2 queued)</span></td>' in html


def test_the_item_list_shows_the_items_of_a_run(logged_in, run_with_items):
    run, items = run_with_items
    html = logged_in.get(f"/workouts/?run={run.pk}").content.decode()
    assert "5 items, newest first." in html and f'<a href="/runs/{run.pk}/">run #{run.pk}</a>' in html
    assert f'type="hidden" name="run" value="{run.pk}"' in html  # kept when the list is filtered further
    pending = logged_in.get(f"/workouts/?run={run.pk}&status=pending").content.decode()
    assert "2 items, newest first." in pending


def test_an_old_problem_shows_as_history_once_a_later_success_exists(logged_in, make_account):
    intervals = make_account("intervals")
    intervals.mark_error("Intervals.icu: HTTP 503")
    html = logged_in.get("/intervals/").content.decode()
    assert '<p class="error">Last problem' in html and "HTTP 503" in html
    assert "<strong>Last problem:</strong> Intervals.icu: HTTP 503" in logged_in.get("/").content.decode()

    intervals.mark_success()
    html = logged_in.get("/intervals/").content.decode()
    assert '<p class="error">Last problem' not in html
    assert re.search(
        r'<p class="muted">Earlier problem, resolved since \(<time[^>]*>[^<]*ago</time>\): Intervals.icu: HTTP 503',
        html,
    )
    overview = logged_in.get("/").content.decode()
    assert "<strong>Last problem:</strong>" not in overview and "Earlier problem, resolved since" in overview


def test_lost_access_stays_a_current_problem_whatever_succeeded_before(make_account):
    garmin = make_account("garmin")
    garmin.mark_success()
    garmin.mark_needs_reauth("Garmin rejected the tokens. Reconnect Garmin.")
    assert garmin.has_current_problem and garmin.status == AccountStatus.NEEDS_REAUTH


def test_the_overview_lists_recent_activity_newest_first(logged_in, user, make_account):
    hevy = make_account("hevy")
    now = timezone.now()
    make_items(hevy, WORKOUTS, 1)
    item = SyncItem.objects.get()
    Delivery.objects.create(provider="hevy", account=hevy, outcome="accepted", status_code=200, item=item,
                            received_at=now - timedelta(minutes=5))  # fmt: skip
    Delivery.objects.create(provider="hevy", outcome="refused", status_code=401, reason="Bad Authorization value.",
                            received_at=now - timedelta(minutes=4))  # fmt: skip
    SyncAttempt.objects.create(item=item, outcome="created", started_at=now - timedelta(minutes=4),
                               finished_at=now - timedelta(minutes=3))  # fmt: skip
    hevy.mark_error("Hevy's events feed has failed 1 times")
    hevy.mark_needs_reauth("Hevy rejected the API key. Reconnect Hevy.")
    hevy.mark_connected()

    html = logged_in.get("/").content.decode()
    timeline = html[html.index('id="timeline-heading"') : html.index('id="runs-heading"')]
    lines = [re.sub(r"<[^>]+>|\s+", " ", line).strip() for line in re.findall(r"<li>(.*?)</li>", timeline, re.S)]
    assert [" ".join(line.split()[3:6]) for line in lines] == [
        "Account: connected Hevy:",
        "Account: access lost",
        "Account: error Hevy:",
        "Sync: created Hevy",
        "Delivery: refused Hevy",
        "Delivery: accepted Hevy",
    ]
    assert "Bad Authorization value." in lines[4] and "Workout 0" in lines[3]
    assert f'href="/items/{item.pk}/"' in timeline and 'href="/hevy/"' in timeline


def test_account_events_are_bounded(make_account, monkeypatch):
    from fitsync.models import AccountEvent

    monkeypatch.setattr(AccountEvent, "KEEP", 3)
    hevy = make_account("hevy")
    for n in range(10):
        hevy.mark_error(f"failure {n}")
    assert list(AccountEvent.objects.values_list("message", flat=True).order_by("pk")) == [
        "failure 7",
        "failure 8",
        "failure 9",
    ]


def test_a_run_credits_its_accounts_only_when_it_worked(user, make_account):
    """An import that wrote copies credits both ends even if some items failed; a fetch that failed
    before writing anything credits nothing, so its error stays the current problem."""
    hevy, intervals, withings = make_account("hevy"), make_account("intervals"), make_account("withings")
    imported = SyncRun.objects.create(owner=user, account=hevy, trigger="backfill", route=WORKOUTS)
    imported.bump(created=195, failed=5, done=200)
    imported.finish(error="Workout 12 (2024-03-01): Intervals.icu: 422")
    hevy.refresh_from_db(), intervals.refresh_from_db()
    assert hevy.last_success_at and hevy.last_received_at and intervals.last_success_at

    withings.mark_error("Withings: HTTP 503")
    fetch = SyncRun.objects.create(owner=user, account=withings, trigger="webhook", route="withings_garmin", done=20)
    fetch.finish(error="Withings: HTTP 503")
    withings.refresh_from_db()
    assert withings.last_success_at is None and withings.has_current_problem
