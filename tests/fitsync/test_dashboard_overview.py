"""The overview: one card per service, counts per route, Sync now, alerts, login required."""

from datetime import timedelta

import pytest
from django.urls import NoReverseMatch
from django.utils import timezone

from fitsync.models import AccountStatus, ConnectedAccount, ItemStatus, SyncRun
from fitsync.routes import ROUTES
from tests.seed import WEIGHTS, WORKOUTS, make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_tasks(monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kw: calls.append((func, args)))
    return calls


@pytest.fixture
def with_sync_now(monkeypatch):
    route = ROUTES[WORKOUTS]
    patched = type(route)(**{**route.__dict__, "sync_now_task": "tests.fake.sync_now"})
    monkeypatch.setitem(ROUTES, WORKOUTS, patched)


def test_it_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_shows_a_card_per_service_even_when_nothing_is_connected(logged_in):
    html = logged_in.get("/").content.decode()
    for label in ("Hevy", "Intervals.icu", "Withings", "Garmin Connect"):
        assert f">{label} <span" in html
    assert html.count("Not connected yet.") == 4


def test_it_shows_status_last_success_and_token_expiry_without_decrypting_secrets(logged_in, make_account, monkeypatch):
    account = make_account("withings", access_token="secret-token", expires_at=timezone.now() + timedelta(hours=3))
    account.mark_success()
    monkeypatch.setattr("fitsync.crypto.decrypt", lambda stored: pytest.fail("a secret was decrypted"))
    html = logged_in.get("/").content.decode()
    assert "Token expires" in html and "Last success" in html and "secret-token" not in html


def test_it_explains_a_needs_reauth_account_and_links_to_its_connect_page(logged_in, make_account, monkeypatch):
    account = make_account("hevy")
    account.mark_needs_reauth("Hevy rejected fitsync's credentials (401). Reconnect the account.")
    monkeypatch.setattr("fitsync.dashboard.status.reverse", fake_reverse({"hevy:connect": "/hevy/connect/"}))
    html = logged_in.get("/").content.decode()
    assert "Needs your attention" in html and "Hevy rejected fitsync&#x27;s credentials (401)" in html
    assert '<a class="button secondary" href="/hevy/connect/">Reconnect Hevy</a>' in html


def fake_reverse(known: dict):
    from django.urls import reverse

    def resolve(name, *args, **kwargs):
        if name in known:
            return known[name]
        if name.split(":")[1] == "connect":
            raise NoReverseMatch(name)
        return reverse(name, *args, **kwargs)

    return resolve


def test_it_says_when_a_connect_page_is_missing_instead_of_crashing(logged_in, monkeypatch):
    monkeypatch.setattr("fitsync.dashboard.status.reverse", fake_reverse({}))
    assert "The Garmin Connect connect page is not available yet." in logged_in.get("/").content.decode()


def test_it_shows_the_webhook_url_with_a_copy_button_and_the_subscription_state(logged_in, make_account):
    hevy, withings = make_account("hevy"), make_account("withings")
    ConnectedAccount.objects.filter(pk=hevy.pk).update(meta={"webhook_url": "https://fit.example/hevy/webhook"})
    subscription = {
        "state": "active",
        "message": "Withings sends new weigh-ins to fitsync.",
        "checked_at": timezone.now().isoformat(),
        "callback_url_shown": "https://fit.example/withings/…",
    }
    ConnectedAccount.objects.filter(pk=withings.pk).update(meta={"subscription": subscription})
    html = logged_in.get("/").content.decode()
    assert "readonly>https://fit.example/hevy/webhook</textarea>" in html and 'data-copy="webhook-hevy"' in html
    assert "Withings sends new weigh-ins to fitsync." in html and "https://fit.example/withings/…" in html


def test_it_counts_pending_held_and_failed_items_per_route(logged_in, make_account):
    hevy, withings = make_account("hevy"), make_account("withings")
    make_items(hevy, WORKOUTS, 3, status=ItemStatus.FAILED)
    make_items(hevy, WORKOUTS, 2, status=ItemStatus.PENDING, start=10)
    make_items(withings, WEIGHTS, 4, status=ItemStatus.HELD)
    html = logged_in.get("/").content.decode()
    assert '<a href="/workouts/?status=failed" class="error">3</a>' in html
    assert '<a href="/workouts/?status=pending">2</a>' in html
    assert '<a href="/weights/?status=held">4</a>' in html
    assert "4 item(s) of Withings → Garmin Connect are held back by the upload safety cap." in html
    assert "3 item(s) of Hevy → Intervals.icu failed after retries." in html


def test_it_warns_when_no_data_arrived_for_the_stale_days(logged_in, make_account, settings):
    settings.FITSYNC_STALE_DAYS = 3
    hevy = make_account("hevy")
    ConnectedAccount.objects.filter(pk=hevy.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert "No data received from Hevy for 3 days or more." in logged_in.get("/").content.decode()
    make_items(hevy, WORKOUTS, 1)
    assert "No data received from Hevy" not in logged_in.get("/").content.decode()


def test_it_does_not_warn_about_a_freshly_connected_account(logged_in, make_account):
    make_account("hevy")
    assert "No data received" not in logged_in.get("/").content.decode()


def test_it_disables_sync_now_with_an_explanation_while_the_route_has_no_task(logged_in, make_account, monkeypatch):
    route = ROUTES[WEIGHTS]
    monkeypatch.setitem(ROUTES, WEIGHTS, type(route)(**{**route.__dict__, "sync_now_task": ""}))
    make_account("withings")
    html = logged_in.get("/").content.decode()
    assert 'disabled aria-describedby="blocker-withings_garmin"' in html
    assert "Manual sync is not available for this route yet." in html


def test_it_queues_the_sync_now_task_with_a_manual_run(
    logged_in, make_account, with_sync_now, queued_tasks, django_capture_on_commit_callbacks
):
    hevy = make_account("hevy")
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"/sync-now/{WORKOUTS}/")
    run = SyncRun.objects.get()
    # The task polls Hevy for every route from it: the run is the source's, its items carry their routes.
    assert run.trigger == SyncRun.Trigger.MANUAL and run.account == hevy and run.route == SyncRun.EVERY_ROUTE
    assert queued_tasks == [("tests.fake.sync_now", (hevy.pk, run.pk))]
    assert response["Location"] == f"/runs/{run.pk}/"


def test_it_refuses_sync_now_for_a_disconnected_source(logged_in, make_account, with_sync_now, queued_tasks):
    hevy = make_account("hevy")
    ConnectedAccount.objects.filter(pk=hevy.pk).update(status=AccountStatus.NEEDS_REAUTH)
    response = logged_in.post(f"/sync-now/{WORKOUTS}/", follow=True)
    assert "cannot be synced now" in response.content.decode()
    assert not SyncRun.objects.exists() and queued_tasks == []


def test_it_only_accepts_sync_now_as_a_post(logged_in):
    assert logged_in.get(f"/sync-now/{WORKOUTS}/").status_code == 405
    assert logged_in.post("/sync-now/nowhere/").status_code == 404


def test_it_shows_only_the_users_own_accounts(logged_in, make_account, django_user_model):
    other = django_user_model.objects.create_user("grace")
    make_account("hevy", owner=other)
    assert logged_in.get("/").content.decode().count("Not connected yet.") == 4
