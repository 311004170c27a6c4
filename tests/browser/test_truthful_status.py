"""The overview's Activity and the Hevy page's delivery log, as a person sees them on a laptop and a phone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.models import ConnectedAccount, Credential, Delivery, SyncAttempt, SyncItem, SyncRun
from tests.seed import WORKOUTS, make_items

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser


@pytest.fixture
def activity(browser_user):
    accounts = {}
    for provider in ("hevy", "intervals"):
        accounts[provider] = ConnectedAccount.objects.create(owner=browser_user, provider=provider, display_name="ada")
        Credential.objects.create(account=accounts[provider], webhook_secret="wh-secret-never-shown-in-the-log")
    hevy, now = accounts["hevy"], timezone.now()
    make_items(hevy, WORKOUTS, 3)
    item = SyncItem.objects.order_by("-occurred_at").first()
    deliveries = [
        ("accepted", 200, "", item),
        ("refused", 401, "The Authorization value is missing or is not this webhook's secret.", None),
        ("refused", 400, "The body is not a Hevy workout event (JSON with payload.workoutId).", None),
        ("duplicate", 200, "A copy of a recent delivery.", item),
    ]
    for minutes, (outcome, code, reason, linked) in enumerate(deliveries):
        Delivery.objects.create(
            provider="hevy",
            account=None if code == 401 else hevy,
            outcome=outcome,
            status_code=code,
            reason=reason,
            item=linked,
            received_at=now - timedelta(minutes=10 - minutes),
        )
    SyncAttempt.objects.create(item=item, outcome="created", finished_at=now - timedelta(minutes=5))
    accounts["intervals"].mark_error("Intervals.icu: HTTP 503 Service Unavailable")
    accounts["intervals"].mark_success()
    accounts["hevy"].mark_needs_reauth("Hevy rejected the API key. Reconnect Hevy.")
    accounts["hevy"].mark_connected()
    SyncRun.objects.create(owner=browser_user, account=hevy, trigger="manual", route=WORKOUTS).finish()
    return accounts


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_it_shows_the_activity_timeline_and_the_delivery_log(page, shot, log_in, activity):
    log_in()
    timeline = page.get_by_role("list", name="Recent activity, newest first")
    expect(timeline).to_be_visible()
    expect(timeline.get_by_role("listitem").first).to_contain_text("Manual run")
    expect(timeline).to_contain_text("Delivery: refused")
    expect(timeline).to_contain_text("Account: access lost")
    expect(page.get_by_text("Earlier problem, resolved since").filter(has_text="HTTP 503")).to_be_visible()
    page.get_by_role("heading", name="Activity").scroll_into_view_if_needed()
    shot("1-overview-activity", full_page=False)
    shot("1-overview-full")
    assert fits_the_width(page)

    page.goto("/hevy/")
    log = page.get_by_role("table", name="Webhook deliveries, newest first")
    expect(log).to_be_visible()
    expect(log.get_by_role("row")).to_have_count(5)  # the header and four deliveries
    expect(log).to_contain_text("HTTP 401")
    expect(log).not_to_contain_text("wh-secret-never-shown-in-the-log")
    expect(page.get_by_role("alert").filter(has_text="SITE_URL")).to_be_visible()  # http://testserver is not public
    page.get_by_role("heading", name="Webhook deliveries").scroll_into_view_if_needed()
    shot("2-hevy-delivery-log", full_page=False)
    shot("2-hevy-full")
    assert fits_the_width(page)
