"""Withings tests run against the sandbox fake: in-process through `responses`, its HEAD probe and
notifications delivered into the Django test client, and jobs captured so a test runs them.

A module runs its tests under every setting of the fake's switches for unconfirmed behaviours by
overriding `withings_switches` with `every(...)` (see test_end_to_end.py)."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import product
from urllib.parse import urlencode, urlsplit

import pytest
import responses
from django.utils import timezone

from fitsync.models import ConnectedAccount, Credential
from integrations.withings import auth, jobs, tasks
from sandbox.mock import mount
from sandbox.withings import WithingsFake
from sandbox.withings_notify import NOTIFY_ENCODINGS, NOTIFY_FIELDS

CLIENT_ID, SECRET = "fitsync-test", "withings-secret"
USER = 31400001
T0 = datetime(2025, 1, 20, 6, 3, 20, tzinfo=UTC)


class DjangoHttp:
    """The fake's transport for its HEAD probe and notifications, into the Django test client."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def head(self, url, **kwargs):
        self.calls.append(("HEAD", url))
        return self.client.head(urlsplit(url).path)

    def post(self, url, data=None, headers=None, **kwargs):
        self.calls.append(("POST", url))
        if isinstance(data, bytes):  # a body the fake encoded itself (multipart)
            return self.client.post(urlsplit(url).path, data, content_type=headers["Content-Type"])
        form = urlencode(data or {})
        return self.client.post(urlsplit(url).path, form, content_type="application/x-www-form-urlencoded")


NOTIFIER_SETTINGS = [dict(notify_encoding=e, notify_fields=f) for e, f in product(NOTIFY_ENCODINGS, NOTIFY_FIELDS)]
GETMEAS_SETTINGS = [dict(numbers_as_strings=False), dict(numbers_as_strings=True)]
REPEAT_SETTINGS = [dict(same_arguments_seconds=0), dict(same_arguments_seconds=10)]


def every(*settings: list[dict]) -> list[dict]:
    """Every combination of the given switch settings, e.g. every(NOTIFIER_SETTINGS, GETMEAS_SETTINGS)."""
    return [{k: v for part in combo for k, v in part.items()} for combo in product(*settings)]


def switch_id(switches: dict) -> str:
    return "-".join(f"{value}" for value in switches.values()) or "defaults"


@dataclass
class Jobs:
    """django-q tasks queued by Withings code (sent after commit), runnable on demand."""

    sent: list[tuple[str, tuple]] = field(default_factory=list)

    def run(self) -> list[str]:
        results = []
        while self.sent:
            task, args = self.sent.pop(0)
            results.append(getattr(tasks, task.rsplit(".", 1)[-1])(*args))
        return results

    def names(self) -> list[str]:
        return [task for task, _ in self.sent]


@pytest.fixture(autouse=True)
def withings_settings(settings):
    settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = CLIENT_ID, SECRET
    settings.SITE_URL = "http://testserver"
    settings.WITHINGS_REQUESTS_PER_MINUTE = 0  # no pacing in unit tests; test_client.py tests it
    return settings


@pytest.fixture
def withings_switches() -> dict:
    """The fake's switches for unconfirmed behaviours; the defaults are the most likely ones."""
    return {}


@pytest.fixture
def fake(client, withings_switches):
    fake = WithingsFake(page_size=100, **withings_switches)
    fake.now = time.time  # time-machine moves it together with Django's clock
    fake.http = DjangoHttp(client)
    fake.add_app(CLIENT_ID, SECRET, [auth_callback()])
    fake.add_user(userid=USER, email="ada@example.com", timezone="Europe/Berlin")
    return fake


def auth_callback() -> str:
    return "http://testserver/withings/callback/"


@pytest.fixture
def rsps(fake, settings):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, settings.WITHINGS_API_URL)
        mount(rsps, fake, settings.WITHINGS_ACCOUNT_URL)
        yield rsps


@pytest.fixture
def jobs_sent(monkeypatch):
    captured = Jobs()
    monkeypatch.setattr(jobs, "_send", lambda task, *args: captured.sent.append((task, args)))
    return captured


@pytest.fixture
def account(fake, user) -> ConnectedAccount:
    """A connected Withings account holding live sandbox tokens."""
    return connect_account(fake, user)


def connect_account(fake, user, userid: int = USER, expires_in: int | None = None) -> ConnectedAccount:
    tokens = fake.issue_tokens(CLIENT_ID, userid)
    token_set = auth.client.TokenSet(
        str(userid),
        tokens["access_token"],
        tokens["refresh_token"],
        expires_in or tokens["expires_in"],
        tokens["scope"],
    )
    return auth.save_tokens(user, token_set).account


def expire_locally(account: ConnectedAccount, ago: timedelta = timedelta(minutes=1)) -> None:
    Credential.objects.filter(account=account).update(expires_at=timezone.now() - ago)
