"""The Intervals.icu page and client: athlete id normalized, key checked, timezone stored and refreshed."""

from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.conf import settings

from fitsync.models import ConnectedAccount
from integrations.intervals import tasks
from integrations.intervals.auth import is_timezone_stale
from integrations.intervals.client import normalize_athlete_id
from integrations.sandbox.intervals import IntervalsFake
from integrations.sandbox.mock import mount

pytestmark = pytest.mark.django_db
KEY = "3kq9x7v2m5n8b1c4z6l0w"


@pytest.fixture
def intervals(settings):
    settings.INTERVALS_REQUESTS_PER_SECOND = 0
    fake = IntervalsFake()
    fake.add_athlete(KEY, athlete_id="i12345", timezone="Pacific/Auckland", name="Anna")
    fake.add_athlete("other-key", athlete_id="i777", timezone="UTC", name="Bert")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, settings.INTERVALS_API_URL)
        yield fake


def connect(client, athlete_id="i12345", key=KEY):
    return client.post("/intervals/", {"athlete_id": athlete_id, "api_key": key}, follow=True).content.decode()


@pytest.mark.parametrize("raw, normalized", [("i12345", "i12345"), ("12345", "i12345"), (" I12345 ", "i12345"),
                                             ("x12", None), ("", None), ("i", None), ("12 34", None)])
def test_it_normalizes_athlete_ids(raw, normalized):
    assert normalize_athlete_id(raw) == normalized


@pytest.mark.parametrize("athlete_id", ["i12345", "12345"])
def test_it_connects_and_stores_the_timezone(logged_in, intervals, athlete_id):
    page = connect(logged_in, athlete_id)
    account = ConnectedAccount.objects.get(provider="intervals")
    assert (account.external_user_id, account.display_name, account.credential.api_key) == ("i12345", "Anna", KEY)
    assert account.meta["timezone"] == "Pacific/Auckland" and account.meta["timezone_checked_at"]
    assert "Pacific/Auckland" in page and "Intervals.icu is connected" in page
    (call,) = intervals.calls()
    assert (call.method, call.path) == ("GET", "/api/v1/athlete/i12345")
    assert call.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("athlete_id, key, message", [
    ("i12345", "wrong", "Intervals.icu rejected this API key"),
    ("i777", KEY, "This API key works, but not for athlete i777"),
    ("abc", KEY, "The athlete id looks like i12345"),
])
def test_it_refuses_bad_credentials_and_saves_nothing(logged_in, intervals, athlete_id, key, message):
    assert message in connect(logged_in, athlete_id, key)
    assert not ConnectedAccount.objects.exists()


def test_an_outage_saves_nothing(logged_in, intervals):
    intervals.add_fault(status=502)
    assert "could not be reached" in connect(logged_in)
    assert not ConnectedAccount.objects.exists()


def test_the_timezone_is_refreshed_daily(logged_in, intervals):
    connect(logged_in)
    intervals.athletes["i12345"]["timezone"] = "Europe/Lisbon"  # the athlete moved
    account = ConnectedAccount.objects.get()
    assert not is_timezone_stale(account)
    account.meta["timezone_checked_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    assert is_timezone_stale(account)
    assert tasks.refresh_timezones() == f"account {account.pk}: Europe/Lisbon"
    assert ConnectedAccount.objects.get().meta["timezone"] == "Europe/Lisbon"


def test_a_revoked_key_found_by_the_daily_check_asks_to_reconnect(logged_in, intervals):
    connect(logged_in)
    intervals.athletes["i12345"]["api_key"] = "revoked"
    tasks.refresh_timezones()
    account = ConnectedAccount.objects.get()
    assert account.status == "needs_reauth" and account.meta["timezone"] == "Pacific/Auckland"
    assert "Enter a new key below" in logged_in.get("/intervals/").content.decode()


def test_the_form_is_labelled(logged_in):
    page = logged_in.get("/intervals/").content.decode()
    assert '<label for="id_athlete_id">Athlete id</label>' in page and '<label for="id_api_key">API key</label>' in page
    assert settings.INTERVALS_API_URL not in page
