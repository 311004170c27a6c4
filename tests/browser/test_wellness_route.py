"""Withings → Intervals.icu wellness, the optional route, in a browser at a laptop's and a phone's size.

GIVEN a user with Withings (subscribed to notifications) and Intervals.icu (with a custom MuscleMass field)
connected, the fake Withings and Intervals.icu over HTTP, and the route off
WHEN they turn it on on its card, choose "the last of the day" on its options page, step on the scale twice
on one day (each weigh-in notifies fitsync's real notification view; the fetch and sync jobs run as a worker
runs them), then turn the route off
THEN both weigh-ins are synced to that day, the list links to the day in Intervals.icu's calendar, the item
page lists the day's values as sent (the evening's, by the pick), the fake holds them, and turning off asks
first.
"""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fitsync import route_settings
from fitsync.models import ConnectedAccount, Credential, SyncItem
from fitsync.routes import ROUTES
from integrations.withings import jobs as withings_jobs
from integrations.withings import subscriptions
from sandbox.intervals import IntervalsFake
from sandbox.server import SandboxServer
from sandbox.withings import WithingsFake
from tests.integrations.withings.conftest import CLIENT_ID, SECRET, USER, Jobs, connect_account

from .optional_routes import fits_the_width, in_dark_mode, open_options, run_jobs, save_options, turn_off, turn_on

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser
ROUTE = ROUTES["withings_intervals"]
BERLIN = ZoneInfo("Europe/Berlin")
ATHLETE, KEY = "i12345", "intervals-browser-key"


@pytest.fixture
def context_options() -> dict:
    """The browser reads the clock in Berlin, where the scale stands: the list's dates are the wellness day's."""
    return {"timezone_id": "Europe/Berlin"}


@pytest.fixture
def upstreams(settings, live_server):
    """The fake Withings (its notifications go to the live server) and Intervals.icu over real HTTP."""
    settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = CLIENT_ID, SECRET
    settings.WITHINGS_REQUESTS_PER_MINUTE = 0
    settings.INTERVALS_REQUESTS_PER_SECOND = 0
    settings.SITE_URL = live_server.url
    withings = WithingsFake(page_size=100, strict_callback_urls=False)
    withings.add_app(CLIENT_ID, SECRET, [f"{live_server.url}/withings/callback/"])
    withings.add_user(userid=USER, email="ada@example.com", timezone="Europe/Berlin")
    intervals = IntervalsFake()
    intervals.add_athlete(KEY, athlete_id=ATHLETE, timezone="Europe/Berlin")
    intervals.add_custom_item(ATHLETE, "MuscleMass", name="Muscle mass")
    with SandboxServer({"withings": withings, "intervals": intervals}) as server:
        settings.WITHINGS_API_URL = settings.WITHINGS_ACCOUNT_URL = server.url_for("withings")
        settings.INTERVALS_API_URL = server.url_for("intervals")
        yield withings, intervals


@pytest.fixture
def withings_jobs_sent(monkeypatch) -> Jobs:
    """The Withings jobs the views queue (the fetch a notification asks for), run on demand."""
    captured = Jobs()
    monkeypatch.setattr(withings_jobs, "_send", lambda task, *args: captured.sent.append((task, args)))
    return captured


@pytest.fixture
def accounts(browser_user, upstreams, withings_jobs_sent):
    withings, _ = upstreams
    source = connect_account(withings, browser_user)
    assert subscriptions.subscribe(source).state == "active"  # the fake probed the live server's URL
    withings_jobs_sent.sent.clear()  # the first fetch after connecting: nothing to fetch yet
    athlete = ConnectedAccount.objects.create(owner=browser_user, provider="intervals", display_name="Ada")
    athlete.external_user_id = ATHLETE
    athlete.save()
    Credential.objects.create(account=athlete, api_key=KEY)
    return source, athlete


def test_a_days_weigh_ins_reach_its_intervals_wellness_by_the_chosen_pick(
    page, shot, log_in, browser_user, upstreams, accounts, withings_jobs_sent, sent_jobs
):
    withings, intervals = upstreams
    label = ROUTE.label
    log_in()
    turn_on(page, ROUTE, browser_user)
    shot("1-turned-on")

    open_options(page, label)
    written = page.get_by_role("region", name="What it writes to Intervals.icu")
    expect(written.get_by_role("listitem")).to_contain_text(
        ["Weight (kg)", "Body fat (%)", "Muscle mass (kg), in your custom field MuscleMass"]
    )
    pick = page.get_by_role("group", name="Several weigh-ins in a day")
    expect(pick.get_by_label("The first of the day (the morning weigh-in)")).to_be_checked()
    pick.get_by_label("The last of the day").check()
    shot("2-options")
    save_options(page, label)
    open_options(page, label)
    expect(pick.get_by_label("The last of the day")).to_be_checked()
    assert route_settings.options_of(browser_user.pk, ROUTE.name) == {"pick": "last"}

    day = timezone.localdate(timezone=BERLIN) - timedelta(days=1)
    morning, evening = (datetime.combine(day, at, BERLIN) for at in (time(7, 5), time(19, 40)))
    withings.step_on_scale(USER, when=morning, weight_kg=Decimal("80.10"), fat_ratio=Decimal("21.4"))
    withings.step_on_scale(
        USER, when=evening, weight_kg=Decimal("81.35"), fat_ratio=Decimal("20.9"), muscle_mass=Decimal("61.2")
    )
    assert [delivery.status for delivery in withings.deliveries] == [200, 200]  # the real notification view
    withings_jobs_sent.run()  # the fetches the notifications queued
    run_jobs(sent_jobs, ROUTE.name)
    assert intervals.wellness(ATHLETE)[day.isoformat()] | {"updated": None} == {
        "id": day.isoformat(),
        "weight": 81.35,
        "bodyFat": 20.9,
        "MuscleMass": 61.2,
        "updated": None,
    }

    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    expect(page.get_by_text("2 items, newest first.")).to_be_visible()
    calendar = f"https://intervals.icu/calendar/{day.isoformat()}"
    for weight in ("80.10", "81.35"):
        row = page.get_by_role("row").filter(has_text=f"{weight} kg")
        expect(row.locator("td[data-label=Status]")).to_have_text("Synced")
        expect(row.get_by_role("link", name=re.compile("^Open"))).to_have_attribute("href", calendar)
    assert fits_the_width(page)
    shot("3-list-synced")

    morning_item = SyncItem.objects.get(route=ROUTE.name, snapshot__weight_kg__startswith="80.1")
    page.goto(f"/items/{morning_item.pk}/")
    expect(page.get_by_role("link", name=day.isoformat())).to_have_attribute("href", calendar)
    sent = page.get_by_role("region", name="Sent to Intervals.icu")
    expect(fact(sent, "Wellness day")).to_have_text(f"{day:%a} {day.day} {day:%b %Y}")
    expect(fact(sent, "Values")).to_have_text(
        "The day's, from every weigh-in of the day, picked as the route's options say"
    )
    values = sent.get_by_role("table", name="The day's values at Intervals.icu")
    expect(values.locator("tbody tr")).to_have_text(
        [
            re.compile(r"^Weight \(kg\)\s*81\.35$"),
            re.compile(r"^Body fat \(%\)\s*20\.90$"),
            re.compile(r"^Muscle mass \(kg\), in your custom field MuscleMass\s*61\.20$"),
        ]
    )
    assert fits_the_width(page)
    shot("4-item-sent")
    in_dark_mode(page, shot, "5-item-sent-dark")

    turn_off(page, ROUTE, browser_user, shot)


def fact(region, name: str):
    return region.locator("dl.facts > div").filter(has=region.page.locator("dt", has_text=name)).locator("dd")
