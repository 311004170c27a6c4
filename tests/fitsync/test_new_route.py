"""A new route is one declaration: Hevy → a notebook destination declared here, with no change to the
engine, the dashboard or another service.

GIVEN the route registered in ROUTES next to the real ones (as one entry in fitsync/routes.py would be)
WHEN Hevy delivers a signed webhook through the real view, and the queued jobs run
THEN the notebook holds the workout, mapped by the route's mapping; a re-delivery writes nothing more;
and the overview and the route's own list page show it.
"""

import hashlib
import json

import pytest
import responses

from fitsync import crypto, sync
from fitsync.models import ItemStatus, SyncItem
from fitsync.roles import Destination, SyncContext, SyncResult
from fitsync.routes import ROUTES, Route
from sandbox.hevy import HevyFake
from sandbox.mock import mount
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db
HEVY_KEY, WEBHOOK_SECRET = "hevy-key-new-route", "wh-secret-new-route-5c9a1f3e7b2d4a6c"


class Notebook(Destination):
    """A destination that keeps what it is given in a dict, and writes a page only when it changed."""

    provider = "notebook"

    def __init__(self):
        self.pages: dict[str, dict] = {}
        self.writes = 0

    def write(self, context: SyncContext, page: dict) -> SyncResult:
        digest = hashlib.sha256(json.dumps(page, sort_keys=True).encode()).hexdigest()
        if digest == context.item.content_hash:
            return SyncResult(action="unchanged", destination_id=context.item.destination_id, content_hash=digest)
        self.pages[context.item.source_id] = page
        self.writes += 1
        return SyncResult(action="created", destination_id=f"page-{len(self.pages)}", content_hash=digest, sent=page)


def page_from_workout(workout, target) -> dict:
    return {"title": workout.title, "sets": workout.set_count, "volume_kg": str(workout.volume_kg)}


@pytest.fixture
def notebook(monkeypatch):
    destination = Notebook()
    route = Route(
        "hevy_notebook",
        "Hevy → Notebook",
        source="integrations.hevy.roles.WORKOUTS",
        destination=destination,
        mapping=page_from_workout,
    )
    monkeypatch.setitem(ROUTES, route.name, route)
    return destination


@pytest.fixture
def hevy(settings):
    settings.HEVY_REQUESTS_PER_SECOND = 0
    fake = HevyFake()
    fake.add_user(HEVY_KEY)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, settings.HEVY_API_URL)
        yield fake


@pytest.fixture
def accounts(make_account):
    hevy_account = make_account("hevy", api_key=HEVY_KEY, webhook_secret=WEBHOOK_SECRET)
    hevy_account.webhook_digest = crypto.digest(WEBHOOK_SECRET)
    hevy_account.save()
    make_account("notebook")
    return hevy_account


def deliver(client, workout_id: str, event_id: str):
    body = json.dumps({"id": event_id, "payload": {"workoutId": workout_id}})
    return client.generic(
        "POST", "/webhooks/hevy/", body, content_type="application/json", HTTP_AUTHORIZATION=WEBHOOK_SECRET
    )


def run_queued(sent_jobs: list[int]) -> None:
    while sent_jobs:
        sync.run_item(sent_jobs.pop(0))


def test_a_hevy_delivery_reaches_the_new_destination_once(
    client, notebook, hevy, accounts, sent_jobs, django_capture_on_commit_callbacks
):
    workout = hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__supersets.json"))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, workout["id"], "event-1").status_code == 200
    assert set(SyncItem.objects.values_list("route", flat=True)) >= {"hevy_intervals", "hevy_notebook"}
    run_queued(sent_jobs)

    item = SyncItem.objects.get(route="hevy_notebook")
    assert item.status == ItemStatus.SYNCED and item.title == workout["title"]
    assert notebook.pages == {workout["id"]: {"title": workout["title"], "sets": 25, "volume_kg": "6560.5"}}

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, workout["id"], "event-1")  # the same delivery again: a duplicate
        deliver(client, workout["id"], "event-2")  # a new one for the same, unchanged workout
    run_queued(sent_jobs)
    assert notebook.writes == 1 and SyncItem.objects.get(route="hevy_notebook").status == ItemStatus.SYNCED


def test_the_dashboard_lists_the_new_route(logged_in, notebook, accounts):
    SyncItem.objects.upsert(accounts.pk, "hevy_notebook", "w-1", title="Leg day")
    overview = logged_in.get("/").content.decode()
    assert '<h3 id="route-hevy_notebook">Hevy → Notebook</h3>' in overview
    assert '<a href="/hevy_notebook/?status=pending">1</a>' in overview
    listed = logged_in.get("/hevy_notebook/").content.decode()
    assert "<h1>Hevy → Notebook</h1>" in listed and "Leg day<" in listed
