"""The four fakes together: one `Sandbox` for the demo, the `/sandbox/` mount and end-to-end tests.

`build_sandbox(seed=True)` gives the demo world (`seed_demo_world`): the credentials a person types
into fitsync's connect pages are the `DEMO_*` constants below, also listed on the control page.
`control.mount_table(sandbox)` is what `SandboxServer` serves: one path prefix per fake, the control page
at the root (last, because the root prefix matches every path).
"""

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .core import FakeService
from .garmin import GarminFake
from .hevy import HevyFake, parse_time
from .intervals import IntervalsFake
from .withings import WithingsFake
from .workouts import generate_workouts

DEMO_SEED = 2024
DEMO_TIMEZONE = "Europe/Berlin"
DEMO_HEVY_API_KEY = "demo-hevy-key"
DEMO_HEVY_WORKOUTS = 200  # about 3.5 sessions a week: a year of training
DEMO_INTERVALS_ATHLETE = "i12345"
DEMO_INTERVALS_API_KEY = "demo-intervals-key"
# An athlete with the older all-numeric id form, to connect with the other key.
DEMO_INTERVALS_NUMERIC_ATHLETE = "2049151"
DEMO_INTERVALS_NUMERIC_API_KEY = "demo-intervals-numeric-key"
DEMO_WITHINGS_CLIENT_ID = "demo-withings-client"
DEMO_WITHINGS_CLIENT_SECRET = "demo-withings-secret"
DEMO_WITHINGS_USERID = 31_400_001
DEMO_WITHINGS_DAYS = 365
DEMO_EMAIL = "demo@fitsync.local"
DEMO_GARMIN_PASSWORD = "demo-garmin-password"
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
# Paths fitsync serves (issues 4 and 5); `withings_redirect_uris` can name others.
WITHINGS_CALLBACK_PATH = "/withings/callback/"
HEVY_WEBHOOK_PATH = "/webhooks/hevy/"
SERVICES = ("hevy", "intervals", "withings", "garmin")


@dataclass
class HevyWebhookTarget:
    """Where the control page sends Hevy webhooks: what a user pastes into Hevy's settings."""

    url: str
    authorization: str = ""


@dataclass
class Sandbox:
    hevy: HevyFake
    intervals: IntervalsFake
    withings: WithingsFake
    garmin: GarminFake
    hevy_webhook: HevyWebhookTarget
    withings_redirect_uris: list[str] = field(default_factory=list)
    control_root: str = "/"  # the path the control page is served at ("/sandbox/" in Django)
    # Where the Hevy fake reads the Authorization value when `hevy_webhook` holds none (the demo: fitsync's).
    hevy_secret_lookup: Callable[[], str] | None = None

    def fake(self, name: str) -> FakeService:
        if name not in SERVICES:
            raise KeyError(f"no sandbox service {name!r}; choose one of {', '.join(SERVICES)}")
        return getattr(self, name)

    def fakes(self) -> dict[str, FakeService]:
        return {name: self.fake(name) for name in SERVICES}


def default_redirect_uris(site_url: str, callback_path: str = WITHINGS_CALLBACK_PATH) -> list[str]:
    """The callback at `site_url`, plus its localhost/127.0.0.1 twin so either address works."""
    site = site_url.rstrip("/")
    uris = [site + callback_path]
    for one, other in (("//127.0.0.1", "//localhost"), ("//localhost", "//127.0.0.1")):
        if one in site:
            uris.append(site.replace(one, other, 1) + callback_path)
    return uris


def build_sandbox(
    seed: bool,
    *,
    site_url: str = DEFAULT_SITE_URL,
    withings_redirect_uris: list[str] | None = None,
    control_root: str = "/",
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> Sandbox:
    """The four fakes, empty or (seed=True) holding the demo world of `seed_demo_world`."""
    sandbox = Sandbox(
        hevy=HevyFake(),
        intervals=IntervalsFake(),
        # Not strict: the demo's callback is plain http on 127.0.0.1, which real Withings refuses.
        withings=WithingsFake(strict_callback_urls=False),
        garmin=GarminFake(),
        hevy_webhook=HevyWebhookTarget(site_url.rstrip("/") + HEVY_WEBHOOK_PATH),
        withings_redirect_uris=withings_redirect_uris or default_redirect_uris(site_url),
        control_root=control_root,
    )
    if seed:
        seed_demo_world(sandbox, rng or random.Random(DEMO_SEED), now=now)
    return sandbox


def seed_demo_world(sandbox: Sandbox, rng: random.Random, now: datetime | None = None) -> None:
    """Demo users in every fake; the same rng seed and `now` give the same world."""
    now = now or datetime.now(UTC)
    seed_hevy(sandbox.hevy, rng, now)
    sandbox.intervals.add_athlete(DEMO_INTERVALS_API_KEY, DEMO_INTERVALS_ATHLETE, timezone=DEMO_TIMEZONE)
    sandbox.intervals.add_athlete(
        DEMO_INTERVALS_NUMERIC_API_KEY,
        DEMO_INTERVALS_NUMERIC_ATHLETE,
        timezone=DEMO_TIMEZONE,
        name="Demo Athlete (numeric id)",
    )
    seed_withings(sandbox.withings, sandbox.withings_redirect_uris, rng, now)
    sandbox.garmin.add_user(
        DEMO_EMAIL,
        DEMO_GARMIN_PASSWORD,
        mfa=True,
        display_name="demo-athlete",
        full_name="Demo Athlete",
        timezone=DEMO_TIMEZONE,
    )


def seed_hevy(hevy: HevyFake, rng: random.Random, now: datetime) -> None:
    user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    hevy.add_user(DEMO_HEVY_API_KEY, name="demo_lifter", user_id=user_id)
    workouts = generate_workouts(DEMO_HEVY_WORKOUTS, rng=rng, end=now, tz=DEMO_TIMEZONE)
    hevy.add_workouts(DEMO_HEVY_API_KEY, workouts)


def seed_withings(withings: WithingsFake, redirect_uris: list[str], rng: random.Random, now: datetime) -> None:
    withings.add_app(DEMO_WITHINGS_CLIENT_ID, DEMO_WITHINGS_CLIENT_SECRET, redirect_uris)
    withings.add_user(DEMO_WITHINGS_USERID, DEMO_EMAIL, timezone=DEMO_TIMEZONE)
    withings.seed_daily_history(DEMO_WITHINGS_USERID, days=DEMO_WITHINGS_DAYS, rng=rng, end=now)


def newest_workout_id(sandbox: Sandbox) -> str | None:
    """The demo Hevy user's most recent workout by start time."""
    with sandbox.hevy.lock:
        workouts = list(sandbox.hevy.users.get(DEMO_HEVY_API_KEY, {}).get("workouts", {}).values())
    if not workouts:
        return None
    return max(workouts, key=lambda w: parse_time(w["start_time"]))["id"]
