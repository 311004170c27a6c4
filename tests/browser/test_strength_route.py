"""Hevy → Garmin Connect, the optional strength route, in a browser at a laptop's and a phone's size.

GIVEN a user with Hevy, Garmin Connect and Withings (a weigh-in for the calorie estimate) connected, the
fake Hevy and Garmin Connect over HTTP, and the route off
WHEN they turn it on on its card, Hevy's webhook announces a workout that ended minutes ago, they set the
wait for the watch to 0 on the route's options page and press Resync, then a workout their watch recorded too
arrives, and they turn the route off
THEN the workout first waits for the watch until a time the item states, then is uploaded (the list links to
the Garmin activity; the item page says its calories are an estimate and lists its exercises as Garmin
shows them); the watch's workout is skipped with the note naming the watch's activity; turning off asks first.
"""

import copy
import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fitsync import crypto, route_settings
from fitsync.models import ConnectedAccount, Credential, SyncItem
from fitsync.routes import ROUTES
from fitsync.zones import clock_time
from integrations.garmin import readback
from sandbox.garmin import GarminFake
from sandbox.hevy import HevyFake
from sandbox.server import SandboxServer
from tests.conftest import load_fixture
from tests.seed import WEIGHTS, make_items

from .optional_routes import (
    fits_the_width,
    in_dark_mode,
    open_options,
    route_card,
    run_jobs,
    save_options,
    turn_off,
    turn_on,
)

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser
ROUTE = ROUTES["hevy_garmin"]
BERLIN = "Europe/Berlin"
HEVY_KEY, SECRET = "hevy-browser-key", "wh-secret-for-the-browser-walk-0123456789"
EMAIL = "ada@example.com"
PUSH_A = load_fixture("hevy/workout__supersets.json")  # 6 exercises, 25 sets


@pytest.fixture
def context_options() -> dict:
    """The browser reads the clock in Berlin: the wait's time is shown on the user's clock."""
    return {"timezone_id": BERLIN}


@pytest.fixture
def upstreams(settings, monkeypatch):
    """The fake Hevy and Garmin Connect over real HTTP (garminconnect's curl_cffi is out of `responses`' reach),
    fitsync aimed at them, Garmin's sign-in pauses and read-back waits cut short."""
    from garminconnect.client import sso

    monkeypatch.setattr(readback, "READBACK_WAITS", (0.0, 0.005, 0.005, 0.005))
    for flow in ("MOBILE", "LOGIN", "WIDGET"):
        monkeypatch.setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
        monkeypatch.setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
    hevy, garmin = HevyFake(), GarminFake()
    hevy.add_user(HEVY_KEY)
    garmin.add_user(EMAIL, "correct horse", display_name="ada.l", timezone=BERLIN)
    with SandboxServer({"hevy": hevy, "garmin": garmin}) as server:
        url = server.url_for("garmin")
        settings.GARMIN_SSO_URL = settings.GARMIN_CONNECTAPI_URL = settings.GARMIN_CONNECT_URL = url
        settings.GARMIN_DI_TOKEN_URL = url + "/di-oauth2-service/oauth/token"
        settings.GARMIN_LOGIN_STRATEGIES = ["mobile+cffi", "mobile+requests"]
        settings.HEVY_API_URL = server.url_for("hevy")
        settings.HEVY_REQUESTS_PER_SECOND = 0
        yield hevy, garmin


@pytest.fixture
def accounts(browser_user, upstreams):
    hevy, garmin = upstreams
    source = connect(browser_user, "hevy", api_key=HEVY_KEY, webhook_secret=SECRET)
    source.webhook_digest = crypto.digest(SECRET)
    source.save()
    destination = connect(browser_user, "garmin", session_blob=garmin.tokens_for(EMAIL))
    destination.meta = {"display_name": "ada.l", "timezone": BERLIN, "email": EMAIL}
    destination.save()
    make_items(connect(browser_user, "withings"), WEIGHTS, 1)  # the latest weight: 80.00 kg
    return source, destination


def connect(owner, provider: str, **credential) -> ConnectedAccount:
    account = ConnectedAccount.objects.create(owner=owner, provider=provider, display_name=provider)
    Credential.objects.create(account=account, **credential)
    return account


def workout_ended(hevy: HevyFake, minutes_ago: int, title: str) -> dict:
    """Push A as a new workout of 60 minutes that ended `minutes_ago`, stored at the fake Hevy."""
    end = timezone.now().replace(microsecond=0) - timedelta(minutes=minutes_ago)
    workout = copy.deepcopy(PUSH_A)
    workout.update(id=str(uuid.uuid4()), title=title, start_time=(end - timedelta(minutes=60)).isoformat())
    workout["end_time"] = end.isoformat()
    return hevy.add_workout(HEVY_KEY, workout)


def deliver(hevy: HevyFake, live_server, workout: dict) -> None:
    """Hevy's webhook, over HTTP, to fitsync's real view (which queues the item jobs)."""
    [attempt] = hevy.emit_webhook(f"{live_server.url}/webhooks/hevy/", f"Bearer {SECRET}", workout["id"])
    assert attempt.status == 200


def test_a_workout_waits_for_the_watch_is_uploaded_and_a_watched_one_skipped(
    page, shot, log_in, browser_user, live_server, upstreams, accounts, sent_jobs
):
    hevy, garmin = upstreams
    label = ROUTE.label
    log_in()
    turn_on(page, ROUTE, browser_user)
    shot("1-turned-on")

    first = workout_ended(hevy, 5, "Push A")
    deliver(hevy, live_server, first)
    run_jobs(sent_jobs, ROUTE.name)
    until = timezone.datetime.fromisoformat(first["end_time"]) + timedelta(minutes=30)
    waiting = f"Waiting until {clock_time(until, ZoneInfo(BERLIN))} for your watch to sync."
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Push A", exact=True))
    expect(row.locator("td[data-label=Status]")).to_have_text("Pending")
    expect(row.locator("td[data-label=Reason]")).to_have_text(waiting)
    shot("2-list-waiting-for-the-watch")
    row.get_by_role("link", name="Push A", exact=True).click()
    expect(page.locator("p.advice.note")).to_have_text(waiting)
    expect(page.get_by_role("table", name="Attempts, newest first")).to_contain_text("waiting")
    shot("3-item-waiting")

    open_options(page, label)
    watch = page.get_by_role("group", name="When your watch recorded the same workout")
    expect(watch.get_by_label("Skip it: keep the watch's activity, upload nothing")).to_be_checked()
    grace = page.get_by_label("Wait for the watch (minutes after the workout ends)")
    expect(grace).to_have_value("30")
    grace.fill("0")
    shot("4-options")
    save_options(page, label)
    open_options(page, label)
    expect(page.get_by_label("Wait for the watch (minutes after the workout ends)")).to_have_value("0")
    expect(watch.get_by_label("Skip it: keep the watch's activity, upload nothing")).to_be_checked()
    assert route_settings.options_of(browser_user.pk, ROUTE.name) == {"watch": "skip", "grace_minutes": 0}

    item = SyncItem.objects.get(route=ROUTE.name, source_id=first["id"])
    page.goto(f"/items/{item.pk}/")
    page.get_by_role("button", name="Resync", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Resync queued.")
    run_jobs(sent_jobs, ROUTE.name)
    page.reload()
    expect(page.locator(".badge").first).to_have_text("Synced")
    item.refresh_from_db()
    [activity] = garmin.activities(EMAIL)
    assert item.destination_id == str(activity["activityId"]) and activity["calories"] == 280  # 3.5 MET × 80 kg × 1 h
    activity_url = f"{garmin_url()}/modern/activity/{activity['activityId']}"
    expect(page.get_by_role("link", name=item.destination_id)).to_have_attribute("href", activity_url)
    sent = page.get_by_role("region", name="Sent to Garmin Connect")
    expect(fact(sent, "Name")).to_have_text("Push A")
    expect(fact(sent, "Calories")).to_have_text(
        "280 kcal, estimated from the workout's length and your latest Withings weight"
    )
    expect(fact(sent, "Your watch")).to_have_text("No recording of it was found at Garmin Connect")
    exercises = sent.get_by_role("table", name="Exercises as Garmin Connect shows them")
    expect(exercises.locator("tbody tr")).to_have_count(6)
    bench = exercises.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Bench Press (Barbell)"))
    expect(bench.locator("td")).to_have_text(["Barbell bench press", "7"])
    expect(page.get_by_role("group").filter(has_text="Every field as stored")).not_to_have_attribute("open", "")
    assert fits_the_width(page)
    shot("5-item-synced")
    in_dark_mode(page, shot, "6-item-synced-dark")

    page.get_by_role("link", name="← Back to the list").click()
    synced = page.get_by_role("row").filter(has=page.get_by_role("link", name="Push A", exact=True))
    expect(synced.locator("td[data-label=Status]")).to_have_text("Synced")
    expect(synced.get_by_role("link", name=re.compile("^Open"))).to_have_attribute("href", activity_url)
    shot("7-list-synced")

    second = workout_ended(hevy, 3, "Pull B")
    start = timezone.datetime.fromisoformat(second["start_time"])
    recorded = garmin.add_watch_activity(EMAIL, start - timedelta(minutes=2), start + timedelta(minutes=63))
    deliver(hevy, live_server, second)
    run_jobs(sent_jobs, ROUTE.name)
    page.reload()
    skipped = page.get_by_role("row").filter(has=page.get_by_role("link", name="Pull B", exact=True))
    expect(skipped.locator("td[data-label=Status]")).to_have_text("Skipped")
    note = f"Your watch recorded this workout: Garmin Connect activity {recorded['activityId']} (“Strength”"
    expect(skipped.locator("td[data-label=Reason]")).to_contain_text(note)
    expect(skipped.locator("td[data-label=Destination]")).to_have_text("–")
    shot("8-list-watch-skipped")
    skipped.get_by_role("link", name="Pull B", exact=True).click()
    expect(page.locator("p.advice")).to_contain_text("(watch option: skip)")
    sent = page.get_by_role("region", name="Sent to Garmin Connect")
    expect(fact(sent, "Uploaded")).to_have_text("Nothing")
    expect(fact(sent, "Your watch")).to_have_text(
        f"Its activity {recorded['activityId']} (“Strength”) has this workout, so fitsync uploaded no second one "
        "(watch option: skip)"
    )
    assert len(garmin.activities(EMAIL)) == 2 and fits_the_width(page)  # the first upload and the watch's
    shot("9-item-watch-skipped")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    card = route_card(page, ROUTE.name)
    card.get_by_role("button", name=f"Pause {label}").click()
    card = route_card(page, ROUTE.name)
    expect(card.locator("h3 .badge")).to_have_text("Paused")
    controls = card.locator(".route-controls")
    expect(controls.get_by_role("button")).to_have_text([re.compile("^Resume"), re.compile("^Turn off")])
    first, last = (controls.get_by_role(role).first.bounding_box() for role in ("button", "link"))
    assert abs(first["y"] - last["y"]) < 2  # one row
    card.scroll_into_view_if_needed()
    shot("10-paused", full_page=False)
    card.get_by_role("button", name=f"Resume {label}").click()
    turn_off(page, ROUTE, browser_user, shot)


def garmin_url() -> str:
    from django.conf import settings

    return settings.GARMIN_CONNECT_URL


def fact(region, name: str):
    return region.locator("dl.facts > div").filter(has=region.page.locator("dt", has_text=name)).locator("dd")
