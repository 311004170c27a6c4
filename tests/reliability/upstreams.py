"""Fixtures for the fault, race and secrets proofs: the four sandbox upstreams over real HTTP on
127.0.0.1, with connected accounts for both routes. Import them by name into a test module.

Real sockets, not `responses`: a reset is a TCP RST, a blackhole a server that never answers, so the
read timeouts are the real ones (R7). Jobs handed to django-q are captured instead of sent.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from fitsync.models import ConnectedAccount, Credential, Provider
from integrations.withings import auth as withings_auth
from sandbox.garmin import GarminFake
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.server import SandboxServer
from sandbox.withings import WithingsFake

HEVY_KEY, INTERVALS_KEY, ATHLETE = "hevy-key-rel-0001", "intervals-key-rel-0001", "i777"
CLIENT_ID, CLIENT_SECRET, WITHINGS_USER = "fitsync-rel", "withings-rel-secret", 31400077
GARMIN_EMAIL, GARMIN_PASSWORD = "ada@example.com", "correct horse"
READ_TIMEOUT = 1.0


@dataclass
class Upstreams:
    hevy: HevyFake
    intervals: IntervalsFake
    withings: WithingsFake
    garmin: GarminFake

    def fake(self, name: str):
        return getattr(self, name)


@pytest.fixture
def upstreams(settings, monkeypatch):
    fakes = Upstreams(HevyFake(), IntervalsFake(), WithingsFake(page_size=100), GarminFake())
    fakes.hevy.add_user(HEVY_KEY)
    fakes.intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin")
    fakes.withings.add_app(CLIENT_ID, CLIENT_SECRET, ["http://testserver/withings/callback/"])
    fakes.withings.add_user(userid=WITHINGS_USER, email="ada@example.com", timezone="Europe/Berlin")
    fakes.garmin.add_user(GARMIN_EMAIL, GARMIN_PASSWORD, display_name="ada.l", timezone="Europe/Berlin")
    with SandboxServer(vars(fakes)) as server:
        settings.HEVY_API_URL, settings.INTERVALS_API_URL = server.url_for("hevy"), server.url_for("intervals")
        settings.WITHINGS_API_URL = settings.WITHINGS_ACCOUNT_URL = server.url_for("withings")
        garmin = server.url_for("garmin")
        settings.GARMIN_SSO_URL = settings.GARMIN_CONNECTAPI_URL = settings.GARMIN_CONNECT_URL = garmin
        settings.GARMIN_DI_TOKEN_URL = garmin + "/di-oauth2-service/oauth/token"
        settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
        settings.HEVY_REQUESTS_PER_SECOND = settings.INTERVALS_REQUESTS_PER_SECOND = 0
        settings.WITHINGS_REQUESTS_PER_MINUTE = 0
        settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT = 1.0, READ_TIMEOUT
        yield fakes


@pytest.fixture
def accounts(user, upstreams) -> dict[str, ConnectedAccount]:
    """All four services connected for `user`, holding live sandbox credentials."""
    hevy = ConnectedAccount.objects.create(owner=user, provider=Provider.HEVY)
    Credential.objects.create(account=hevy, api_key=HEVY_KEY)
    intervals = ConnectedAccount.objects.create(
        owner=user, provider=Provider.INTERVALS, external_user_id=ATHLETE, meta={"timezone": "Europe/Berlin"}
    )
    Credential.objects.create(account=intervals, api_key=INTERVALS_KEY)
    tokens = upstreams.withings.issue_tokens(CLIENT_ID, WITHINGS_USER)
    token_set = withings_auth.client.TokenSet(
        str(WITHINGS_USER), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
    )
    withings = withings_auth.save_tokens(user, token_set).account
    meta = {"display_name": "ada.l", "timezone": "Europe/Berlin", "email": GARMIN_EMAIL}
    garmin = ConnectedAccount.objects.create(owner=user, provider=Provider.GARMIN, display_name="ada.l", meta=meta)
    Credential.objects.create(account=garmin, session_blob=upstreams.garmin.tokens_for(GARMIN_EMAIL))
    return {"hevy": hevy, "intervals": intervals, "withings": withings, "garmin": garmin}


@pytest.fixture
def withings_jobs(monkeypatch) -> list:
    """Withings tasks queued after commit, captured (the retry schedule stays real: it is a row)."""
    sent: list = []
    monkeypatch.setattr("integrations.withings.jobs._send", lambda task, *args: sent.append((task, args)))
    return sent


def now() -> datetime:
    return datetime.now(UTC)
