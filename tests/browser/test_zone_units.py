"""The reader's clock and units in the browser: times in the browser's zone with its name, lb after
switching, the system's dark mode, and a webhook URL that fits a phone-width card."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from fitsync.models import ConnectedAccount, Credential, SyncItem
from sandbox.garmin import GarminFake
from tests.integrations.garmin import fixtures
from tests.integrations.garmin.fixtures import MFA_EMAIL
from tests.integrations.garmin.fixtures import PASSWORD as GARMIN_PASSWORD
from tests.seed import WEIGHTS, WORKOUTS, make_items

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser
BERLIN = "Europe/Berlin"
STARTED = datetime(2026, 3, 2, 16, 7, tzinfo=UTC)  # 17:07 CET
garmin_url, jobs = fixtures.garmin_url, fixtures.jobs


@pytest.fixture
def context_options() -> dict:
    """The browser reads the clock in Berlin (conftest's page fixture takes these)."""
    return {"timezone_id": BERLIN}


@pytest.fixture
def fake() -> GarminFake:
    """The Garmin fake with one MFA user (the shared fixture runs every Garmin switch: not needed here)."""
    fake = GarminFake()
    fake.add_user(MFA_EMAIL, GARMIN_PASSWORD, mfa=True, display_name="grace")
    return fake


def test_a_workout_and_the_garmin_prompt_read_in_the_browsers_zone(page, shot, log_in, browser_user, garmin_url, jobs):
    make_items(ConnectedAccount.objects.create(owner=browser_user, provider="hevy"), WORKOUTS, 1, now=STARTED)
    log_in()
    expect(page.get_by_role("link", name=BERLIN)).to_be_visible()  # taken from the browser at first login

    page.goto(f"/items/{SyncItem.objects.get().pk}/")
    expect(page.locator("h1 + p time")).to_have_text("Mon 2 Mar 2026 17:07 CET")
    shot("1-workout")

    page.goto("/garmin/")
    page.get_by_label("Garmin email").fill(MFA_EMAIL)
    page.get_by_label("Garmin password").fill(GARMIN_PASSWORD)
    page.get_by_role("button", name="Connect Garmin").click()
    jobs.run()  # the login job, as a worker runs it: in UTC, with no request
    expires = Credential.objects.get(account__provider="garmin").pending_expires_at.astimezone(ZoneInfo(BERLIN))
    page.goto("/garmin/")
    expect(page.get_by_text(f"Enter it before {expires:%H:%M} {expires.tzname()}.")).to_be_visible()
    shot("2-garmin-mfa")


def test_weights_switch_to_pounds(page, shot, log_in, browser_user):
    make_items(ConnectedAccount.objects.create(owner=browser_user, provider="withings"), WEIGHTS, 3)
    log_in()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_label("Pounds (lb)").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Weights").click()
    weight = page.locator("td[data-label=Weight]").first
    expect(weight).to_have_text("176.4 lb")  # 80.00 kg
    expect(page.locator("td[data-label=Weight]", has_text="kg")).to_have_count(0)
    shot("weights-lb")


def test_the_dashboard_follows_the_systems_dark_mode(page, shot, log_in, browser_user):
    page.emulate_media(color_scheme="dark")
    log_in()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    card = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert luminance(background) < 0.1 and luminance(card) < 0.15, (background, card)
    text = page.evaluate("getComputedStyle(document.body).color")
    assert luminance(text) > 0.6, text
    shot("dark-overview")


def test_the_webhook_url_fits_its_card(page, shot, log_in, browser_user):
    url = "http://127.0.0.1:8000/webhooks/hevy/"
    meta = {"webhook_url": url}
    hevy = ConnectedAccount.objects.create(owner=browser_user, provider="hevy", display_name="ada", meta=meta)
    Credential.objects.create(account=hevy, api_key="hevy-key")
    log_in()
    field = page.get_by_label("Webhook URL")
    expect(field).to_have_value(url)
    fits = field.evaluate("(e) => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight")
    card = page.locator("article.service", has=field)
    card_fits = card.evaluate("(e) => e.scrollWidth <= e.clientWidth")
    assert fits and card_fits
    box, card_box = field.bounding_box(), card.bounding_box()
    assert box["x"] + box["width"] <= card_box["x"] + card_box["width"]
    shot("webhook-card")


def luminance(css_rgb: str) -> float:
    """Relative luminance (0 black .. 1 white) of "rgb(r, g, b)"."""
    red, green, blue = (int(part) / 255 for part in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
