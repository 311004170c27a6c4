"""Each user's time zone and weight unit: settled at the first login, used by every page, changed in settings."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template

from fitsync.models import Profile, SyncItem
from fitsync.zones import clock_time
from tests.seed import WEIGHTS, WORKOUTS, make_items

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
PASSWORD = "correct horse battery staple"
STARTED = datetime(2026, 3, 2, 16, 7, tzinfo=UTC)  # 17:07 in Berlin, 11:07 in New York


def log_in(client, zone_cookie: str | None = None):
    if zone_cookie:
        client.cookies["fitsync_zone"] = zone_cookie
    return client.post(LOGIN, {"username": "ada", "password": PASSWORD})


def zone_of_ada(user) -> str:
    return Profile.objects.get(user=user).time_zone


def set_profile(user, **fields) -> Profile:
    profile, _ = Profile.objects.update_or_create(user=user, defaults=fields)
    return profile


# --- the zone chosen at the first login ----------------------------------------------------------------
def test_the_first_login_takes_the_zone_intervals_reported(client, user, make_account):
    make_account("garmin").merge_meta(timezone="Asia/Tokyo")
    make_account("intervals").merge_meta(timezone="America/New_York")
    assert log_in(client, zone_cookie="Europe/Berlin").status_code == 302
    assert zone_of_ada(user) == "America/New_York"


def test_the_first_login_takes_the_browsers_zone_when_no_service_reported_one(client, user):
    log_in(client, zone_cookie="Europe/Berlin")
    assert zone_of_ada(user) == "Europe/Berlin"


def test_a_zone_that_is_not_a_zone_name_is_ignored(client, user, settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    log_in(client, zone_cookie="../../etc/passwd")
    assert zone_of_ada(user) == "Europe/Lisbon"


def test_a_later_login_keeps_the_zone_the_user_chose(client, user):
    set_profile(user, time_zone="Pacific/Auckland")
    log_in(client, zone_cookie="Europe/Berlin")
    assert zone_of_ada(user) == "Pacific/Auckland"


def test_a_session_from_before_profiles_reads_in_the_browsers_zone_and_writes_nothing(logged_in, user, make_account):
    Profile.objects.all().delete()
    make_items(make_account("hevy"), WORKOUTS, 1, now=STARTED)
    logged_in.cookies["fitsync_zone"] = "Europe/Berlin"
    html = logged_in.get("/workouts/").content.decode()
    assert ">Mon 2 Mar 2026 17:07</time>" in html and "Times in" in html
    assert not Profile.objects.exists()


# --- pages in the user's zone ----------------------------------------------------------------------------
def test_a_workout_page_shows_the_start_in_the_users_zone_with_its_name(logged_in, user, make_account):
    set_profile(user, time_zone="Europe/Berlin")
    make_items(make_account("hevy"), WORKOUTS, 1, now=STARTED)
    html = logged_in.get(f"/items/{SyncItem.objects.get().pk}/").content.decode()
    assert '<time datetime="2026-03-02T17:07:00+01:00">Mon 2 Mar 2026 17:07 CET</time>' in html
    assert 'Times in <a href="/settings/">Europe/Berlin</a>' in html


def test_the_lockout_page_reads_in_the_browsers_zone(client, user, settings):
    start = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    client.cookies["fitsync_zone"] = "Asia/Tokyo"
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(LOGIN, {"username": "ada", "password": "wrong"})
        page = client.post(LOGIN, {"username": "ada", "password": PASSWORD}).content.decode()
    assert ">22:15 JST</time>" in page


def test_messages_built_outside_a_request_use_the_given_zone_and_name_it():
    assert clock_time(STARTED, ZoneInfo("America/New_York")) == "11:07 EST"


# --- the settings page -----------------------------------------------------------------------------------
def test_the_settings_page_changes_zone_and_unit(logged_in, user):
    page = logged_in.get("/settings/").content.decode()
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in page and 'value="lb"' in page
    response = logged_in.post("/settings/", {"time_zone": "America/New_York", "weight_unit": "lb"}, follow=True)
    assert "Settings saved." in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert (profile.time_zone, profile.weight_unit) == ("America/New_York", "lb")


def test_the_settings_page_refuses_a_zone_it_does_not_know(logged_in, user):
    response = logged_in.post("/settings/", {"time_zone": "Mars/Olympus_Mons", "weight_unit": "kg"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Profile.objects.filter(user=user, time_zone="Mars/Olympus_Mons").exists()


# --- weights in kg or lb -----------------------------------------------------------------------------------
def test_weights_show_in_pounds_once_chosen(logged_in, user, make_account):
    set_profile(user, weight_unit="lb")
    make_items(make_account("withings"), WEIGHTS, 1)  # 80.00 kg, 20.0 % fat
    SyncItem.objects.update(title="80.00 kg")  # as the Withings source names a weigh-in
    html = logged_in.get("/weights/").content.decode()
    assert ">176.37 lb</a>" in html and '<td data-label="Weight" class="num">176.4 lb</td>' in html
    assert " kg<" not in html


def test_a_workout_shows_its_sets_and_volume_in_pounds(logged_in, user, make_account):
    set_profile(user, weight_unit="lb")
    make_items(make_account("hevy"), WORKOUTS, 1)
    html = logged_in.get(f"/items/{SyncItem.objects.get().pk}/").content.decode()
    assert "88.2 lb × 5" in html  # 40 kg
    assert " kg" not in html.split('<h2 id="source-heading">')[1].split("</table>")[0]


def test_the_charts_convert_weights_and_volume(logged_in, user, make_account):
    set_profile(user, weight_unit="lb")
    make_items(make_account("withings"), WEIGHTS, 3)
    make_items(make_account("hevy"), WORKOUTS, 3)
    html = logged_in.get("/charts/").content.decode()
    assert "Weight (lb)" in html and "Weekly training volume (lb)" in html and "latest 176.4 lb" in html


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(Decimal("80"), "kg", "80.0"), (Decimal("80"), "lb", "176.4"), (None, "lb", "–"), (100.0, "lb", "220.5")],
)
def test_the_in_unit_filter_converts_before_formatting(value, unit, shown):
    template = Template("{% load dashboard %}{{ value|in_unit:unit|amount }}")
    assert template.render(Context({"value": value, "unit": unit})) == shown


def test_a_zone_without_an_abbreviation_is_named_by_its_offset():
    assert clock_time(STARTED + timedelta(hours=1), ZoneInfo("Asia/Dubai")) == "21:07 UTC+04"


def test_a_workouts_recorded_instants_read_in_the_users_zone(logged_in, user, make_account):
    """The source's UTC instants and the header agree; Intervals' naive local start is shown as sent."""
    set_profile(user, time_zone="Europe/Berlin")
    make_items(make_account("hevy"), WORKOUTS, 1, now=STARTED)
    SyncItem.objects.update(sent={"start_date_local": "2026-03-02T17:07:00"})
    html = logged_in.get(f"/items/{SyncItem.objects.get().pk}/").content.decode()
    assert "<td>2026-03-02 17:07:00 CET</td>" in html and "<td>2026-03-02 18:02:00 CET</td>" in html  # start, end
    assert "<td>2026-03-02T17:07:00</td>" in html


def test_the_weight_chart_places_a_late_weigh_in_on_the_users_day(logged_in, user, make_account):
    set_profile(user, time_zone="Asia/Tokyo")
    late = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 2 March, 05:30 in Tokyo
    make_items(make_account("withings"), WEIGHTS, 1, now=late)
    with time_machine.travel(late + timedelta(days=1), tick=False):
        html = logged_in.get("/charts/").content.decode()
    assert ">02 Mar 26</text>" in html and ">01 Mar 26</text>" not in html
    assert "on 2 Mar 2026" in html


def test_the_settings_page_offers_the_guessed_zone_before_one_is_chosen(logged_in, user):
    Profile.objects.filter(user=user).update(time_zone="")
    logged_in.cookies["fitsync_zone"] = "Asia/Tokyo"
    page = logged_in.get("/settings/").content.decode()
    assert '<option value="Asia/Tokyo" selected>' in page
