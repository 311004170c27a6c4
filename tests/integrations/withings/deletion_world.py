"""Weigh-ins deleted at Withings, followed to both destinations: the sandbox Withings, Garmin Connect and
Intervals.icu over real HTTP on 127.0.0.1 (Garmin's client needs real sockets), notifications delivered into
the Django test client, and the jobs run here as a worker would. Import the fixtures by name.

The Withings fake's `deletion_shape` and `deletion_window` switches come from the test's `withings_switches`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fitsync import route_settings, sync
from fitsync.models import ConnectedAccount, Credential, ItemStatus, Provider, SyncItem
from fitsync.routes import ROUTES
from integrations.garmin import readback
from integrations.withings import auth, subscriptions, tasks
from sandbox.garmin import GarminFake
from sandbox.intervals import IntervalsFake
from sandbox.server import SandboxServer
from sandbox.withings import WithingsFake

from .conftest import USER

GARMIN_EMAIL, GARMIN_PASSWORD, ATHLETE, INTERVALS_KEY = "ada@example.com", "correct horse", "i4242", "wellness-key"
ZONE = ZoneInfo("Europe/Berlin")  # the Withings user's timezone (conftest), and the athlete's
GARMIN_ROUTE, WELLNESS_ROUTE = "withings_garmin", "withings_intervals"
GARMIN_DELETES = ("DELETE", r"^/weight-service/weight/")


@dataclass
class World:
    withings: WithingsFake
    garmin: GarminFake
    intervals: IntervalsFake
    account: ConnectedAccount  # the Withings account
    jobs_sent: object  # the Withings tasks queued (conftest's `jobs_sent`)
    item_jobs: list[int]  # the item ids sent to the engine (tests/conftest.py's `sent_jobs`)
    capture: object  # django_capture_on_commit_callbacks

    def weigh(self, when: datetime, weight: str, **body) -> int:
        """A weigh-in stored at Withings (no notification: `sync` fetches it)."""
        return self.withings.add_measurement(USER, when, weight_kg=weight, **body)

    def sync(self) -> None:
        """What a notification of new weigh-ins does, run to the end: one fetch, then every item's job."""
        with self.capture(execute=True):
            tasks.fetch_new(self.account.pk, "manual")
        self.settle()

    def settle(self, rounds: int = 10) -> None:
        """Run the queued Withings tasks and the engine's jobs until nothing is left, as a worker would."""
        for _ in range(rounds):
            if not self.jobs_sent.sent and not self.item_jobs:
                return
            with self.capture(execute=True):
                self.jobs_sent.run()
            with self.capture(execute=True):
                while self.item_jobs:
                    sync.run_item(self.item_jobs.pop(0))
        raise AssertionError("jobs kept coming")

    def scheduled_fetch(self) -> None:
        """The 6-hourly schedule: every account's fetch, which reconciles the recent days."""
        with self.capture(execute=True):
            tasks.fetch_new_for_all()
        self.settle()

    def garmin_weights(self) -> list[float]:
        return sorted(entry["weight"] / 1000 for entry in self.garmin.weigh_ins(GARMIN_EMAIL))

    def garmin_deletes(self) -> int:
        return len(self.garmin.calls(*GARMIN_DELETES))

    def wellness(self, day: str) -> dict:
        return self.intervals.wellness(ATHLETE).get(day, {})


def item(route: str, grpid: int) -> SyncItem:
    return SyncItem.objects.get(route=route, source_id=str(grpid))


def is_deleted(route: str, grpid: int) -> bool:
    found = item(route, grpid)
    return found.operation == SyncItem.Operation.DELETE and found.status == ItemStatus.SYNCED


def local_day(when: datetime) -> str:
    return when.astimezone(ZONE).date().isoformat()


def days_ago(days: int, hour: int = 7) -> datetime:
    """A morning `days` days back, Berlin time, to the second (Withings dates are whole seconds)."""
    local = timezone.now().astimezone(ZONE) - timedelta(days=days)
    return local.replace(hour=hour, minute=12, second=0, microsecond=0)


@pytest.fixture
def world(
    fake, account, user, settings, monkeypatch, jobs_sent, sent_jobs, django_capture_on_commit_callbacks
) -> World:
    """Both routes from Withings on, Garmin and Intervals.icu connected, the Withings subscription active."""
    garmin, intervals = GarminFake(), IntervalsFake()
    garmin.upload_hidden_reads = 0
    garmin.add_user(GARMIN_EMAIL, GARMIN_PASSWORD, display_name="ada.l", timezone="Europe/Berlin")
    intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin")
    monkeypatch.setattr(readback, "READBACK_WAITS", (0.0, 0.005))
    with SandboxServer({"withings": fake, "garmin": garmin, "intervals": intervals}) as server:
        settings.WITHINGS_API_URL = settings.WITHINGS_ACCOUNT_URL = server.url_for("withings")
        url = server.url_for("garmin")
        settings.GARMIN_SSO_URL = settings.GARMIN_CONNECTAPI_URL = settings.GARMIN_CONNECT_URL = url
        settings.GARMIN_DI_TOKEN_URL = url + "/di-oauth2-service/oauth/token"
        settings.INTERVALS_API_URL = server.url_for("intervals")
        settings.INTERVALS_REQUESTS_PER_SECOND = 0
        connect_destinations(user, garmin)
        route_settings.turn(user, ROUTES[WELLNESS_ROUTE], on=True)
        # Subscribed as `subscriptions.subscribe` leaves it (its HEAD probe would come from the server's thread,
        # which cannot see this test's transaction).
        fake.subscriptions.add(USER, 1, subscriptions.notification_url(auth.ensure_webhook_token(account)), "")
        yield World(fake, garmin, intervals, account, jobs_sent, sent_jobs, django_capture_on_commit_callbacks)


def connect_destinations(user, garmin: GarminFake) -> None:
    meta = {"display_name": "ada.l", "timezone": "Europe/Berlin", "email": GARMIN_EMAIL}
    account = ConnectedAccount.objects.create(owner=user, provider=Provider.GARMIN, display_name="ada.l", meta=meta)
    Credential.objects.create(account=account, session_blob=garmin.tokens_for(GARMIN_EMAIL))
    athlete = ConnectedAccount.objects.create(owner=user, provider=Provider.INTERVALS, external_user_id=ATHLETE)
    Credential.objects.create(account=athlete, api_key=INTERVALS_KEY)
