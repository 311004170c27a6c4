"""The user's controls on the dashboard: the first-run checklist, disconnect, CSV export, Skip, and the
safety cap that counts only what goes out now."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync import account_meta, route_settings, sync
from fitsync.feeds import take_in
from fitsync.models import (
    AccountStatus,
    ConnectedAccount,
    Credential,
    ItemStatus,
    Profile,
    RouteSetting,
    SyncItem,
    SyncRun,
)
from fitsync.routes import ROUTES
from fitsync.run_counts import RunCounts, counts_for
from integrations.withings.account_meta import Subscription, WithingsMeta
from tests.integrations.garmin.fixtures import MORNING, measurement
from tests.seed import WEIGHTS, WORKOUTS, make_items

pytestmark = pytest.mark.django_db


def seven_weigh_ins():
    return [measurement(str(3000 + n), at=MORNING - timedelta(days=7 - n)) for n in range(7)]


def ingest(withings, records, **options) -> RunCounts:
    """What the run caused, read from the items it tagged (queued: going out now or waiting)."""
    run = sync.start_run(SyncRun.Trigger.MANUAL, account=withings, route=WEIGHTS)
    take_in(withings, records, run, **options)
    return counts_for([run])[run.pk]


# --- the safety cap ----------------------------------------------------------------------------------
def test_weigh_ins_waiting_for_garmin_are_not_held_and_go_out_once_it_is_connected(make_account, sent_jobs, settings):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    withings = make_account("withings")
    counts = ingest(withings, seven_weigh_ins())
    assert (counts.queued, counts.held) == (7, 0) and set(SyncItem.objects.values_list("status", flat=True)) == {
        ItemStatus.PENDING
    }
    assert list(sync.due_items()) == []  # nothing to write to yet: the dispatcher leaves them waiting

    make_account("garmin")
    assert len(sync.due_items()) == 7  # the dispatcher sends every one of them now


def test_a_notification_is_not_capped_but_a_bulk_run_is(make_account, sent_jobs, settings):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    withings, _ = make_account("withings"), make_account("garmin")
    assert ingest(withings, seven_weigh_ins(), bulk=False).held == 0
    SyncItem.objects.all().delete()
    counts = ingest(withings, seven_weigh_ins())
    assert (counts.queued, counts.held) == (5, 2)


def test_a_paused_route_does_not_count_against_the_cap(make_account, user, sent_jobs, settings):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    withings, _ = make_account("withings"), make_account("garmin")
    RouteSetting.objects.create(owner=user, route=WEIGHTS, paused_at=timezone.now())
    assert ingest(withings, seven_weigh_ins()).held == 0
    assert list(sync.due_items()) == []


# --- the first-run checklist -------------------------------------------------------------------------
def done_steps(html: str) -> int:
    return html.count('<li class="done">')


def test_the_checklist_ticks_off_step_by_step_and_disappears(logged_in, make_account, user):
    html = logged_in.get("/").content.decode()
    assert "Getting started: Hevy → Intervals.icu" in html and done_steps(html) == 0

    withings = make_account("withings")
    html = logged_in.get("/").content.decode()
    assert "Getting started: Withings → Garmin Connect" in html and done_steps(html) == 1
    assert '<a href="/garmin/">Connect on the Garmin Connect page</a>' in html

    make_account("garmin")
    assert done_steps(logged_in.get("/").content.decode()) == 2

    account_meta.write(withings, WithingsMeta, subscription=Subscription("active"))
    html = logged_in.get("/").content.decode()
    assert done_steps(html) == 3 and "Import on the Withings page" in html

    run = sync.start_run(SyncRun.Trigger.BACKFILL, account=withings, route=WEIGHTS)
    assert done_steps(logged_in.get("/").content.decode()) == 3  # still running
    run.finish()
    assert "Getting started" not in logged_in.get("/").content.decode()


def test_the_checklist_follows_a_route_that_is_on_not_one_turned_off(logged_in, make_account, user):
    make_account("hevy")
    route_settings.turn(user, ROUTES[WORKOUTS], on=False)
    route_settings.turn(user, ROUTES["hevy_garmin"], on=True)
    html = logged_in.get("/").content.decode()
    assert "Getting started: Hevy → Garmin Connect" in html and "Connect on the Garmin Connect page" in html
    route_settings.turn(user, ROUTES["hevy_garmin"], on=False)  # every route from Hevy off, Withings' on
    assert "Getting started: Withings → Garmin Connect" in logged_in.get("/").content.decode()


def test_the_hevy_webhook_step_is_done_once_a_delivery_arrived(logged_in, make_account):
    from fitsync.models import InboundEvent

    hevy = make_account("hevy")
    make_account("intervals")
    assert done_steps(logged_in.get("/").content.decode()) == 2
    InboundEvent.record("hevy", hevy.pk, "hevy:e1", b"{}")
    assert done_steps(logged_in.get("/").content.decode()) == 3


# --- disconnect --------------------------------------------------------------------------------------
def test_disconnect_needs_confirmation_and_then_wipes_the_key_and_keeps_the_items(logged_in, make_account, client):
    hevy = make_account("hevy", api_key="hevy-key-123", webhook_secret="s3cret")
    ConnectedAccount.objects.filter(pk=hevy.pk).update(webhook_digest="abc")
    make_items(hevy, "hevy_intervals", 3)

    page = logged_in.post("/services/hevy/disconnect/")
    assert page.status_code == 200 and "Disconnect Hevy?" in page.content.decode()
    assert Credential.objects.get().api_key == "hevy-key-123"  # a POST without confirm does nothing

    answer = logged_in.post("/services/hevy/disconnect/", {"confirm": "yes"})
    assert answer.status_code == 302
    credential, hevy = Credential.objects.get(), ConnectedAccount.objects.get(pk=hevy.pk)
    assert (credential.api_key, credential.webhook_secret, hevy.webhook_digest) == ("", "", "")
    assert hevy.status == AccountStatus.DISABLED and SyncItem.objects.count() == 3
    assert "Connect Hevy again" in logged_in.get("/").content.decode()


def test_disconnecting_an_unknown_or_absent_service_is_a_404(logged_in):
    assert logged_in.post("/services/hevy/disconnect/", {"confirm": "yes"}).status_code == 404


# --- export ------------------------------------------------------------------------------------------
def test_the_export_streams_the_list_columns_and_defuses_formulas(logged_in, make_account):
    withings = make_account("withings")
    make_items(withings, WEIGHTS, 3)
    first = SyncItem.objects.order_by("-occurred_at").first()
    SyncItem.objects.filter(pk=first.pk).update(last_error="@SUM(A1)")

    answer = logged_in.get("/weights/export.csv")
    assert answer.streaming and answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"].startswith('attachment; filename="fitsync-weights-')
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0] == ["Measured", "Date", "Weight", "Body fat", "Status", "Attempts", "Destination", "Reason"]
    assert len(rows) == 4
    assert rows[1][0].endswith(" kg") and rows[1][-1] == "'@SUM(A1)"
    assert rows[1][4] == "Synced" and rows[1][6].endswith("/modern/weight")


def test_the_export_defuses_a_formula_in_a_title_and_follows_the_readers_unit_and_zone(logged_in, make_account, user):
    make_items(make_account("hevy"), WORKOUTS, 1)
    SyncItem.objects.update(title='=HYPERLINK("http://evil")')
    make_items(make_account("withings"), WEIGHTS, 1)
    Profile.objects.update_or_create(user=user, defaults={"time_zone": "Asia/Tokyo", "weight_unit": "lb"})

    workout = list(csv.reader(io.StringIO(b"".join(logged_in.get("/workouts/export.csv").streaming_content).decode())))
    assert workout[1][0] == '\'=HYPERLINK("http://evil")' and workout[1][1].endswith("+09:00")
    weight = list(csv.reader(io.StringIO(b"".join(logged_in.get("/weights/export.csv").streaming_content).decode())))
    assert weight[1][0].endswith(" lb") and weight[1][1].endswith("+09:00")


def test_the_export_follows_the_list_filters(logged_in, make_account):
    withings = make_account("withings")
    make_items(withings, WEIGHTS, 2)
    make_items(withings, WEIGHTS, 1, start=2, status=ItemStatus.FAILED)
    rows = list(
        csv.reader(io.StringIO(b"".join(logged_in.get("/weights/export.csv?status=failed").streaming_content).decode()))
    )
    assert [row[4] for row in rows[1:]] == ["Failed"]
    assert 'href="/weights/export.csv?status=failed"' in logged_in.get("/weights/?status=failed").content.decode()


# --- skip --------------------------------------------------------------------------------------------
def test_skip_is_offered_only_for_items_still_on_their_way(logged_in, make_account):
    withings = make_account("withings")
    make_items(withings, WEIGHTS, 1)
    make_items(withings, WEIGHTS, 1, start=1, status=ItemStatus.FAILED)
    synced, failed = SyncItem.objects.get(status=ItemStatus.SYNCED), SyncItem.objects.get(status=ItemStatus.FAILED)
    assert ">Skip</button>" not in logged_in.get(f"/items/{synced.pk}/").content.decode()
    assert ">Skip</button>" in logged_in.get(f"/items/{failed.pk}/").content.decode()
    logged_in.post(f"/items/{synced.pk}/skip/")
    synced.refresh_from_db()
    assert synced.status == ItemStatus.SYNCED


def test_the_chart_page_says_what_fills_an_empty_chart(logged_in, make_account):
    html = logged_in.get("/charts/").content.decode()
    assert "Connect Withings to draw it." in html and 'href="/withings/"' in html
    make_account("withings")
    assert "Import your history on the Withings page" in logged_in.get("/charts/").content.decode()


def test_a_route_with_synced_copies_is_not_shown_paused(logged_in, make_account):
    """The panel's `paused` and `last_synced_at` are separate facts: a synced route shows when, not a pause."""
    make_items(make_account("withings"), WEIGHTS, 2)
    make_account("garmin")
    html = logged_in.get("/").content.decode()
    route = html[html.index('id="route-withings_garmin"') :]
    route = route[: route.index("</article>")]
    assert "Paused" not in route and "<dt>Last synced</dt><dd><time" in route
