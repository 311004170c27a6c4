"""Pausing a route: its items keep being recorded and wait, Garmin receives nothing; resuming sends them.

Against the sandbox Garmin over HTTP, as in test_pipeline_withings_garmin.py.
"""

import pytest

from fitsync import sync
from fitsync.feeds import take_in
from fitsync.models import ItemStatus, SyncItem, SyncRun
from tests.integrations.garmin import fixtures as garmin_fixtures
from tests.integrations.garmin.fixtures import EMAIL, MORNING, measurement

fake, garmin_url, garmin_account = garmin_fixtures.fake, garmin_fixtures.garmin_url, garmin_fixtures.garmin_account

pytestmark = pytest.mark.django_db
ROUTE = "withings_garmin"


@pytest.fixture(autouse=True)
def commits(monkeypatch):
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, using=None, robust=False: func())


def run_all(sent_jobs) -> None:
    while sent_jobs:
        sync.run_item(sent_jobs.pop(0))


def test_a_paused_route_writes_nothing_until_resumed(logged_in, make_account, garmin_account, fake, sent_jobs):
    withings = make_account("withings")
    assert logged_in.post(f"/routes/{ROUTE}/pause/").status_code == 302
    overview = logged_in.get("/").content.decode()
    assert (
        '<span class="badge status-paused">Paused</span>' in overview
        and 'Resume<span class="visually-hidden"> Withings → Garmin Connect</span>' in overview
    )

    run = sync.start_run(SyncRun.Trigger.WEBHOOK, account=withings, route=ROUTE)
    take_in(withings, [measurement("1"), measurement("2", at=MORNING.replace(hour=7))], run, bulk=False)
    run_all(sent_jobs)  # jobs already queued find the route paused and let go
    assert fake.weigh_ins(EMAIL) == [] and list(sync.due_items()) == []
    items = list(SyncItem.objects.all())
    assert {i.status for i in items} == {ItemStatus.PENDING} and {i.attempts for i in items} == {0}
    assert "paused" in items[0].last_error

    assert logged_in.post(f"/routes/{ROUTE}/resume/").status_code == 302
    run_all(sent_jobs)
    assert len(fake.weigh_ins(EMAIL)) == 2
    assert set(SyncItem.objects.values_list("status", flat=True)) == {ItemStatus.SYNCED}
    assert "status-paused" not in logged_in.get("/").content.decode()


def test_an_unknown_route_cannot_be_paused_or_resumed(logged_in):
    assert logged_in.post("/routes/nowhere/pause/").status_code == 404
    assert logged_in.post("/routes/nowhere/resume/").status_code == 404
    assert logged_in.get(f"/routes/{ROUTE}/pause/").status_code == 405
