"""The user's controls in a browser: the first-run checklist, pausing a route, disconnecting a service
(with its confirmation page) and exporting a list as CSV, at a phone's and a laptop's size."""

import csv
import io

import pytest

from fitsync.models import ConnectedAccount, Credential
from fitsync.route_settings import paused_routes
from tests.seed import WEIGHTS, make_items

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(browser_user):
    accounts = {
        provider: ConnectedAccount.objects.create(owner=browser_user, provider=provider, display_name=provider)
        for provider in ("hevy", "withings", "garmin")
    }
    Credential.objects.create(account=accounts["hevy"], api_key="hevy-key", webhook_secret="s3cret")
    make_items(accounts["withings"], WEIGHTS, 12)
    return accounts


def test_it_pauses_a_route_disconnects_a_service_and_exports(page, shot, log_in, seeded, browser_user, sent_jobs):
    log_in()
    checklist = page.get_by_role("region", name="Getting started: Hevy → Intervals.icu")
    expect(checklist).to_be_visible()
    expect(checklist.get_by_role("link", name="Connect on the Intervals.icu page")).to_be_visible()
    shot("1-checklist")

    page.get_by_role("button", name="Pause Withings → Garmin Connect").click()
    route = page.get_by_role("article", name="Withings → Garmin Connect Paused")
    expect(route.get_by_text("Paused", exact=True)).to_be_visible()
    expect(route.get_by_role("button", name="Resume Withings → Garmin Connect")).to_be_visible()
    assert paused_routes(browser_user.pk) == {WEIGHTS}
    shot("2-paused")
    route.get_by_role("button", name="Resume Withings → Garmin Connect").click()
    expect(page.get_by_role("status")).to_contain_text("is running again")
    assert paused_routes(browser_user.pk) == set()

    page.get_by_role("button", name="Disconnect Hevy").click()
    expect(page.get_by_role("heading", name="Disconnect Hevy?")).to_be_visible()
    shot("3-disconnect-confirm")
    page.get_by_role("link", name="Cancel").click()
    assert Credential.objects.get(account=seeded["hevy"]).api_key == "hevy-key"  # asking changed nothing
    page.get_by_role("button", name="Disconnect Hevy").click()
    page.get_by_role("button", name="Disconnect Hevy").click()  # the confirmation page's own button
    expect(page.get_by_role("status")).to_contain_text("Hevy is disconnected. Its history is kept.")
    expect(page.get_by_role("link", name="Connect Hevy again").first).to_be_visible()
    assert Credential.objects.get(account=seeded["hevy"]).api_key == ""
    shot("4-disconnected")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Weights").click()
    shot("5-weights-export", full_page=False)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows[0][:2] == ["Measured", "Date"] and len(rows) == 13
