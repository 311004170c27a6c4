"""A new user's whole first session, in the browser, against the sandbox over HTTP and a real worker.

GIVEN the seeded sandbox world (fake Hevy, Intervals.icu, Withings and Garmin behind one SandboxServer,
its control page in a second tab) and a real `manage.py qcluster`,
WHEN the user logs in, connects Hevy and Intervals.icu, sends a workout, completes Withings OAuth and the
Garmin MFA login, steps on the scale, then breaks Intervals.icu and logs another workout,
THEN each item shows up synced with its destination, the broken one shows its reason while it retries,
and after healing the upstream one click on Resync syncs it. Screenshots of every page, per viewport.
"""

import re

import pytest

from sandbox.control import mount_table
from sandbox.management.commands.demo_env import demo_values
from sandbox.registry import (
    DEMO_EMAIL,
    DEMO_GARMIN_PASSWORD,
    DEMO_HEVY_API_KEY,
    DEMO_INTERVALS_API_KEY,
    DEMO_INTERVALS_ATHLETE,
    DEMO_WITHINGS_USERID,
    build_sandbox,
)
from sandbox.server import SandboxServer

from .walk import reload_until, sandbox_worker, snap

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = [pytest.mark.browser, pytest.mark.live]
GARMIN_STRATEGIES = ("mobile+cffi", "mobile+requests")  # the ones the sandbox serves
JOB_SECONDS = 30  # a job's result shows within this on a warm worker (the Garmin login included)


@pytest.fixture
def sandbox(live_server):
    """The demo world, its Withings app registered with the live server's callback URL."""
    world = build_sandbox(seed=True, site_url=live_server.url)
    with SandboxServer(mount_table(world)) as server:
        yield world, server


@pytest.fixture
def upstreams(sandbox, live_server, settings):
    """fitsync aimed at the sandbox, in this process (pages) and for the worker (its environment)."""
    values = demo_values(sandbox[1].url, live_server.url)
    for demo_only in ("DEBUG", "FITSYNC_SANDBOX", "FITSYNC_DEMO"):
        values.pop(demo_only, None)
    for key, value in values.items():
        setattr(settings, key, value)
    settings.GARMIN_LOGIN_STRATEGIES = list(GARMIN_STRATEGIES)
    return {**values, "GARMIN_LOGIN_STRATEGIES": ",".join(GARMIN_STRATEGIES)}


@pytest.fixture
def worker(transactional_db, upstreams):
    """Stopped before the test database is flushed (it depends on `transactional_db`)."""
    with sandbox_worker(**upstreams) as process:
        yield process


@pytest.fixture
def control(page, sandbox):
    """The sandbox control page in a second tab: what stands in for Hevy, the scale and the inbox."""
    tab = page.context.new_page()
    tab.goto(sandbox[1].url)
    return tab


def test_a_new_user_connects_every_service_and_resyncs_a_failed_workout(page, control, log_in, sandbox, worker):
    world, _ = sandbox
    steps = iter(range(1, 100))

    def shot(tab, step: str) -> None:
        snap(tab, f"connect_flows-{page.viewport_name}-{next(steps):02d}-{step}")

    log_in()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    shot(page, "overview-new-user")

    connect_hevy_and_intervals(page, control, shot)
    first = send_new_workout(control, world, shot)
    see_workout_synced(page, world, first, shot)
    connect_withings(page, world, shot)
    connect_garmin(page, control, world, shot)
    weigh_in(page, control, world, shot)
    fail_and_resync(page, control, world, shot)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    for service in ("Hevy", "Intervals.icu", "Withings", "Garmin Connect"):
        card = page.get_by_role("article", name=f"{service} Connected", exact=True)
        expect(card).to_be_visible()
        expect(card).not_to_contain_text("Last problem")  # the healed 503 is history, not the current state
    shot(page, "overview-all-connected")


# --- the steps ----------------------------------------------------------------------------------
def connect_hevy_and_intervals(page, control, shot) -> None:
    """Type the demo keys; copy the webhook values into "Hevy" (the sandbox tab), as Hevy's settings want."""
    page.get_by_role("link", name="Connect Hevy").click()
    page.get_by_label("Hevy API key").fill(DEMO_HEVY_API_KEY)
    shot(page, "hevy-connect")
    page.get_by_role("button", name="Connect Hevy").click()
    expect(page.get_by_role("status")).to_contain_text("Hevy is connected.")
    webhook_url = page.get_by_label("Webhook URL").input_value()
    authorization = page.get_by_label("Authorization header value").input_value()
    assert webhook_url.endswith("/webhooks/hevy/") and len(authorization) > 30
    shot(page, "hevy-connected")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Connect Intervals.icu").click()
    page.get_by_label("Athlete id").fill(DEMO_INTERVALS_ATHLETE)
    page.get_by_label("API key").fill(DEMO_INTERVALS_API_KEY)
    page.get_by_role("button", name="Connect Intervals.icu").click()
    expect(page.get_by_role("status")).to_contain_text("Intervals.icu is connected.")
    expect(page.get_by_text("Europe/Berlin")).to_be_visible()  # read from the athlete's profile
    shot(page, "intervals-connected")

    control.get_by_label("Webhook URL").fill(webhook_url)
    control.get_by_label("Authorization value (empty: the one fitsync expects)").fill(authorization)
    control.get_by_role("button", name="Save webhook settings").click()
    expect(control.get_by_role("status")).to_contain_text(f"Hevy webhooks now go to {webhook_url}")


def send_new_workout(control, world, shot) -> dict:
    """The workout the button logged (by id: its random length can make an earlier one start later)."""
    before = set(hevy_workouts(world))
    control.get_by_role("button", name="Log a new workout and send its webhook").click()
    expect(control.get_by_role("status")).to_contain_text("Sending Hevy's webhook for a new workout")
    (workout,) = [w for key, w in hevy_workouts(world).items() if key not in before]
    shot(control, "sandbox-webhook-sent")
    return workout


def hevy_workouts(world) -> dict[str, dict]:
    with world.hevy.lock:
        return {key: dict(w) for key, w in world.hevy.users[DEMO_HEVY_API_KEY]["workouts"].items()}


def workout_row(page, workout: dict):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=workout["title"], exact=True))


def see_workout_synced(page, world, workout: dict, shot) -> None:
    """In the Workouts list as synced, with its Intervals.icu link; in the fake Intervals.icu too."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workouts").click()
    row = reload_until(page, workout_row(page, workout).filter(has_text="Synced"), JOB_SECONDS)
    (activity,) = world.intervals.activities(DEMO_INTERVALS_ATHLETE)
    assert activity["name"] == workout["title"]
    expect(row.get_by_role("link", name=re.compile("^Open"))).to_have_attribute(
        "href", re.compile(f"/activities/{activity['id']}$")
    )
    shot(page, "workouts-synced")


def connect_withings(page, world, shot) -> None:
    """OAuth through the fake's consent page, back on fitsync connected, then the notification subscription."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Connect Withings").click()
    shot(page, "withings-connect")
    page.get_by_role("button", name="Connect Withings").click()
    expect(page.get_by_role("heading", name=re.compile("Allow .* to access your Withings data"))).to_be_visible()
    shot(page, "withings-authorize")
    page.get_by_role("button", name="Allow this app").click()
    expect(page.get_by_role("status")).to_contain_text("Withings connected")
    shot(page, "withings-back-on-overview")

    page.get_by_role("link", name="Manage Withings").click()
    notifications = page.get_by_role("region", name="New weigh-in notifications")
    reload_until(page, notifications.get_by_text("active", exact=True), JOB_SECONDS)
    notifications.get_by_role("button", name="Subscribe again").click()
    expect(page.get_by_role("status")).to_contain_text("Asking Withings to send new weigh-ins")
    reload_until(page, notifications.get_by_text("active", exact=True), JOB_SECONDS)
    (subscription,) = world.withings.subscriptions.of_user(DEMO_WITHINGS_USERID, 1)
    assert subscription.callbackurl.startswith(page.url.split("/withings/")[0] + "/webhooks/withings/")
    shot(page, "withings-subscribed")


def connect_garmin(page, control, world, shot) -> None:
    """Email and password, the login job asks for MFA, the code from the "inbox" (the sandbox tab)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Connect Garmin Connect").click()
    page.get_by_label("Garmin email").fill(DEMO_EMAIL)
    page.get_by_label("Garmin password").fill(DEMO_GARMIN_PASSWORD)
    shot(page, "garmin-connect")
    page.get_by_role("button", name="Connect Garmin").click()
    expect(page.get_by_role("textbox", name="Security code")).to_be_visible(
        timeout=JOB_SECONDS * 1000
    )  # htmx polls, then reloads
    shot(page, "garmin-mfa")

    control.reload()
    code = control.get_by_label("MFA code").inner_text()
    assert code == world.garmin.current_mfa_code(DEMO_EMAIL)
    shot(control, "sandbox-mfa-code")
    page.get_by_role("textbox", name="Security code").fill(code)
    page.get_by_role("button", name="Verify code").click()
    expect(page.get_by_text("Connected to Garmin Connect as demo-athlete.")).to_be_visible(timeout=JOB_SECONDS * 1000)
    expect(page.get_by_text("Garmin user demo-athlete")).to_be_visible()
    shot(page, "garmin-connected")


def weigh_in(page, control, world, shot) -> None:
    control.get_by_label("Weight in kg (empty: near the last one)").fill("81.35")
    control.get_by_role("button", name="Step on the scale").click()
    expect(control.get_by_role("status")).to_contain_text("Weighed 81.35 kg; notifying")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Weights").click()
    reload_until(page, page.get_by_role("row").filter(has_text="81.35").filter(has_text="Synced"), JOB_SECONDS)
    assert [w["weight"] for w in world.garmin.weigh_ins(DEMO_EMAIL)].count(81350.0) == 1
    shot(page, "weights-synced")
    control.reload()
    expect(control.get_by_role("table", name=re.compile("Garmin weigh-ins"))).to_contain_text("81.35 kg")
    shot(control, "sandbox-written")


def fail_and_resync(page, control, world, shot) -> None:
    """Intervals.icu answers 503 three times: the workout shows why it waits; healed, Resync syncs it."""
    breaking = control.locator("form").filter(has=control.get_by_role("button", name="Break it"))
    breaking.get_by_label("Service").select_option("intervals")
    breaking.get_by_label("Fault").select_option("503x3")
    breaking.get_by_role("button", name="Break it").click()
    expect(control.get_by_role("status")).to_contain_text("Broke intervals")
    second = send_new_workout(control, world, shot)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workouts").click()
    failing = reload_until(page, workout_row(page, second).filter(has_text="503"), JOB_SECONDS)
    expect(failing).to_contain_text("Pending")
    shot(page, "workouts-retrying")
    failing.get_by_role("link", name=second["title"], exact=True).click()
    expect(page.get_by_text(re.compile(r"Last error:.*503.*\(next try at"))).to_be_visible()
    expect(page.get_by_role("table", name="Attempts, newest first")).to_contain_text("retrying")
    shot(page, "item-retrying")

    healing = control.locator("form").filter(has=control.get_by_role("button", name="Heal"))
    healing.get_by_label("Service").select_option("all")
    healing.get_by_role("button", name="Heal").click()
    expect(control.get_by_role("status")).to_contain_text("no faults left")
    page.get_by_role("button", name="Resync", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Resync queued.")
    reload_until(page, page.locator(".badge").filter(has_text="Synced"), JOB_SECONDS)
    assert [a["name"] for a in world.intervals.activities(DEMO_INTERVALS_ATHLETE)][-1] == second["title"]
    shot(page, "item-resynced")
