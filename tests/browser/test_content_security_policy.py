"""The content security policy as Chromium enforces it: no page of the dashboard trips it."""

import pytest

from fitsync.models import ConnectedAccount, Credential, SyncRun
from tests.seed import WORKOUTS

pytestmark = pytest.mark.browser
PAGES = [
    "/",
    "/workouts/",
    "/weights/",
    "/runs/",
    "/charts/",
    "/settings/",
    "/hevy/",
    "/intervals/",
    "/withings/",
    "/garmin/",
]


@pytest.fixture
def violations(page):
    """Every policy violation the page reports, as "directive: blocked URI"."""
    seen: list[str] = []
    page.expose_binding("reportViolation", lambda _source, text: seen.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.reportViolation(e.effectiveDirective + ': ' + e.blockedURI + ' ' + e.sourceFile));"
    )
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    return seen


@pytest.fixture
def accounts(browser_user):
    hevy = ConnectedAccount.objects.create(owner=browser_user, provider="hevy", display_name="ada")
    Credential.objects.create(account=hevy, api_key="hevy-key")
    SyncRun.objects.create(owner=browser_user, account=hevy, trigger="backfill", route=WORKOUTS, total=9)
    return hevy


def test_no_page_trips_the_policy(page, log_in, accounts, violations):
    log_in()
    run = SyncRun.objects.get()
    for path in [*PAGES, f"/runs/{run.pk}/"]:
        page.goto(path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # htmx and our scripts run after load
    assert violations == []


def test_the_withings_redirect_is_allowed_by_form_action(page, log_in, violations, settings):
    """ "Connect Withings" posts to fitsync, which redirects to the authorize page: form-action covers both."""
    settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = "client-id", "client-secret"
    log_in()
    page.route(f"{settings.WITHINGS_ACCOUNT_URL}/**", lambda route: route.fulfill(body="authorize page"))
    page.goto("/withings/")
    page.get_by_role("button", name="Connect Withings").click()
    page.wait_for_url(f"{settings.WITHINGS_ACCOUNT_URL}/**")
    assert violations == [] and page.get_by_text("authorize page").is_visible()
