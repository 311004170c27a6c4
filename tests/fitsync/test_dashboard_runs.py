"""Sync runs: list, detail with counts and duration, and the progress partial htmx polls."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync import route_settings
from fitsync.models import SyncItem, SyncRun
from fitsync.routes import ROUTES

pytestmark = pytest.mark.django_db


def test_it_lists_runs_newest_first_with_trigger_duration_and_counts(logged_in, user, make_account):
    started = timezone.now() - timedelta(minutes=5)
    SyncRun.objects.create(
        owner=user,
        trigger="schedule",
        route="hevy_intervals",
        started_at=started - timedelta(hours=1),
        finished_at=started - timedelta(hours=1) + timedelta(seconds=42),
    )
    SyncRun.objects.create(
        owner=user,
        trigger="backfill",
        route="hevy_intervals",
        started_at=started,
        finished_at=started + timedelta(minutes=3, seconds=5),
        created=7,
        updated=2,
        failed=1,
    )
    html = logged_in.get("/runs/").content.decode()
    assert html.index("Backfill") < html.index("Schedule")
    assert '<td data-label="Duration">3 min 5 s</td>' in html and '<td data-label="Duration">42 s</td>' in html
    assert '<td data-label="New / upd. / del.">7 / 2 / 0</td>' in html
    assert '<td data-label="Skip / held / fail">0 / 0 / 1</td>' in html
    assert '<td data-label="Route">Hevy → Intervals.icu</td>' in html


def test_it_polls_the_progress_of_a_running_backfill(logged_in, user):
    run = SyncRun.objects.create(owner=user, trigger="backfill", total=200, done=50)
    html = logged_in.get(f"/runs/{run.pk}/").content.decode()
    assert f'hx-get="/runs/{run.pk}/progress/" hx-trigger="every 2s"' in html
    assert '<progress id="run-bar" max="200" value="50">25%</progress>' in html
    assert "/static/django_htmx/htmx-2" in html


def test_it_stops_polling_once_the_run_finished(logged_in, user):
    run = SyncRun.objects.create(owner=user, trigger="backfill", total=200, done=50)
    SyncRun.objects.filter(pk=run.pk).update(done=200, created=200)
    run.finish()
    html = logged_in.get(f"/runs/{run.pk}/progress/").content.decode()
    assert "hx-trigger" not in html and "Finished" in html and "200 of 200 (100%)" in html
    assert "<html" not in html  # the partial alone


def test_it_hides_other_users_runs(logged_in, django_user_model):
    run = SyncRun.objects.create(owner=django_user_model.objects.create_user("grace"), trigger="manual")
    assert logged_in.get(f"/runs/{run.pk}/").status_code == 404
    assert logged_in.get(f"/runs/{run.pk}/progress/").status_code == 404
    assert "No sync runs yet." in logged_in.get("/runs/").content.decode()


def test_a_source_run_shows_and_links_every_route_from_the_source(logged_in, user, make_account):
    """A source's fetch feeds every route from it that is on: the run names them (as they were when it
    began) and links to its items on each."""
    withings = make_account("withings")
    before = SyncRun.objects.create(owner=user, account=withings, trigger="webhook", route=SyncRun.EVERY_ROUTE)
    route_settings.turn(user, ROUTES["withings_intervals"], on=True)
    run = SyncRun.objects.create(owner=user, account=withings, trigger="webhook", route=SyncRun.EVERY_ROUTE)
    assert before.route_labels == "Withings → Garmin Connect"  # made while the wellness route was off
    for route in ("withings_garmin", "withings_intervals"):
        SyncItem.objects.create(account=withings, route=route, source_id="g1", run=run)
    assert run.route_labels == "Withings → Garmin Connect · Withings → Intervals.icu"
    assert (
        '<td data-label="Route">Withings → Garmin Connect · Withings → Intervals.icu</td>'
        in logged_in.get("/runs/").content.decode()
    )
    page = logged_in.get(f"/runs/{run.pk}/").content.decode()
    assert "2 queued → see items: " in page
    assert f'<a href="/weights/?run={run.pk}">Withings → Garmin Connect</a>' in page
    assert f'<a href="/wellness/?run={run.pk}">Withings → Intervals.icu</a>' in page
