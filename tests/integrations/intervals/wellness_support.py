"""The Withings → Intervals.icu wellness route's fixtures and helpers, shared by its tests: the route turned
on for the test's user (it is optional). Import the fixtures by name into a test module.

Every test using `intervals` runs under both settings of the fake's `wellness_put` switch: a PUT that
changes only the fields sent (documented) and one that clears the fields it is not sent.
"""

import pytest
import responses

from fitsync import route_settings, sync
from fitsync.feeds import take_in, take_out
from fitsync.models import SyncItem
from fitsync.routes import ROUTES, Route
from sandbox.intervals import IntervalsFake
from sandbox.intervals_wellness import WELLNESS_PUTS
from sandbox.mock import mount

ROUTE = ROUTES["withings_intervals"]
ATHLETE, KEY = "i12345", "intervals-wellness-key"


@pytest.fixture
def route(user) -> Route:
    """The route, turned on for the test's user."""
    route_settings.turn(user, ROUTE, on=True)
    return ROUTE


@pytest.fixture
def rsps():
    """The in-process mounts of the fakes a test uses."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(params=WELLNESS_PUTS, ids=lambda put: f"put={put}")
def intervals(request, settings, rsps):
    """The fake Intervals.icu, mounted in-process, under one setting of `wellness_put`."""
    settings.INTERVALS_REQUESTS_PER_SECOND = 0
    fake = IntervalsFake(wellness_put=request.param)
    fake.add_athlete(KEY, athlete_id=ATHLETE, timezone="Europe/Berlin")
    mount(rsps, fake, settings.INTERVALS_API_URL)
    return fake


@pytest.fixture
def accounts(make_account, route, intervals):
    """(the Withings account, the Intervals.icu account), both connected."""
    athlete = make_account("intervals", api_key=KEY)
    athlete.external_user_id = ATHLETE
    athlete.save()
    return make_account("withings"), athlete


@pytest.fixture(autouse=True)
def commits(monkeypatch):
    """On-commit callbacks (the engine sends its jobs after commit) run at once, as a real commit would."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, using=None, robust=False: func())


def take(withings, *measurements) -> None:
    """The weigh-ins as a Withings fetch hands them over: an item per route, queued."""
    run = sync.start_run("webhook", account=withings, route=ROUTE.name)
    take_in(withings, list(measurements), run)


def sync_route(sent_jobs: list[int]) -> list[SyncItem]:
    """Run the route's queued jobs through the engine (the Garmin route's items wait: no Garmin account)."""
    while sent_jobs:
        pk = sent_jobs.pop(0)
        if SyncItem.objects.filter(pk=pk, route=ROUTE.name).exists():
            sync.run_item(pk)
    return list(SyncItem.objects.filter(route=ROUTE.name).order_by("occurred_at", "pk"))


def item(source_id: str) -> SyncItem:
    return SyncItem.objects.get(route=ROUTE.name, source_id=source_id)


def delete_at_source(sent_jobs: list[int], *source_ids: str) -> None:
    """The groups were deleted at Withings: a fetch takes their items out (pending deletes), then they run."""
    items = list(SyncItem.objects.filter(route=ROUTE.name, source_id__in=source_ids))
    withings = items[0].account
    take_out(withings, items, sync.start_run("webhook", account=withings, route=ROUTE.name), bulk=False)
    sync_route(sent_jobs)


def choose_pick(athlete, pick: str) -> None:
    route_settings.save_options(athlete.owner, ROUTE, {"pick": pick})


def wellness_puts(intervals: IntervalsFake) -> list[dict]:
    """The bodies of every wellness write the fake received, one-day PUTs and bulk records alike."""
    single = [entry.json() for entry in intervals.calls("PUT", r"/wellness/\d{4}-\d{2}-\d{2}$")]
    return single + [record for entry in intervals.calls("PUT", r"/wellness-bulk$") for record in entry.json()]
