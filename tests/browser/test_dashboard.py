"""The dashboard as a person uses it: log in, overview, workouts list, an item, Resync."""

import re

import pytest

from fitsync.models import ConnectedAccount, ItemStatus, SyncItem, SyncRun
from tests.seed import WEIGHTS, WORKOUTS, make_items

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(browser_user):
    accounts = {
        p: ConnectedAccount.objects.create(owner=browser_user, provider=p, display_name=f"ada@{p}")
        for p in ("hevy", "intervals", "withings", "garmin")
    }
    make_items(accounts["hevy"], WORKOUTS, 30)
    make_items(accounts["hevy"], WORKOUTS, 2, start=40, status=ItemStatus.FAILED)
    make_items(accounts["withings"], WEIGHTS, 60)
    make_items(accounts["withings"], WEIGHTS, 3, start=100, status=ItemStatus.HELD)
    SyncRun.objects.create(
        owner=browser_user,
        account=accounts["hevy"],
        trigger="backfill",
        route=WORKOUTS,
        total=120,
        done=45,
        created=40,
        updated=5,
    )
    return accounts


def test_it_walks_from_login_to_a_resynced_item(page, shot, log_in, seeded, sent_jobs):
    log_in()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_text("failed after retries")).to_be_visible()
    shot("1-overview")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workouts").click()
    expect(page.get_by_role("heading", name="Workouts", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Workout 0", exact=True)).to_be_visible()
    shot("2-workouts")
    shot("2-workouts-top", full_page=False)

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Workout 40", exact=True).click()
    expect(page.get_by_role("heading", name="Workout 40", level=1)).to_be_visible()
    expect(page.locator(".badge").first).to_have_text("Failed")
    shot("3-item-failed")

    page.get_by_role("button", name="Resync", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Resync queued.")
    expect(page.locator(".badge").first).to_have_text("Pending")
    shot("4-item-resynced")
    item = SyncItem.objects.get(source_id="w-40")
    assert item.status == ItemStatus.PENDING and sent_jobs == [item.pk]


def test_it_shows_weights_runs_and_charts(page, shot, log_in, seeded):
    log_in()
    page.goto("/weights/")
    expect(page.get_by_role("button", name="Upload held weights")).to_be_visible()
    shot("1-weights")
    page.goto("/runs/")
    page.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(page.locator("progress")).to_have_attribute("value", "45")
    shot("2-run")
    page.goto("/charts/")
    expect(page.locator("svg.chart")).to_have_count(3)
    shot("3-charts")


def test_it_updates_a_running_backfill_live(page, log_in, seeded):
    log_in()
    run = SyncRun.objects.get()
    page.goto(f"/runs/{run.pk}/")
    expect(page.get_by_text("45 of 120")).to_be_visible()
    SyncRun.objects.filter(pk=run.pk).update(done=120)
    run.finish()
    expect(page.get_by_text("120 of 120 (100%)")).to_be_visible(timeout=8_000)
    expect(page.get_by_role("heading", name="Finished")).to_be_visible()


def test_it_sends_anonymous_visitors_to_the_login_page(page, shot):
    page.goto("/workouts/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/workouts/"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot("login")
