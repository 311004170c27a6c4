"""The real thing for the reliability proofs: the sandbox upstreams over HTTP, connected accounts, and
`manage.py qcluster` workers on a queue of this test's own (other runs may share the Redis server)."""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from fitsync import crypto
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.server import SandboxServer
from sandbox.workouts import generate_workouts

HEVY_KEY = "5b0c2d7e-8a41-4f36-9e12-7c3d5a6b8f01"
INTERVALS_KEY = "rel7x2m5n8b1c4z6l0w"
ATHLETE = "i24680"
WEBHOOK_SECRET = "wh-reliability-7d1e3f5a9b2c4d6e8f0a1b3c5d7e9f1a"
WEBHOOK_PATH = "/webhooks/hevy/"


@dataclass
class HevySandbox:
    server: SandboxServer
    hevy: HevyFake
    intervals: IntervalsFake

    @property
    def urls(self) -> dict:
        return {"HEVY_API_URL": self.server.url_for("hevy"), "INTERVALS_API_URL": self.server.url_for("intervals")}

    def add_workouts(self, count: int) -> list[dict]:
        """`count` realistic workouts with fresh ids, stored in the fake Hevy."""
        rng = random.Random(uuid.uuid4().int)
        return self.hevy.add_workouts(HEVY_KEY, generate_workouts(count, rng=rng, end=datetime.now(UTC)))

    def writes_per_workout(self, workout_ids) -> dict[str, int]:
        """How often each workout was written (every bulk create and every update by id counts)."""
        counts = dict.fromkeys(workout_ids, 0)
        calls = self.intervals.calls("POST", r"/activities/manual/bulk$") + self.intervals.calls("PUT", r"/activity/")
        for call in calls:
            body = call.json()
            for activity in body if isinstance(body, list) else [body]:
                if activity.get("external_id") in counts:
                    counts[activity["external_id"]] += 1
        return counts


@pytest.fixture
def queue_name(monkeypatch):
    """A queue (Redis list, stats key, signing salt) for this test only; workers get it as Q_CLUSTER_NAME."""
    name = f"fitsync-test-{uuid.uuid4().hex[:12]}"
    for attribute, value in (("PREFIX", name), ("CLUSTER_NAME", name), ("Q_STAT", f"django_q:{name}:cluster")):
        monkeypatch.setattr(Conf, attribute, value)
    yield name
    get_broker(name).delete_queue()


@pytest.fixture
def worker_env(queue_name) -> dict:
    """What every worker subprocess of these tests needs besides the test database."""
    return {
        "DEBUG": 0,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "Q_CLUSTER_NAME": queue_name,
        "HEVY_REQUESTS_PER_SECOND": 0,
        "INTERVALS_REQUESTS_PER_SECOND": 0,
        "GARMIN_REQUESTS_PER_SECOND": 0,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def intervals_bulk_upsert() -> bool:
    """Whether the sandbox's bulk upload upserts on external_id; a test module may parametrize it."""
    return True


@pytest.fixture
def hevy_sandbox(settings, intervals_bulk_upsert):
    hevy, intervals = HevyFake(), IntervalsFake(bulk_upsert=intervals_bulk_upsert)
    hevy.add_user(HEVY_KEY, name="reliability")
    intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin", name="Rel")
    with SandboxServer({"hevy": hevy, "intervals": intervals}) as server:
        sandbox = HevySandbox(server, hevy, intervals)
        for key, value in sandbox.urls.items():
            setattr(settings, key, value)
        settings.HEVY_REQUESTS_PER_SECOND = settings.INTERVALS_REQUESTS_PER_SECOND = 0
        yield sandbox


@pytest.fixture
def hevy_accounts(make_account):
    """Hevy (with its webhook secret) and Intervals.icu connected for the test user."""
    hevy = make_account("hevy", api_key=HEVY_KEY, webhook_secret=WEBHOOK_SECRET)
    hevy.webhook_digest = crypto.digest(WEBHOOK_SECRET)
    hevy.save()
    intervals = make_account("intervals", api_key=INTERVALS_KEY)
    intervals.external_user_id = ATHLETE
    intervals.meta = {"timezone": "Europe/Berlin", "timezone_checked_at": timezone.now().isoformat()}
    intervals.save()
    return hevy, intervals


# --- Withings -> Garmin -----------------------------------------------------------------------------
WITHINGS_CLIENT, WITHINGS_SECRET, WITHINGS_USER = "fitsync-reliability", "withings-rel-secret", 31_400_077


@dataclass
class ScaleSandbox:
    server: SandboxServer
    withings: object
    garmin: object
    urls: dict

    def weigh_ins(self) -> list[dict]:
        from tests.integrations.garmin.fixtures import EMAIL

        return self.garmin.weigh_ins(EMAIL)

    def activities(self) -> list[dict]:
        """Every activity Garmin holds, listed or still processing."""
        from tests.integrations.garmin.fixtures import EMAIL

        return self.garmin.activities(EMAIL) + self.garmin.activity_processing(EMAIL)

    def activities_at(self, start: str) -> list[dict]:
        """The activities starting at the second of `start` (ISO): the copies of the workout starting then."""
        second = int(datetime.fromisoformat(start).timestamp())
        return [a for a in self.activities() if int(a["start"].timestamp()) == second]


@pytest.fixture
def scale_sandbox(settings):
    """The sandbox Withings and Garmin over HTTP, and every setting pointing at them."""
    from sandbox.garmin import GarminFake
    from sandbox.garmin_sso import DI_TOKEN_PATH
    from sandbox.withings import WithingsFake
    from tests.integrations.garmin.fixtures import DISPLAY_NAME, EMAIL, PASSWORD, TIMEZONE

    withings, garmin = WithingsFake(strict_callback_urls=False), GarminFake()
    withings.add_app(WITHINGS_CLIENT, WITHINGS_SECRET, ["http://127.0.0.1/withings/callback/"])
    withings.add_user(userid=WITHINGS_USER, timezone=TIMEZONE, height_m=1.80)
    garmin.add_user(EMAIL, PASSWORD, display_name=DISPLAY_NAME, timezone=TIMEZONE)
    with SandboxServer({"withings": withings, "garmin": garmin}) as server:
        base = server.url_for("garmin")
        urls = dict(
            WITHINGS_API_URL=server.url_for("withings"),
            WITHINGS_ACCOUNT_URL=server.url_for("withings"),
            WITHINGS_CLIENT_ID=WITHINGS_CLIENT,
            WITHINGS_CLIENT_SECRET=WITHINGS_SECRET,
            GARMIN_SSO_URL=base,
            GARMIN_CONNECTAPI_URL=base,
            GARMIN_CONNECT_URL=base,
            GARMIN_DI_TOKEN_URL=base + DI_TOKEN_PATH,
        )
        for key, value in urls.items():
            setattr(settings, key, value)
        yield ScaleSandbox(server, withings, garmin, urls)


@pytest.fixture
def scale_accounts(scale_sandbox, user, make_account):
    """Withings (tokens issued by the fake) and Garmin (a stored session) connected for the test user."""
    from fitsync import account_meta
    from integrations.garmin.account_meta import GarminMeta
    from integrations.withings import auth as withings_auth
    from integrations.withings.client import TokenSet
    from tests.integrations.garmin.fixtures import DISPLAY_NAME, EMAIL, TIMEZONE

    tokens = scale_sandbox.withings.issue_tokens(WITHINGS_CLIENT, WITHINGS_USER)
    token_set = TokenSet(
        str(WITHINGS_USER), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
    )
    withings = withings_auth.save_tokens(user, token_set).account
    garmin = make_account("garmin", session_blob=scale_sandbox.garmin.tokens_for(EMAIL))
    account_meta.write(garmin, GarminMeta, display_name=DISPLAY_NAME, timezone=TIMEZONE)
    return withings, garmin


# --- every service: the optional routes -------------------------------------------------------------
@pytest.fixture
def every_service(worker_env, hevy_sandbox, hevy_accounts, scale_sandbox, scale_accounts) -> dict:
    """Hevy, Intervals.icu, Withings and Garmin connected over both sandboxes: a worker's environment."""
    return {**worker_env, **hevy_sandbox.urls, **scale_sandbox.urls}


def turn_on(owner, *route_names: str, **options) -> None:
    """Turn the optional routes on for `owner`, with `options` for each (the route's options form)."""
    from fitsync import route_settings
    from fitsync.routes import ROUTES

    for name in route_names:
        route_settings.turn(owner, ROUTES[name], on=True)
        if options:
            route_settings.save_options(owner, ROUTES[name], options)
