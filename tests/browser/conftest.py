"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser) against a live server.

Run with `.venv/bin/pytest tests/browser -q`. Screenshots land in test-artifacts/screenshots/.
"""

import shutil
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "correct horse battery staple"


@pytest.fixture
def _orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread, yet test setup and the database flush are
    plain synchronous ORM calls. Allowed per test only, so the variable never reaches a subprocess
    (`check --deploy` rejects it)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def transactional_db(_orm_beside_playwright, transactional_db):
    """pytest-django's, wrapped so the allowance is set before its setup and lifted after its flush."""
    return transactional_db


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """One Chromium for the browser tests, started after the test database exists (its setup is ORM work).

    Package scope, not session: Playwright's sync API keeps an event loop running in this thread until
    it stops, and Django refuses ORM calls from a thread with a running loop, so every database test
    collected after this package would fail in its teardown.
    """
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context_options() -> dict:
    """More of Playwright's context options (a timezone, say): a test module overrides this fixture."""
    return {}


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, live_server, context_options):
    """A fresh browser context per test, at a phone-sized or a desktop-sized viewport."""
    options = {"viewport": VIEWPORTS[request.param], "base_url": live_server.url, "accept_downloads": True}
    context = browser.new_context(**(options | context_options))
    context.set_default_timeout(10_000)
    opened = context.new_page()
    opened.viewport_name = request.param
    yield opened
    context.close()


@pytest.fixture
def shot(page, request):
    """Save a full-page screenshot named after the test, the viewport and a step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = request.node.originalname.removeprefix("test_")

    def take(step: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{test_name}-{page.viewport_name}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def browser_user(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD)


@pytest.fixture
def log_in(page, browser_user):
    """Log in through the real form, by label and role."""

    def go(username: str = "ada", password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    return go
