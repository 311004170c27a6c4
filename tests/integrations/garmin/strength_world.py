"""The Hevy → Garmin strength route for tests: both fakes over real HTTP, the accounts, and the route
turned on for the test's user (it is optional).

Real HTTP because garminconnect refreshes through curl_cffi, which `responses` cannot reach; the Hevy
fake is served by the same server.
"""

import copy
import io
import uuid
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from fitsync import route_settings, sync
from fitsync.models import SyncItem
from fitsync.routes import ROUTES
from integrations.garmin import readback
from sandbox.garmin import GarminFake
from sandbox.hevy import HevyFake
from sandbox.server import SandboxServer
from tests.conftest import load_fixture
from tests.integrations.garmin.fit_readers import fitdecode_messages

ROUTE = ROUTES["hevy_garmin"]
HEVY_KEY, EMAIL, TIMEZONE = "hevy-strength-key", "ada@example.com", "Europe/Berlin"
PUSH_A = load_fixture("hevy/workout__supersets.json")  # 6 exercises, 25 sets
LAST_MAY = datetime(2024, 5, 14, 15, 42, 7, tzinfo=UTC)


class StrengthWorld:
    def __init__(self, make_account, settings, monkeypatch, *, hidden_reads: int = 1):
        self.make_account, self.settings, self.monkeypatch = make_account, settings, monkeypatch
        self.hevy, self.garmin = HevyFake(), GarminFake()
        self.garmin.upload_hidden_reads = hidden_reads

    @contextmanager
    def running(self):
        from garminconnect.client import sso

        settings, monkeypatch = self.settings, self.monkeypatch
        monkeypatch.setattr(readback, "READBACK_WAITS", (0.0, 0.005, 0.005, 0.005))
        for flow in ("MOBILE", "LOGIN", "WIDGET"):
            monkeypatch.setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
            monkeypatch.setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
        settings.HEVY_REQUESTS_PER_SECOND = 0
        self.hevy.add_user(HEVY_KEY)
        self.garmin.add_user(EMAIL, "correct horse", display_name="ada.l", timezone=TIMEZONE)
        self.source = self.make_account("hevy", api_key=HEVY_KEY)
        route_settings.turn(self.source.owner, ROUTE, on=True)  # an optional route
        self.account = self.make_account("garmin", session_blob=self.garmin.tokens_for(EMAIL))
        self.account.meta = {"display_name": "ada.l", "timezone": TIMEZONE, "email": EMAIL}
        self.account.save()
        with SandboxServer({"garmin": self.garmin, "hevy": self.hevy}) as server:
            url = server.url_for("garmin")
            settings.GARMIN_SSO_URL = settings.GARMIN_CONNECTAPI_URL = settings.GARMIN_CONNECT_URL = url
            settings.GARMIN_DI_TOKEN_URL = url + "/di-oauth2-service/oauth/token"
            settings.GARMIN_LOGIN_STRATEGIES = ["mobile+cffi", "mobile+requests"]
            settings.HEVY_API_URL = server.url_for("hevy")
            yield self

    # --- Hevy ---------------------------------------------------------------------------------------
    def workout(self, start: datetime = LAST_MAY, minutes: int = 80, **changes) -> dict:
        """Push A (the fixture) at `start`, a new id each time, stored at the Hevy fake."""
        workout = copy.deepcopy(PUSH_A)
        workout.update(id=str(uuid.uuid4()), start_time=start.isoformat())
        workout["end_time"] = (start + timedelta(minutes=minutes)).isoformat()
        return self.hevy.add_workout(HEVY_KEY, {**workout, **changes})

    def edit(self, item: SyncItem, **changes) -> None:
        self.hevy.update_workout(HEVY_KEY, item.source_id, **changes)

    # --- the engine ---------------------------------------------------------------------------------
    def item(self, workout: dict) -> SyncItem:
        return SyncItem.objects.create(account=self.source, route=ROUTE.name, source_id=workout["id"])

    def run(self, item: SyncItem, *, due: bool = True) -> SyncItem:
        """Run the item through the engine (made due first, unless `due` is False); read it back."""
        if due:
            SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
        sync.run_item(item.pk)
        item.refresh_from_db()
        return item

    # --- the Garmin fake ----------------------------------------------------------------------------
    def activities(self) -> list[dict]:
        """Every activity Garmin holds, listed or still processing."""
        return self.garmin.activities(EMAIL) + self.garmin.activity_processing(EMAIL)

    def activity_ids(self) -> list[str]:
        return [str(a["activityId"]) for a in self.activities()]

    def activity(self, activity_id: str) -> dict:
        return next(a for a in self.activities() if str(a["activityId"]) == str(activity_id))

    def messages(self, activity_id: str) -> dict[str, list[dict]]:
        """The activity's file as the fake stored it, decoded by fitdecode."""
        return fitdecode_messages(self.activity(activity_id)["fit"])

    def watch(self, start: datetime, minutes: int = 85, calories: int = 412) -> str:
        """A watch's recording of the same session, already synced to Garmin: its activity id."""
        return str(
            self.garmin.add_watch_activity(EMAIL, start, start + timedelta(minutes=minutes), calories=calories)[
                "activityId"
            ]
        )


def unzip(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        return files.read(files.namelist()[0])
