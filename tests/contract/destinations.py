"""One adapter per Destination in the route table: how to deliver an item to it and read its fake's copies.

A new destination adds one `DestinationAdapter` subclass here and lists it in DESTINATIONS;
test_destinations.py runs the whole contract against it.
"""

from contextlib import contextmanager
from datetime import UTC, datetime

import responses

from fitsync import route_settings
from fitsync.models import SyncItem
from fitsync.records import BodyMeasurement
from fitsync.routes import ROUTES
from integrations.garmin import readback
from integrations.withings.roles import measurement_snapshot
from sandbox.core import LedgerEntry
from sandbox.garmin import GarminFake
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.mock import mount
from sandbox.server import SandboxServer
from tests.conftest import load_fixture
from tests.integrations.garmin.fixtures import measurement
from tests.integrations.garmin.strength_world import EMAIL as STRENGTH_EMAIL
from tests.integrations.garmin.strength_world import StrengthWorld
from tests.items import put_in_state

from .engine import Env
from .faults import Fault


class DestinationAdapter:
    name = ""  # the id in test names
    route = ""  # the route whose destination this is
    refreshes = True  # False: an API key, nothing to refresh
    natural_ids = False  # True: a copy's id names what it holds (a day), so a copy written again keeps it

    def __init__(self, env: Env):
        self.env = env

    # Each adapter implements:
    def running(self):  # a context manager: fakes up, source and destination accounts connected
        raise NotImplementedError

    def deliver(self) -> SyncItem:  # a new item of the route, its record at the source
        raise NotImplementedError

    def edit(self, item: SyncItem) -> None:  # the record changed at the source; the item is pending again
        raise NotImplementedError

    def copies(self) -> list[str]:  # the ids of every copy the destination's fake holds
        raise NotImplementedError

    def remove_by_hand(self, copy_id: str) -> None:  # the user deleted the copy in the destination
        raise NotImplementedError

    def script(self, fault: Fault) -> None:  # the fault, once, on the write, in the service's dialect
        raise NotImplementedError

    def reject_credential(self) -> None:
        raise NotImplementedError

    def expire_access(self) -> None:  # only if `refreshes`
        raise NotImplementedError

    def refresh_calls(self) -> list[LedgerEntry]:
        return []


class IntervalsActivities(DestinationAdapter):
    """Intervals.icu: a personal API key (a 401/403 needs the user); one activity per Hevy workout.

    An update whose activity was deleted in Intervals.icu writes it again (writes.py); a delete of an
    activity already gone is done (a 404 counts as deleted).
    """

    name, route = "intervals", "hevy_intervals"
    refreshes = False
    HEVY_KEY, KEY, ATHLETE = "hevy-contract-key", "intervals-contract-key", "i12345"

    @contextmanager
    def running(self):
        settings = self.env.settings
        settings.HEVY_REQUESTS_PER_SECOND = settings.INTERVALS_REQUESTS_PER_SECOND = 0
        self.hevy, self.intervals = HevyFake(), IntervalsFake()
        self.hevy.add_user(self.HEVY_KEY)
        self.intervals.add_athlete(self.KEY, athlete_id=self.ATHLETE, timezone="Europe/Berlin")
        self.source = self.env.make_account("hevy", api_key=self.HEVY_KEY)
        self.account = self.env.make_account("intervals", api_key=self.KEY)
        self.account.external_user_id = self.ATHLETE
        self.account.save()
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            mount(rsps, self.hevy, settings.HEVY_API_URL)
            mount(rsps, self.intervals, settings.INTERVALS_API_URL)
            yield self

    def deliver(self) -> SyncItem:
        workout = self.hevy.add_workout(self.HEVY_KEY, load_fixture("hevy/workout__supersets.json"))
        return SyncItem.objects.create(account=self.source, route=self.route, source_id=workout["id"])

    def edit(self, item: SyncItem) -> None:
        self.hevy.update_workout(self.HEVY_KEY, item.source_id, title="Push A (heavy)")
        put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending")

    def copies(self) -> list[str]:
        return [activity["id"] for activity in self.intervals.activities(self.ATHLETE)]

    def remove_by_hand(self, copy_id: str) -> None:
        with self.intervals.lock:
            del self.intervals.athletes[self.ATHLETE]["activities"][copy_id]

    def script(self, fault: Fault) -> None:
        status = {"429-retry-after": 429, "429": 429, "4xx": 422, "5xx": 503}[fault.name]
        self.intervals.add_fault(path=r"/manual/bulk$", status=status, retry_after=fault.retry_after)

    def reject_credential(self) -> None:
        self.intervals.athletes[self.ATHLETE]["api_key"] = "regenerated-by-the-user"


class GarminWeighIns(DestinationAdapter):
    """Garmin Connect: DI OAuth2 tokens refreshed single-flight by garminconnect's hook (session.py),
    served over real HTTP (garminconnect refreshes through curl_cffi, which `responses` cannot reach).

    Garmin does not de-duplicate uploads, so a replay or a lost row finds the weigh-in by time and
    weight and does not upload again. An edit whose weigh-in was deleted in Garmin uploads the new
    one (the old one's 404 counts as removed); a delete of a weigh-in already gone is done.
    """

    name, route = "garmin", "withings_garmin"
    EMAIL = "ada@example.com"

    @contextmanager
    def running(self):
        from garminconnect.client import sso

        settings, monkeypatch = self.env.settings, self.env.monkeypatch
        monkeypatch.setattr(readback, "READBACK_WAITS", (0.0, 0.005, 0.005, 0.005))
        for flow in ("MOBILE", "LOGIN", "WIDGET"):
            monkeypatch.setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
            monkeypatch.setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
        self.fake = GarminFake()
        self.fake.add_user(self.EMAIL, "correct horse", display_name="ada.l", timezone="Europe/Berlin")
        self.source = self.env.make_account("withings")
        meta = {"display_name": "ada.l", "timezone": "Europe/Berlin", "email": self.EMAIL}
        self.account = self.env.make_account("garmin", session_blob=self.fake.tokens_for(self.EMAIL))
        self.account.meta = meta
        self.account.save()
        with SandboxServer({"garmin": self.fake}) as server:
            url = server.url_for("garmin")
            settings.GARMIN_SSO_URL = settings.GARMIN_CONNECTAPI_URL = settings.GARMIN_CONNECT_URL = url
            settings.GARMIN_DI_TOKEN_URL = url + "/di-oauth2-service/oauth/token"
            settings.GARMIN_LOGIN_STRATEGIES = ["mobile+cffi", "mobile+requests"]
            yield self

    def deliver(self) -> SyncItem:
        return SyncItem.objects.create(account=self.source, route=self.route, source_id="1001", snapshot=snapshot())

    def edit(self, item: SyncItem) -> None:
        put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", snapshot=snapshot(weight="79.10"))

    def copies(self) -> list[str]:
        listed = self.fake.weigh_ins(self.EMAIL) + self.fake.processing(self.EMAIL)
        return [str(entry["samplePk"]) for entry in listed]

    def remove_by_hand(self, copy_id: str) -> None:
        self.fake.finish_processing(self.EMAIL)
        with self.fake.lock:
            entries = self.fake.users[self.EMAIL]["weigh_ins"]
            entries[:] = [entry for entry in entries if str(entry["samplePk"]) != copy_id]

    def script(self, fault: Fault) -> None:
        status = {"429-retry-after": 429, "429": 429, "4xx": 400, "5xx": 503}[fault.name]
        self.fake.add_fault(path=r"^/upload-service/upload$", status=status, retry_after=fault.retry_after)

    def reject_credential(self) -> None:
        self.fake.revoke_tokens(self.EMAIL)  # a password change in Garmin Connect

    def expire_access(self) -> None:
        self.fake.expire_access_tokens(self.EMAIL)  # still fresh as far as fitsync knows

    def refresh_calls(self) -> list[LedgerEntry]:
        return self.fake.refresh_calls()


class IntervalsWellnessDays(DestinationAdapter):
    """Intervals.icu wellness days: a personal API key; a weigh-in's copy is the record of its local day,
    whose id is the day. A copy is a day whose record holds a weight.

    The route is declared by the wellness tests until it joins the route table. Its ids are natural: a
    day's record the athlete removed is written again under the same id. A delete of a day already gone
    is done (nothing of fitsync's is left to clear).
    """

    name, route = "wellness", "withings_intervals"
    refreshes, natural_ids = False, True
    KEY, ATHLETE = "intervals-wellness-contract-key", "i12345"

    @contextmanager
    def running(self):
        settings = self.env.settings
        settings.INTERVALS_REQUESTS_PER_SECOND = 0
        self.intervals = IntervalsFake()
        self.intervals.add_athlete(self.KEY, athlete_id=self.ATHLETE, timezone="Europe/Berlin")
        self.source = self.env.make_account("withings")
        route_settings.turn(self.source.owner, ROUTES[self.route], on=True)  # an optional route
        self.account = self.env.make_account("intervals", api_key=self.KEY)
        self.account.external_user_id = self.ATHLETE
        self.account.save()
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            mount(rsps, self.intervals, settings.INTERVALS_API_URL)
            yield self

    def deliver(self) -> SyncItem:
        return SyncItem.objects.create(account=self.source, route=self.route, source_id="1001", snapshot=snapshot())

    def edit(self, item: SyncItem) -> None:
        put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", snapshot=snapshot(weight="79.10"))

    def copies(self) -> list[str]:
        days = self.intervals.wellness(self.ATHLETE)
        return [day for day, record in sorted(days.items()) if record.get("weight") is not None]

    def remove_by_hand(self, copy_id: str) -> None:
        with self.intervals.lock:
            del self.intervals.athletes[self.ATHLETE]["wellness"][copy_id]

    def script(self, fault: Fault) -> None:
        status = {"429-retry-after": 429, "429": 429, "4xx": 422, "5xx": 503}[fault.name]
        self.intervals.add_fault(
            path=r"/wellness/\d{4}-\d{2}-\d{2}$", method="PUT", status=status, retry_after=fault.retry_after
        )

    def reject_credential(self) -> None:
        self.intervals.athletes[self.ATHLETE]["api_key"] = "regenerated-by-the-user"


class GarminStrengthActivities(DestinationAdapter):
    """Garmin Connect strength activities (the optional hevy_garmin route, turned on as
    tests/integrations/garmin/strength_world.py does): one activity per Hevy workout.

    A replay or a lost row adopts the activity at the workout's start second with its title; an edit whose
    activity was deleted in Garmin uploads the new one (the old one's 404 counts as removed); a delete of
    an activity already gone is done.
    """

    name, route = "garmin-strength", "hevy_garmin"
    EMAIL = STRENGTH_EMAIL

    @contextmanager
    def running(self):
        env = self.env
        with StrengthWorld(env.make_account, env.settings, env.monkeypatch).running() as world:
            self.world, self.fake, self.account = world, world.garmin, world.account
            yield self

    def deliver(self) -> SyncItem:
        return self.world.item(self.world.workout())

    def edit(self, item: SyncItem) -> None:
        self.world.edit(item, title="Push A (heavy)")
        put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending")

    def copies(self) -> list[str]:
        return self.world.activity_ids()

    def remove_by_hand(self, copy_id: str) -> None:
        self.fake.finish_activity_processing(self.EMAIL)
        with self.fake.lock:
            stored = self.fake.users[self.EMAIL]["activities"]
            stored[:] = [activity for activity in stored if str(activity["activityId"]) != copy_id]

    def script(self, fault: Fault) -> None:
        status = {"429-retry-after": 429, "429": 429, "4xx": 400, "5xx": 503}[fault.name]
        self.fake.add_fault(path=r"^/upload-service/upload$", status=status, retry_after=fault.retry_after)

    def reject_credential(self) -> None:
        self.fake.revoke_tokens(self.EMAIL)

    def expire_access(self) -> None:
        self.fake.expire_access_tokens(self.EMAIL)

    def refresh_calls(self) -> list[LedgerEntry]:
        return self.fake.refresh_calls()


def snapshot(weight: str = "80.35") -> dict:
    """A Withings item's snapshot, as `feeds.take_in` stores it."""
    record: BodyMeasurement = measurement(weight=weight, at=datetime(2026, 1, 15, 6, 30, tzinfo=UTC))
    return measurement_snapshot(record)


DESTINATIONS = [IntervalsActivities, GarminWeighIns, IntervalsWellnessDays, GarminStrengthActivities]
