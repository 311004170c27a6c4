"""The Intervals.icu page and client: the athlete read from the key (both id forms), timezone stored and refreshed."""

from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.conf import settings

from fitsync.models import ConnectedAccount
from integrations.intervals import tasks
from integrations.intervals.auth import is_timezone_stale
from integrations.intervals.client import normalize_athlete_id
from sandbox.intervals import IntervalsFake
from sandbox.mock import mount

pytestmark = pytest.mark.django_db
KEY = "3kq9x7v2m5n8b1c4z6l0w"
NUMERIC_KEY = "9dv4k2p7w1x5c8b3n6m0q"  # the key of an athlete with an older, all-numeric id


@pytest.fixture
def intervals(settings):
    settings.INTERVALS_REQUESTS_PER_SECOND = 0
    fake = IntervalsFake()
    fake.add_athlete(KEY, athlete_id="i12345", timezone="Pacific/Auckland", name="Anna")
    fake.add_athlete("other-key", athlete_id="i777", timezone="UTC", name="Bert")
    fake.add_athlete(NUMERIC_KEY, athlete_id="2049151", timezone="Europe/Madrid", name="Carla")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, settings.INTERVALS_API_URL)
        yield fake


def connect(client, athlete_id="i12345", key=KEY):
    return client.post("/intervals/", {"athlete_id": athlete_id, "api_key": key}, follow=True).content.decode()


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("i12345", "i12345"),
        ("12345", "12345"),
        (" I12345 ", "i12345"),
        ("2049151", "2049151"),
        ("x12", None),
        ("", None),
        ("i", None),
        ("12 34", None),
    ],
)
def test_it_keeps_both_athlete_id_forms_apart(raw, normalized):
    assert normalize_athlete_id(raw) == normalized


@pytest.mark.parametrize(
    "key, typed, stored, name, zone",
    [
        (KEY, "", "i12345", "Anna", "Pacific/Auckland"),
        (KEY, "i12345", "i12345", "Anna", "Pacific/Auckland"),
        (NUMERIC_KEY, "", "2049151", "Carla", "Europe/Madrid"),
        (NUMERIC_KEY, "2049151", "2049151", "Carla", "Europe/Madrid"),
    ],
)
def test_it_connects_the_keys_athlete_with_the_id_as_intervals_spells_it(
    logged_in, intervals, key, typed, stored, name, zone
):
    page = connect(logged_in, typed, key)
    account = ConnectedAccount.objects.get(provider="intervals")
    assert (account.external_user_id, account.display_name, account.credential.api_key) == (stored, name, key)
    assert account.meta["timezone"] == zone and account.meta["timezone_checked_at"]
    assert zone in page and "Intervals.icu is connected" in page and f"<code>{stored}</code>" in page
    (call,) = intervals.calls()
    assert (call.method, call.path) == ("GET", "/api/v1/athlete/0")
    assert call.headers["authorization"].startswith("Basic ")


def test_a_numeric_athlete_is_synced_to_under_its_own_id(logged_in, intervals):
    from integrations.intervals.auth import client_for

    connect(logged_in, "", NUMERIC_KEY)
    client_for(ConnectedAccount.objects.get()).create_activities(
        [{"type": "WeightTraining", "start_date_local": "2024-05-14T18:00:00", "name": "Pull", "external_id": "w1"}]
    )
    assert [a["name"] for a in intervals.activities("2049151")] == ["Pull"]
    assert intervals.calls("POST")[0].path == "/api/v1/athlete/2049151/activities/manual/bulk"


@pytest.mark.parametrize(
    "athlete_id, key, message",
    [
        ("i12345", "wrong", "Intervals.icu rejected this API key"),
        ("i777", KEY, "This API key belongs to athlete i12345, not i777"),
        ("12345", KEY, "This API key belongs to athlete i12345, not 12345"),
        ("i2049151", NUMERIC_KEY, "This API key belongs to athlete 2049151, not i2049151"),
        ("abc", KEY, "The athlete id looks like i12345 or 2049151"),
    ],
)
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
    assert (
        '<label for="id_athlete_id">Athlete id (optional)</label>' in page
        and '<label for="id_api_key">API key</label>' in page
    )
    assert settings.INTERVALS_API_URL not in page
