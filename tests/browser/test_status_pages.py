"""The status a person reads, in a browser at a laptop's and a phone's size: a route's and a service's last
times, a run that waits for its queued items, an old problem read as history, the Withings history import
with its progress, the charts' empty state and point markers, and weigh-ins waiting for Garmin."""

import re
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from fitsync import sync
from fitsync.feeds import take_in
from fitsync.models import ConnectedAccount, Credential, ItemStatus, SyncAttempt, SyncItem, SyncRun
from sandbox.mock import mount
from sandbox.withings import WithingsFake
from tests.integrations.garmin.fixtures import measurement
from tests.integrations.withings.conftest import CLIENT_ID, SECRET, USER, auth_callback, connect_account
from tests.seed import WEIGHTS

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser
AGO = re.compile(r"^\d+\s+minutes?\s+ago$")
LEASE_OWNER = "browser-test"


def connect(owner, provider: str) -> ConnectedAccount:
    account = ConnectedAccount.objects.create(owner=owner, provider=provider, display_name=provider)
    Credential.objects.create(account=account)
    return account


def weigh_ins(count: int, first: int = 5000) -> list:
    """`count` recent weigh-ins, one a day up to yesterday."""
    now = timezone.now()
    return [measurement(str(first + n), at=now - timedelta(days=count - n)) for n in range(count)]


def fetched(withings: ConnectedAccount, records: list) -> SyncRun:
    """A manual run that stored `records` through the real intake (queued for Garmin, or waiting for it)."""
    run = sync.start_run(SyncRun.Trigger.MANUAL, account=withings, route=WEIGHTS)
    take_in(withings, records, run)
    return run


def settle(items) -> None:
    """Each item through the engine's transitions: leased, then synced with a created copy."""
    for item in items:
        assert SyncItem.objects.claim(item.pk, LEASE_OWNER) is not None
        SyncItem.objects.owned(item.pk, LEASE_OWNER).succeed(ItemStatus.SYNCED, synced_at=timezone.now())
        SyncAttempt.objects.create(item=item, outcome="created", finished_at=timezone.now())


def fact(card, name: str):
    return card.locator("dl.facts > div").filter(has=card.page.locator("dt", has_text=name)).locator("dd")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_route_and_its_services_show_when_they_last_worked(page, shot, log_in, browser_user, sent_jobs):
    withings, _ = connect(browser_user, "withings"), connect(browser_user, "garmin")
    log_in()
    route = page.locator("article.route").filter(has=page.locator("#route-withings_garmin"))
    card = page.locator("article.service").filter(has=page.locator("#service-withings"))
    expect(fact(route, "Last synced")).to_have_text("never")
    expect(fact(route, "Last data received")).to_have_text("never")
    expect(fact(card, "Last success")).to_have_text("never")

    run = fetched(withings, weigh_ins(3))
    run.finish()  # a finished run credits the account it fetched from
    settle(SyncItem.objects.filter(run=run))
    page.reload()
    for name in ("Last synced", "Last data received"):
        expect(fact(route, name).locator("time")).to_have_text(AGO)
    expect(fact(card, "Last success").locator("time")).to_have_text(AGO)
    route.scroll_into_view_if_needed()
    shot("1-route-times", full_page=False)
    shot("2-overview")
    assert fits_the_width(page)


@pytest.fixture
def withings_fake(settings, live_server):
    """The sandbox Withings fake behind `responses` (it patches every thread, the live server's too)."""
    settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = CLIENT_ID, SECRET
    settings.WITHINGS_REQUESTS_PER_MINUTE = 0
    fake = WithingsFake(page_size=100)
    fake.add_app(CLIENT_ID, SECRET, [auth_callback()])
    fake.add_user(userid=USER, email="ada@example.com", timezone="Europe/Berlin")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add_passthru(live_server.url)
        mount(mocked, fake, settings.WITHINGS_API_URL)
        mount(mocked, fake, settings.WITHINGS_ACCOUNT_URL)
        yield fake


def test_the_weight_history_import_shows_its_progress_and_its_queued_items(
    page, shot, log_in, browser_user, withings_fake, history_jobs
):
    withings_fake.seed_daily_history(USER, days=30, end=timezone.now())
    connect_account(withings_fake, browser_user)
    log_in()
    page.goto("/withings/")
    history = page.get_by_role("region", name="Weight history")
    expect(history).to_contain_text("your whole history, or the days you choose")
    expect(history.get_by_label("From")).to_be_visible()
    expect(history.get_by_label("To")).to_be_visible()
    history.scroll_into_view_if_needed()
    shot("1-withings-history-form", full_page=False)

    history.get_by_label("From").fill((timezone.localdate() - timedelta(days=10)).isoformat())
    history.get_by_role("button", name="Import weight history").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    expect(page.locator("body")).to_contain_text("Weight history import started")
    run = SyncRun.objects.get()
    assert history_jobs.runs == [run.pk] and run.route == "withings_garmin"
    shot("2-run-started")

    history_jobs.run()  # the worker's part: fetch the range, store the weigh-ins; Garmin is not connected
    run.refresh_from_db()
    waiting = SyncItem.objects.filter(run=run).count()
    assert 9 <= waiting <= 11 and run.total == waiting
    page.reload()
    progress = page.get_by_role("region", name="Waiting for its queued items")
    bar = progress.locator("progress#run-bar")
    expect(bar).to_have_attribute("max", str(waiting))
    expect(bar).to_have_attribute("value", str(waiting))
    queued = progress.get_by_role("link", name=f"{waiting} queued → see items")
    expect(queued).to_have_attribute("href", f"/weights/?run={run.pk}")
    expect(progress.locator("dl.counts > div").filter(has_text="Created").locator("dd")).to_have_text("0")
    shot("3-run-waiting-for-queued")

    queued.click()
    expect(page.get_by_text(f"{waiting} items, newest first.")).to_be_visible()
    expect(page.locator("td[data-label=Status] .badge").filter(has_text="Pending")).to_have_count(waiting)
    shot("4-queued-items")

    settle(SyncItem.objects.filter(run=run))
    page.goto(f"/runs/{run.pk}/")
    finished = page.get_by_role("region", name="Finished")
    expect(finished.locator("dl.counts > div").filter(has_text="Created").locator("dd")).to_have_text(str(waiting))
    expect(finished).not_to_contain_text("queued")
    shot("5-run-finished")
    assert fits_the_width(page)


def test_an_old_problem_reads_as_history_after_a_later_success(page, shot, log_in, browser_user):
    intervals = connect(browser_user, "intervals")
    intervals.mark_error("Intervals.icu: HTTP 503 Service Unavailable")
    log_in()
    page.goto("/intervals/")
    expect(page.locator("p.error").filter(has_text="Last problem")).to_contain_text("HTTP 503")
    shot("1-current-problem")

    intervals.mark_success()
    page.reload()
    resolved = page.get_by_text("Earlier problem, resolved since")
    expect(resolved).to_contain_text("HTTP 503")
    expect(resolved).not_to_have_class(re.compile("error"))
    expect(page.locator("p.error").filter(has_text="Last problem")).to_have_count(0)
    resolved.scroll_into_view_if_needed()
    shot("2-resolved-on-service-page", full_page=False)

    page.goto("/")
    card = page.locator("article.service").filter(has=page.locator("#service-intervals"))
    expect(card.get_by_text("Earlier problem, resolved since")).to_be_visible()
    expect(card.get_by_text("Last problem:")).to_have_count(0)
    card.scroll_into_view_if_needed()
    shot("3-resolved-on-overview", full_page=False)


def test_the_weight_chart_says_what_to_do_then_marks_its_points(page, shot, log_in, browser_user):
    log_in()
    page.goto("/charts/")
    weight = page.get_by_role("region", name="Weight (kg)")
    expect(weight).to_contain_text("No weigh-ins in this period. Connect Withings to draw it.")
    expect(weight.get_by_role("link", name="Connect Withings")).to_have_attribute("href", "/withings/")
    shot("1-empty-not-connected")

    withings = connect(browser_user, "withings")
    page.reload()
    expect(weight).to_contain_text("Import your history on the Withings page, or pick a longer period.")
    expect(weight.get_by_role("link", name="Import history from Withings")).to_be_visible()
    shot("2-empty-connected")

    fetched(withings, weigh_ins(2))
    page.reload()
    expect(weight.locator("svg circle.point")).to_have_count(2)
    expect(weight).not_to_contain_text("No weigh-ins in this period")
    shot("3-two-points-marked")
    assert fits_the_width(page)


def test_weigh_ins_fetched_before_garmin_is_connected_wait_and_are_not_held(
    page, shot, log_in, browser_user, settings, sent_jobs
):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    withings = connect(browser_user, "withings")
    fetched(withings, weigh_ins(7)).finish()
    log_in()
    page.goto("/weights/")
    expect(page.get_by_text("7 items, newest first.")).to_be_visible()
    badges = page.locator("td[data-label=Status] .badge")
    expect(badges.filter(has_text="Pending")).to_have_count(7)
    expect(badges.filter(has_text="Held")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("safety cap")
    shot("1-weights-waiting")

    page.goto("/")
    expect(page.locator("main")).not_to_contain_text("held back by the upload safety cap")
    route = page.locator("article.route").filter(has=page.locator("#route-withings_garmin"))
    route.scroll_into_view_if_needed()
    shot("2-overview-route", full_page=False)
