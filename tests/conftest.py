"""Fixtures shared by every test package."""

import json
import uuid
from pathlib import Path

import pytest
import responses

from sandbox.hevy import HevyFake
from sandbox.mock import mount

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str):
    """A realistic upstream payload from tests/fixtures/<service>/<endpoint>.json (or raw text)."""
    path = FIXTURES / name
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else text


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Tests render templates without a collectstatic manifest, hash passwords cheaply, share no cache."""
    from fitsync.throttle import pacer

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Garmin calls go unpaced against the fakes (a few hundred tests call them); the pacer's own tests turn it on.
    settings.GARMIN_REQUESTS_PER_SECOND = 0
    # A fresh cache namespace per test: Redis keeps keys across tests (rate budgets would carry over),
    # where the database cache is rolled back with everything else. Fresh pacers too: one remembers
    # its last slot, which a test on another (virtual or travelled) clock would wait for.
    pacer.cache_clear()
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {alias: {**config, "KEY_PREFIX": namespace} for alias, config in settings.CACHES.items()}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def sandbox_app(settings):
    """The sandbox app installed, as FITSYNC_SANDBOX=1 installs it: its management commands are found."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "sandbox"]


@pytest.fixture
def mounted_hevy(settings):
    """The Hevy fake behind the HTTP chokepoint, unpaced: fitsync's Hevy calls reach it, any other call fails."""
    settings.HEVY_REQUESTS_PER_SECOND = 0
    fake = HevyFake()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, settings.HEVY_API_URL)
        yield fake


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="correct horse battery staple")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def make_account(user):
    """Create a connected account (and its credential) for `user`."""
    from fitsync.models import ConnectedAccount, Credential

    def make(provider: str, owner=None, **credential_fields):
        account = ConnectedAccount.objects.create(owner=owner or user, provider=provider, display_name=provider)
        Credential.objects.create(account=account, **credential_fields)
        return account

    return make


@pytest.fixture
def sent_jobs(monkeypatch):
    """Capture the item ids handed to django-q instead of queueing them."""
    sent: list[int] = []
    monkeypatch.setattr("fitsync.sync._send", lambda ids: sent.extend(ids))
    return sent


@pytest.fixture
def alert_receiver():
    """A local endpoint Apprise posts alerts to (never a real service); `.apprise_url` points at it."""
    from sandbox.alert_receiver import AlertReceiver
    from sandbox.server import SandboxServer

    receiver = AlertReceiver()
    with SandboxServer({"alerts": receiver}) as server:
        receiver.apprise_url = server.url_for("alerts").replace("http://", "json://") + "/"
        yield receiver


@pytest.fixture(autouse=True)
def _fresh_web_alert_check(monkeypatch):
    """The web process checks the worker once a minute per process: every test starts with it due."""
    monkeypatch.setattr("fitsync.alerts._last_web_check", None)


class HistoryJobs:
    """History import runs queued by `fitsync.history_runs` (after commit), runnable on demand."""

    def __init__(self):
        self.runs: list[int] = []

    def run(self) -> list[str]:
        from fitsync.history_runs import import_run

        results = []
        while self.runs:
            results.append(import_run(self.runs.pop(0)))
        return results


@pytest.fixture
def history_jobs(monkeypatch) -> HistoryJobs:
    captured = HistoryJobs()
    monkeypatch.setattr("fitsync.history_runs._send", lambda run: captured.runs.append(run.pk))
    return captured
