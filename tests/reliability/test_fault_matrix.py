"""R6, R7: every upstream x every fault, through the engine, against the sandbox over real HTTP.

GIVEN one item (or, for Withings, one fetch job) and a scripted fault at the upstream, WHEN the job
runs, THEN the outcome follows the policy: transient -> pending with backoff, never before Retry-After;
permanent 4xx -> failed, no retry; 401 -> one refresh then retry (Withings, Garmin) or needs_reauth
(API keys); Garmin 409 -> success. After the fault clears (time-machine moves the clock to the next
attempt) the job succeeds with exactly one effective write. A blackhole or a slow answer fails the
attempt within the read timeout + 1 s.
"""

import time
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule

from fitsync import sync
from fitsync.models import AccountStatus, ItemStatus, SyncItem, SyncRun
from integrations.withings import tasks as withings_tasks
from tests.conftest import load_fixture

from .upstreams import GARMIN_EMAIL, HEVY_KEY, READ_TIMEOUT, WITHINGS_USER, accounts, upstreams, withings_jobs

pytestmark = pytest.mark.django_db
RETRY_FUNCS = ["integrations.withings.tasks.fetch_new", "integrations.withings.tasks.fetch_window"]
__all__ = ["accounts", "upstreams", "withings_jobs"]  # fixtures used by name

# Where each upstream's fault is injected: the call whose failure matters most.
TARGET = {
    "hevy": {"path": r"^/v1/workouts/", "method": "GET"},  # the source read
    "intervals": {"path": r"/activities/manual/bulk$", "method": "POST"},  # the destination write
    "withings": {"path": r"^/measure$", "method": "POST"},  # getmeas, in the fetch job
    "garmin": {"path": r"^/upload-service/upload$", "method": "POST"},  # the destination write
}
HTTP_DATE_SECONDS = 300
TRANSIENT = {
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "reset": {"reset": True},
    "read_timeout": {"delay": READ_TIMEOUT + 1.5},
    "blackhole": {"blackhole": True},
    "429_seconds": {"status": 429, "retry_after": 120},
    "429_http_date": {"status": 429, "retry_after": "date"},
    "malformed_json": {"status": 200, "body": b'{"status": 0, "body": {"measuregrps": [tru'},
}
SLOW = {"read_timeout", "blackhole"}


def fault_kwargs(service: str, fault: dict) -> dict:
    kwargs = {**TARGET[service], **fault}
    if kwargs.get("retry_after") == "date":
        kwargs["retry_after"] = format_datetime(timezone.now() + timedelta(seconds=HTTP_DATE_SECONDS), usegmt=True)
    return kwargs


def retry_window(injected: dict, started, ended, floor: float) -> tuple:
    """(earliest, latest) next attempt the policy allows: never before Retry-After, else the backoff
    (`floor` seconds at least, up to 30 s for the first failure with jitter)."""
    retry_after = injected.get("retry_after")
    if isinstance(retry_after, str):
        not_before = parsedate_to_datetime(retry_after)  # the date itself: second precision
        return not_before, max(not_before, ended + timedelta(seconds=30)) + timedelta(seconds=1)
    seconds = max(retry_after or 0, floor)
    return started + timedelta(seconds=seconds), ended + timedelta(seconds=max(seconds, 30) + 1)


# --- running one job per route ------------------------------------------------------------------------
class HevyRoute:
    """hevy_intervals: one workout item, written to Intervals.icu."""

    def __init__(self, accounts, upstreams):
        self.upstreams = upstreams
        workout = upstreams.hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__supersets.json"))
        self.item = SyncItem.objects.create(
            account=accounts["hevy"], route="hevy_intervals", source_id=workout["id"], next_attempt_at=timezone.now()
        )

    def run(self) -> str:
        return sync.run_item(self.item.pk)

    def writes(self) -> int:
        return len(self.upstreams.intervals.activities("i777"))

    def retry_at(self):
        self.item.refresh_from_db()
        return self.item.next_attempt_at


class WithingsRoute:
    """withings_garmin: a fetch job reads getmeas; the items it makes are uploaded to Garmin."""

    def __init__(self, accounts, upstreams, withings_jobs):
        self.upstreams, self.account, self.jobs = upstreams, accounts["withings"], withings_jobs
        upstreams.withings.add_height(WITHINGS_USER, 1.80)
        upstreams.withings.add_measurement(WITHINGS_USER, timezone.now() - timedelta(hours=1), 80.35)

    def fetch(self) -> str:
        run = SyncRun.objects.filter(account=self.account, finished_at__isnull=True).first()
        if run is not None:  # a fetch left due by an earlier attempt: the dispatcher's job resumes it
            return withings_tasks.resume(run.pk)
        return withings_tasks.fetch_new(self.account.pk, "webhook")

    def run(self) -> str:
        """The fetch, then every item it made through the engine (the jobs the fetch queued)."""
        summary = self.fetch()
        for item in SyncItem.objects.filter(route="withings_garmin", status=ItemStatus.PENDING):
            summary += " | " + sync.run_item(item.pk)
        return summary

    @property
    def item(self) -> SyncItem | None:
        return SyncItem.objects.filter(route="withings_garmin").first()

    def writes(self) -> int:
        return len(self.upstreams.garmin.weigh_ins(GARMIN_EMAIL))


def route_for(service, accounts, upstreams, withings_jobs):
    if service in ("hevy", "intervals"):
        return HevyRoute(accounts, upstreams)
    return WithingsRoute(accounts, upstreams, withings_jobs)


def run_timed(route, fault: dict) -> tuple[str, float, object, object]:
    """Run the job: (summary, seconds it took, when it started, when it ended). Waits out a slow answer
    the client gave up on, since the upstream may still apply it (a timed-out write can land)."""
    started_at, started = timezone.now(), time.monotonic()
    summary = route.run()
    elapsed, ended = time.monotonic() - started, timezone.now()
    time.sleep(max(0.0, fault.get("delay", 0) - elapsed + 0.2))
    return summary, elapsed, started_at, ended


# --- transient faults: retry later, never before Retry-After, then exactly one write ------------------
@pytest.mark.parametrize("fault_name", list(TRANSIENT))
@pytest.mark.parametrize("service", ["hevy", "intervals", "garmin"])
def test_a_transient_fault_retries_after_the_backoff_and_then_writes_once(
    service, fault_name, accounts, upstreams, withings_jobs
):
    route = route_for(service, accounts, upstreams, withings_jobs)
    if service == "garmin":
        route.fetch()  # the Withings read is not under test here
    fault = fault_kwargs(service, TRANSIENT[fault_name])
    upstreams.fake(service).add_fault(**fault)

    summary, elapsed, started, ended = run_timed(route, fault)

    item = route.item
    item.refresh_from_db()
    assert (item.status, item.attempts) == (ItemStatus.PENDING, 0 if "429" in fault_name else 1), summary
    earliest, latest = retry_window(fault, started, ended, floor=0.75 * 30)  # SYNC_BACKOFF_BASE, jitter
    assert earliest <= item.next_attempt_at <= latest
    if fault_name in SLOW:
        assert elapsed < READ_TIMEOUT + 1, f"the attempt took {elapsed:.1f} s"
    # A timed-out Garmin upload that landed anyway is found by the next attempt's dedup read and recorded
    # as this item's weigh-in ("Garmin already had it"), not uploaded again.
    landed = service == "garmin" and "delay" in fault
    assert_next_attempt_waits_then_succeeds(route, item, ItemStatus.SKIPPED if landed else ItemStatus.SYNCED)


def assert_next_attempt_waits_then_succeeds(route, item, outcome=ItemStatus.SYNCED) -> None:
    spent = item.attempts + 1
    calls = len(route.upstreams.hevy.calls()) + len(route.upstreams.garmin.calls())
    with time_machine.travel(item.next_attempt_at - timedelta(seconds=1), tick=True):
        assert "not due" in sync.run_item(item.pk)
        assert sync.dispatch_due() == 0
    assert len(route.upstreams.hevy.calls()) + len(route.upstreams.garmin.calls()) == calls
    with time_machine.travel(item.next_attempt_at + timedelta(seconds=1), tick=True):
        sync.run_item(item.pk)
        item.refresh_from_db()
        assert (item.status, item.attempts) == (outcome, spent) and item.destination_id
        assert route.writes() == 1
        assert "not due" in sync.run_item(item.pk)  # done: a replayed job changes nothing
    assert route.writes() == 1


@pytest.mark.parametrize("fault_name", [*TRANSIENT, "601_in_200"])
def test_a_transient_withings_fault_schedules_the_fetch_after_retry_after(
    fault_name, accounts, upstreams, withings_jobs
):
    route = WithingsRoute(accounts, upstreams, withings_jobs)
    fault = fault_kwargs("withings", TRANSIENT.get(fault_name, {"body_status": 601}))
    upstreams.withings.add_fault(**fault)

    summary, elapsed, started, ended = run_timed(route, fault)

    assert "will retry" in summary and route.item is None
    assert not Schedule.objects.filter(func__in=RETRY_FUNCS).exists()
    (run,) = SyncRun.objects.filter(account=route.account)
    earliest, latest = retry_window(fault, started, ended, floor=60)  # 601: Withings' 60-second window
    assert earliest <= run.retry_at <= max(latest, ended + timedelta(seconds=60))
    assert (run.attempts, run.finished_at) == (1, None)  # the second of at most 5 tries comes
    if fault_name in SLOW:
        assert elapsed < READ_TIMEOUT + 1, f"the attempt took {elapsed:.1f} s"
    with time_machine.travel(run.retry_at + timedelta(seconds=1), tick=True):
        route.run()
        assert route.item.status == ItemStatus.SYNCED and route.writes() == 1
    run.refresh_from_db()
    assert run.attempts == 2 and run.finished_at and not run.error


# --- permanent faults: failed at once, no retry --------------------------------------------------------
@pytest.mark.parametrize("service", ["hevy", "intervals", "garmin"])
def test_a_permanent_4xx_fails_the_item_without_a_retry(service, accounts, upstreams, withings_jobs):
    route = route_for(service, accounts, upstreams, withings_jobs)
    if service == "garmin":
        route.fetch()
    upstreams.fake(service).add_fault(**TARGET[service], status=400, times=99)

    route.run()

    item = route.item
    item.refresh_from_db()
    assert (item.status, item.attempts) == (ItemStatus.FAILED, 1)
    assert item.pk not in list(sync.due_items())
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=True):
        assert sync.dispatch_due() == 0 and "not due" in sync.run_item(item.pk)
    assert route.writes() == 0


def test_a_permanent_withings_answer_gives_up_without_a_retry(accounts, upstreams, withings_jobs):
    route = WithingsRoute(accounts, upstreams, withings_jobs)
    upstreams.withings.add_fault(**TARGET["withings"], body_status=503)  # "invalid params" in Withings' dialect
    assert "gave up" in route.run()
    assert not Schedule.objects.filter(func="integrations.withings.tasks.fetch_new").exists()


# --- 401: refresh once and retry (OAuth), or needs_reauth (API keys) -----------------------------------
@pytest.mark.parametrize("fault", [{"status": 401}, {"body_status": 401}], ids=["http_401", "401_in_200"])
def test_a_withings_401_refreshes_once_and_the_job_succeeds(fault, accounts, upstreams, withings_jobs):
    route = WithingsRoute(accounts, upstreams, withings_jobs)
    upstreams.withings.add_fault(**TARGET["withings"], **fault)
    route.run()
    assert len(upstreams.withings.refresh_calls()) == 1
    assert route.item.status == ItemStatus.SYNCED and route.writes() == 1


def test_a_garmin_401_refreshes_once_and_the_upload_succeeds(accounts, upstreams, withings_jobs):
    route = WithingsRoute(accounts, upstreams, withings_jobs)
    route.fetch()
    upstreams.garmin.add_fault(**TARGET["garmin"], status=401)
    route.run()
    assert len(upstreams.garmin.refresh_calls()) == 1
    assert route.item.status == ItemStatus.SYNCED and route.writes() == 1


@pytest.mark.parametrize("service", ["withings", "garmin"])
def test_a_401_that_survives_the_refresh_needs_reauth(service, accounts, upstreams, withings_jobs):
    route = WithingsRoute(accounts, upstreams, withings_jobs)
    if service == "garmin":
        route.fetch()
    upstreams.fake(service).add_fault(**TARGET[service], status=401, times=99)
    route.run()
    accounts[service].refresh_from_db()
    assert accounts[service].status == AccountStatus.NEEDS_REAUTH
    assert len(upstreams.fake(service).refresh_calls()) == 1 and route.writes() == 0
    assert not Schedule.objects.filter(func="integrations.withings.tasks.fetch_new").exists()


@pytest.mark.parametrize("service", ["hevy", "intervals"])
def test_a_rejected_api_key_pauses_the_account_and_the_item_waits(service, accounts, upstreams, withings_jobs):
    route = HevyRoute(accounts, upstreams)
    upstreams.fake(service).add_fault(**TARGET[service], status=401, times=99)
    route.run()
    accounts[service].refresh_from_db()
    route.item.refresh_from_db()
    assert accounts[service].status == AccountStatus.NEEDS_REAUTH
    assert (route.item.status, route.item.attempts) == (ItemStatus.PENDING, 0)  # waits, burns no attempt
    assert route.item.pk not in list(sync.due_items()) and route.writes() == 0


# --- Garmin 409: it has the file already --------------------------------------------------------------
def test_a_garmin_409_counts_as_success(accounts, upstreams, withings_jobs):
    route = WithingsRoute(accounts, upstreams, withings_jobs)
    route.fetch()
    upstreams.garmin.add_fault(**TARGET["garmin"], status=409)
    route.run()
    item = route.item
    assert (item.status, item.attempts) == (ItemStatus.SYNCED, 1)
    assert len(upstreams.garmin.calls(**TARGET["garmin"])) == 1  # no second upload
