"""No page's query count grows with the number of items (no N+1)."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fitsync.models import ItemStatus, SyncAttempt, SyncItem, SyncRun
from fitsync.routes import ROUTES
from tests.seed import WEIGHTS, WORKOUTS, make_items

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/workouts/",
    "/weights/",
    "/workouts/?status=synced&q=Workout",
    "/runs/",
    "/charts/?days=730",
    "item",
    "run",
    "progress",
]


def seed(user, accounts, count: int, start: int = 0) -> None:
    hevy, withings = accounts
    make_items(hevy, WORKOUTS, count, start=start)
    make_items(withings, WEIGHTS, count, start=start, status=ItemStatus.HELD)
    newest = SyncItem.objects.filter(route=WORKOUTS).order_by("-occurred_at").first()
    SyncAttempt.objects.bulk_create(SyncAttempt(item=newest, outcome="created") for _ in range(min(count, 60)))
    SyncRun.objects.bulk_create(SyncRun(owner=user, account=hevy, trigger="schedule") for _ in range(min(count, 60)))


def queries_per_page(client) -> dict[str, int]:
    item = SyncItem.objects.filter(route=WORKOUTS).order_by("-occurred_at").first()
    run = SyncRun.objects.order_by("-pk").first()
    urls = {"item": f"/items/{item.pk}/", "run": f"/runs/{run.pk}/", "progress": f"/runs/{run.pk}/progress/"}
    counts = {}
    for page in PAGES:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(urls.get(page, page)).status_code == 200
        counts[page] = len(captured)
    return counts


def test_it_runs_the_same_few_queries_at_10_and_at_1000_items(logged_in, user, make_account, monkeypatch):
    monkeypatch.setattr("fitsync.alerts._last_web_check", time.monotonic())  # its minute is not up
    accounts = make_account("hevy"), make_account("withings")
    make_account("intervals"), make_account("garmin")
    seed(user, accounts, 10)
    at_10 = queries_per_page(logged_in)
    seed(user, accounts, 990, start=10)
    at_1000 = queries_per_page(logged_in)
    assert at_10 == at_1000
    # The overview is the largest: it also counts schedules set aside and the runs' items, runs the four
    # bounded queries of its activity timeline, reads paused routes and its first-run checklist (finished
    # imports, and whether the route's source delivers) and the newest times of each route; every page
    # reads the reader's profile (zone, unit).
    assert max(at_1000.values()) <= 17 + len(ROUTES), at_1000
