"""Shared Garmin test fixtures: the sandbox Garmin over real HTTP, and a connected account.

Real HTTP because garminconnect logs in and refreshes through curl_cffi, which `responses` cannot
intercept. Import the fixtures by name into a test module (or through conftest.py).
"""

import pickle
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.module_loading import import_string

from fitsync.models import AccountStatus, ConnectedAccount, Credential, Provider
from fitsync.records import BodyMeasurement
from integrations.garmin import readback
from sandbox.garmin import GarminFake
from sandbox.server import SandboxServer

EMAIL, MFA_EMAIL, PASSWORD = "ada@example.com", "grace@example.com", "correct horse"
DISPLAY_NAME = "ada.l"
TIMEZONE = "Europe/Berlin"
MORNING = datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
# The fake's switches for unconfirmed Garmin behaviour; every test using `fake` runs under each:
# (listing reads that miss a new upload, does a refresh rotate the refresh token).
SETTINGS = [(0, True), (1, True), (0, False), (1, False)]


@pytest.fixture(params=SETTINGS, ids=lambda s: f"hidden_reads={s[0]},rotate={s[1]}")
def fake(request) -> GarminFake:
    fake = GarminFake()
    fake.upload_hidden_reads, fake.rotate_refresh_tokens = request.param
    fake.add_user(EMAIL, PASSWORD, display_name=DISPLAY_NAME, full_name="Ada L", timezone=TIMEZONE)
    fake.add_user(MFA_EMAIL, PASSWORD, mfa=True, display_name="grace")
    return fake


@pytest.fixture
def garmin_url(fake, settings, monkeypatch):
    """Serve the fake on 127.0.0.1 and aim fitsync's Garmin settings at it (mobile login only, no pauses).

    The read-back after an upload keeps its number of reads but waits only milliseconds between them
    (the fake counts reads, not time).
    """
    from garminconnect.client import sso

    monkeypatch.setattr(readback, "READBACK_WAITS", (0.0, 0.005, 0.005, 0.005))
    for flow in ("MOBILE", "LOGIN", "WIDGET"):
        monkeypatch.setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
        monkeypatch.setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
    with SandboxServer({"garmin": fake}) as server:
        url = server.url_for("garmin")
        settings.GARMIN_SSO_URL = settings.GARMIN_CONNECTAPI_URL = settings.GARMIN_CONNECT_URL = url
        settings.GARMIN_DI_TOKEN_URL = url + "/di-oauth2-service/oauth/token"
        settings.GARMIN_LOGIN_STRATEGIES = ["mobile+cffi", "mobile+requests"]
        yield url


@pytest.fixture
def garmin_account(user, fake, garmin_url) -> ConnectedAccount:
    """A connected Garmin account holding fresh tokens from the fake (no login dance)."""
    meta = {"display_name": DISPLAY_NAME, "timezone": TIMEZONE, "email": EMAIL}
    account = ConnectedAccount.objects.create(
        owner=user, provider=Provider.GARMIN, display_name=DISPLAY_NAME, meta=meta
    )
    Credential.objects.create(account=account, session_blob=fake.tokens_for(EMAIL))
    assert account.status == AccountStatus.CONNECTED
    return account


def measurement(source_id: str = "1001", at: datetime = MORNING, weight: str = "80.35", **values) -> BodyMeasurement:
    """A full Withings body-composition measurement (override any field)."""
    full = dict(
        fat_ratio_pct=Decimal("20.14"),
        fat_mass_kg=Decimal("16.18"),
        muscle_mass_kg=Decimal("61.25"),
        bone_mass_kg=Decimal("3.21"),
        hydration_kg=Decimal("44.37"),
        visceral_fat=Decimal("7"),
        bmr_kcal=Decimal("1745"),
        metabolic_age=Decimal("36"),
        bmi=Decimal("25.36"),
        height_m=Decimal("1.78"),
    )
    full.update(values)
    return BodyMeasurement(source_id=source_id, measured_at=at, timezone=TIMEZONE, weight_kg=Decimal(weight), **full)


@pytest.fixture
def jobs(monkeypatch, django_capture_on_commit_callbacks):
    """Capture what the views queue; `jobs.run()` runs it like a worker (after the commit)."""

    class Jobs(list):
        def run(self):
            ran = []
            while self:
                func, args, kwargs = self.pop(0)
                pickle.dumps(args)  # what django-q2 would store: it must hold no secret (checked below)
                ran.append(import_string(func)(*args))
            return ran

    queued = Jobs()
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kw: queued.append((func, args, kw)))
    return queued


@pytest.fixture
def post(logged_in, django_capture_on_commit_callbacks):
    def post(name: str, data: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return logged_in.post(reverse(name), data)

    return post
