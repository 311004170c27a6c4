"""Both fakes behind the HTTP chokepoint, and a user with Hevy and Intervals.icu connected."""

import random
from datetime import UTC, datetime

import pytest
import responses
from django.conf import settings

from fitsync import crypto
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.mock import mount
from sandbox.workouts import generate_workouts

HEVY_KEY = "8c1e6a52-3f0d-4b7e-9a21-5d4c3b2a1f00"
INTERVALS_KEY = "3kq9x7v2m5n8b1c4z6l0w"
ATHLETE = "i12345"
WEBHOOK_SECRET = "wh-secret-5c9a1f3e7b2d4a6c8e0f1a3b5c7d9e1f"


@pytest.fixture(autouse=True)
def fast_pacing(settings):
    settings.HEVY_REQUESTS_PER_SECOND = 0  # no pacing in unit tests; the benchmark measures it
    settings.INTERVALS_REQUESTS_PER_SECOND = 0


@pytest.fixture
def hevy():
    fake = HevyFake()
    fake.add_user(HEVY_KEY, name="anna_lifts")
    return fake


@pytest.fixture
def intervals():
    fake = IntervalsFake()
    fake.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin", name="Anna")
    return fake


@pytest.fixture
def upstreams(hevy, intervals):
    """Every outbound call reaches a fake; anything else fails the test (network is off)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, hevy, settings.HEVY_API_URL)
        mount(rsps, intervals, settings.INTERVALS_API_URL)
        yield rsps


@pytest.fixture
def hevy_account(make_account):
    account = make_account("hevy", api_key=HEVY_KEY, webhook_secret=WEBHOOK_SECRET)
    account.webhook_digest = crypto.digest(WEBHOOK_SECRET)
    account.cursor = "2024-01-01T00:00:00+00:00"
    account.save()
    return account


@pytest.fixture
def intervals_account(make_account):
    account = make_account("intervals", api_key=INTERVALS_KEY)
    account.external_user_id = ATHLETE
    account.meta = {"timezone": "Europe/Berlin", "timezone_checked_at": datetime.now(UTC).isoformat()}
    account.save()
    return account


@pytest.fixture
def accounts(hevy_account, intervals_account):
    return hevy_account, intervals_account


@pytest.fixture
def history(hevy):
    """40 generated workouts in the fake Hevy, oldest first."""
    workouts = generate_workouts(40, rng=random.Random(3), end=datetime(2024, 10, 1, tzinfo=UTC))
    return hevy.add_workouts(HEVY_KEY, workouts)
