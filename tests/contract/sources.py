"""One adapter per Source in the route table: how to arrange its fake, run its reads, and what it documents.

A new source adds one `SourceAdapter` subclass here and lists it in SOURCES; test_sources.py runs the
whole contract against it (and fails until every source of `fitsync.routes.ROUTES` has an adapter).
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import responses
from django.utils import timezone

from fitsync.errors import NotFound, PermanentError
from fitsync.models import SyncItem, SyncRun
from fitsync.roles import SyncContext
from fitsync.routes import route_for
from integrations.withings import auth as withings_auth
from integrations.withings import client as withings_client
from integrations.withings import tasks
from sandbox.core import LedgerEntry
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.mock import mount
from sandbox.withings import WithingsFake
from tests.conftest import load_fixture

from .engine import Env, ErrorSpy, Outcome, run_item, run_outcome
from .faults import Fault


class SourceAdapter:
    name = ""  # the id in test names
    route = ""  # the route whose source this is
    refreshes = True  # False: an API key, nothing to refresh
    rate_window: float | None = None  # the retry_after of a 429 that names none (None: the engine's backoff)
    missing_error: type = NotFound  # what fetch() raises for a record the source does not have
    missing_state = "done"  # what the engine then does with the item
    missing_note = ""  # and the reason it records
    missing_reads: list[int] = []  # the HTTP statuses the source's upstream answered that fetch
    attempts_when_waiting = 0  # attempts recorded when the user must reconnect first

    def __init__(self, env: Env):
        self.env = env
        self.item_spy = ErrorSpy(env.monkeypatch, "fitsync.sync.record_failure", 3)

    @property
    def role(self):
        return route_for(self.route).source_role

    def fetch(self, item: SyncItem):
        return self.role.fetch(SyncContext(item, item.account, None))

    # Each adapter implements:
    def running(self):  # a context manager: fakes mounted, accounts connected
        raise NotImplementedError

    def seed(self) -> str:  # one record in the fake; its key
        raise NotImplementedError

    def pull(self, key: str) -> Outcome:  # the source's upstream read of that record, through its engine
        raise NotImplementedError

    def item(self, key: str) -> SyncItem:  # the item of the route carrying that record
        raise NotImplementedError

    def expected(self, key: str) -> tuple[str, datetime]:  # the record's title and time
        raise NotImplementedError

    def missing(self) -> SyncItem:  # an item whose record the source does not have
        raise NotImplementedError

    def script(self, fault: Fault) -> None:  # the fault, once, on the source's read, in its dialect
        raise NotImplementedError

    def reject_credential(self) -> None:  # the user revoked fitsync's access upstream
        raise NotImplementedError

    def expire_access(self) -> None:  # the access token expired upstream (only if `refreshes`)
        raise NotImplementedError

    def refresh_calls(self) -> list[LedgerEntry]:
        return []

    def reads(self) -> list[LedgerEntry]:  # the calls the source made to its upstream for records
        raise NotImplementedError


class HevyWorkouts(SourceAdapter):
    """Hevy: a personal API key; the engine fetches each workout with GET /v1/workouts/{id}.

    A workout Hevy no longer has is skipped with the reason (NotFound). Hevy sends no Retry-After that
    fitsync has seen on a plain 429, so the engine's backoff decides then.
    """

    name, route = "hevy", "hevy_intervals"
    refreshes = False
    missing_note = "Hevy has no workout with this id"
    missing_reads = [404]
    KEY, INTERVALS_KEY, ATHLETE = "hevy-contract-key", "intervals-contract-key", "i12345"

    @contextmanager
    def running(self):
        settings = self.env.settings
        settings.HEVY_REQUESTS_PER_SECOND = settings.INTERVALS_REQUESTS_PER_SECOND = 0
        self.hevy, self.intervals = HevyFake(), IntervalsFake()
        self.hevy.add_user(self.KEY)
        self.intervals.add_athlete(self.INTERVALS_KEY, athlete_id=self.ATHLETE, timezone="Europe/Berlin")
        self.account = self.env.make_account("hevy", api_key=self.KEY)
        destination = self.env.make_account("intervals", api_key=self.INTERVALS_KEY)
        destination.external_user_id = self.ATHLETE
        destination.save()
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            mount(rsps, self.hevy, settings.HEVY_API_URL)
            mount(rsps, self.intervals, settings.INTERVALS_API_URL)
            yield self

    def seed(self) -> str:
        workout = self.hevy.add_workout(self.KEY, load_fixture("hevy/workout__supersets.json"))
        SyncItem.objects.upsert(self.account.pk, self.route, workout["id"])  # as the webhook does
        return workout["id"]

    def pull(self, key: str) -> Outcome:
        return run_item(self.item(key), self.item_spy)

    def item(self, key: str) -> SyncItem:
        return SyncItem.objects.get(account=self.account, route=self.route, source_id=key)

    def expected(self, key: str) -> tuple[str, datetime]:
        return "Push A", datetime(2024, 5, 14, 15, 42, 7, tzinfo=UTC)

    def missing(self) -> SyncItem:
        return SyncItem.objects.create(account=self.account, route=self.route, source_id="gone-from-hevy")

    def script(self, fault: Fault) -> None:
        status = {"429-retry-after": 429, "429": 429, "4xx": 400, "5xx": 503}[fault.name]
        self.hevy.add_fault(path=r"^/v1/workouts/", status=status, retry_after=fault.retry_after)

    def reject_credential(self) -> None:
        self.hevy.users.pop(self.KEY)  # the user generated a new key in Hevy

    def reads(self) -> list[LedgerEntry]:
        return self.hevy.calls("GET", r"^/v1/workouts/")


class WithingsMeasurements(SourceAdapter):
    """Withings: OAuth2 with rotating tokens; its Source reads the item's snapshot, by design.

    A notification only says "something changed", so the upstream calls happen when new data is
    fetched (`integrations/withings/fetch.py`, run as a job by `tasks.fetch_new` into a SyncRun), and
    every measure group becomes an item carrying its measurement. So here `pull` is that fetch job,
    and the fault cases are proven on it. An item without a measurement cannot be synced: fetch()
    raises PermanentError and the engine fails it (there is no upstream to look the record up in).
    Withings speaks in body statuses: a 601 is its rate limit (retry after its 60-second window),
    503 in the body its "invalid params"; an HTTP 429 with Retry-After and an HTTP 503 are scripted as such.
    """

    name, route = "withings", "withings_garmin"
    rate_window = withings_client.RATE_WINDOW_SECONDS
    missing_error, missing_state = PermanentError, "failed"
    missing_note = "holds no Withings measurement"
    attempts_when_waiting = 1  # the fetch run counts its one attempt and finishes; no item was touched
    CLIENT_ID, SECRET = "fitsync-contract", "withings-contract-secret"

    def __init__(self, env: Env):
        super().__init__(env)
        self.run_spy = ErrorSpy(env.monkeypatch, "integrations.withings.jobs._failed", 2)

    @contextmanager
    def running(self):
        settings = self.env.settings
        settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = self.CLIENT_ID, self.SECRET
        settings.WITHINGS_REQUESTS_PER_MINUTE = 0
        self.env.monkeypatch.setattr("fitsync.sync._send", lambda ids: None)
        self.fake = WithingsFake()
        self.fake.add_app(self.CLIENT_ID, self.SECRET, ["http://testserver/withings/callback/"])
        self.userid = self.fake.add_user(timezone="Europe/Berlin", height_m=Decimal("1.78"))
        tokens = self.fake.issue_tokens(self.CLIENT_ID, self.userid)
        token_set = withings_client.TokenSet(
            str(self.userid), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
        )
        self.account = withings_auth.save_tokens(self.env.user, token_set).account
        self.env.make_account("garmin")  # the route's destination, connected (never called here)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            mount(rsps, self.fake, settings.WITHINGS_API_URL)
            mount(rsps, self.fake, settings.WITHINGS_ACCOUNT_URL)
            yield self

    def seed(self) -> str:
        when = self.measured_at()
        return str(self.fake.add_measurement(self.userid, when, Decimal("80.35"), fat_ratio=Decimal("20.1")))

    def measured_at(self) -> datetime:
        return (timezone.now() - timedelta(hours=2)).replace(microsecond=0)

    def pull(self, key: str) -> Outcome:
        self.run_spy.errors.clear()
        tasks.fetch_new(self.account.pk)
        return run_outcome(SyncRun.objects.filter(account=self.account).latest("pk"), self.run_spy)

    def item(self, key: str) -> SyncItem:
        return SyncItem.objects.get(account=self.account, route=self.route, source_id=key)

    def expected(self, key: str) -> tuple[str, datetime]:
        group = self.fake.groups[int(key)]
        return "80.35 kg", datetime.fromtimestamp(group.date, UTC)

    def missing(self) -> SyncItem:
        return SyncItem.objects.create(account=self.account, route=self.route, source_id="5120999999")

    def script(self, fault: Fault) -> None:
        shape = {
            "429-retry-after": {"status": 429, "retry_after": fault.retry_after},
            "429": {"body_status": 601},
            "4xx": {"body_status": 503},
            "5xx": {"status": 503},
        }[fault.name]
        self.fake.add_fault(path=r"^/measure$", **shape)

    def reject_credential(self) -> None:
        self.fake.expire_all_access_tokens(self.userid)
        self.fake.revoke_refresh_tokens(self.userid)  # the user removed fitsync in the Withings app

    def expire_access(self) -> None:
        self.fake.expire_all_access_tokens(self.userid)  # still fresh as far as fitsync knows

    def refresh_calls(self) -> list[LedgerEntry]:
        return self.fake.refresh_calls()

    def reads(self) -> list[LedgerEntry]:
        return self.fake.calls(path=r"^/measure$")


SOURCES = [HevyWorkouts, WithingsMeasurements]
