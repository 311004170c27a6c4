"""A new route is one declaration: Hevy → a notebook destination declared here, with no change to the
engine, the dashboard or another service.

GIVEN the route registered in ROUTES next to the real ones (as one entry in fitsync/routes.py would be)
WHEN Hevy delivers a signed webhook through the real view, and the queued jobs run
THEN the notebook holds the workout, mapped by the route's mapping; a re-delivery writes nothing more;
and the overview and the route's own list page show it. A route declared optional records nothing until
its user turns it on, on its card, and its options form gets a page whose choices its destination reads.
"""

import hashlib
import json
import re

import pytest
from django import forms

from fitsync import crypto, route_settings, sync
from fitsync.models import ItemStatus, RouteSetting, SyncItem
from fitsync.roles import Destination, SyncContext, SyncResult
from fitsync.routes import ROUTES, Route
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
def hevy(mounted_hevy):
    mounted_hevy.add_user(HEVY_KEY)
    return mounted_hevy


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


# --- an optional route: off until its user turns it on; options on a page of its own ---------------------
OPTIONAL = "hevy_notebook_optional"


class NotebookOptions(forms.Form):
    style = forms.ChoiceField(choices=[("short", "Short"), ("long", "Long")], initial="short", widget=forms.RadioSelect)
    margin = forms.IntegerField(min_value=0, max_value=10, initial=2)


@pytest.fixture
def optional_notebook(monkeypatch):
    destination = Notebook()
    route = Route(
        OPTIONAL,
        "Hevy → Notebook (optional)",
        source="integrations.hevy.roles.WORKOUTS",
        destination=destination,
        mapping=page_from_workout,
        optional=True,
        options_form=NotebookOptions,
        summary="Writes every workout into the notebook.",
    )
    monkeypatch.setitem(ROUTES, OPTIONAL, route)
    return destination


def delivered(client, hevy, capture, event_id: str) -> dict:
    workout = hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__supersets.json"))
    with capture(execute=True):
        assert deliver(client, workout["id"], event_id).status_code == 200
    return workout


def test_an_optional_route_records_nothing_until_turned_on(
    logged_in, optional_notebook, hevy, accounts, sent_jobs, django_capture_on_commit_callbacks
):
    delivered(logged_in, hevy, django_capture_on_commit_callbacks, "event-1")
    assert not SyncItem.objects.filter(route=OPTIONAL).exists()
    assert SyncItem.objects.filter(route="hevy_intervals").count() == 1  # the other routes go on as ever
    overview = logged_in.get("/").content.decode()
    assert "Writes every workout into the notebook." in overview and "Turn on" in overview

    assert logged_in.post(f"/routes/{OPTIONAL}/on/").status_code == 302
    sent_jobs.clear()
    workout = delivered(logged_in, hevy, django_capture_on_commit_callbacks, "event-2")
    run_queued(sent_jobs)
    assert SyncItem.objects.get(route=OPTIONAL).status == ItemStatus.SYNCED
    assert list(optional_notebook.pages) == [workout["id"]]
    assert "Turn off" in logged_in.get("/").content.decode()


def test_a_route_turned_off_writes_nothing_and_its_items_wait(
    logged_in, optional_notebook, hevy, accounts, sent_jobs, django_capture_on_commit_callbacks
):
    logged_in.post(f"/routes/{OPTIONAL}/on/")
    delivered(logged_in, hevy, django_capture_on_commit_callbacks, "event-1")
    asked = logged_in.post(f"/routes/{OPTIONAL}/off/")
    assert "Turn off Hevy → Notebook (optional)?" in asked.content.decode()  # a confirmation first
    assert route_settings.is_on(accounts.owner_id, ROUTES[OPTIONAL])
    logged_in.post(f"/routes/{OPTIONAL}/off/", {"confirm": "yes"})
    assert not route_settings.is_on(accounts.owner_id, ROUTES[OPTIONAL])

    item = SyncItem.objects.get(route=OPTIONAL)
    assert item.pk not in list(sync.due_items())
    sync.run_item(item.pk)  # a job queued before it was turned off
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.last_error == sync.TURNED_OFF and optional_notebook.pages == {}


def test_the_options_page_saves_what_the_route_reads(logged_in, optional_notebook, accounts):
    owner = accounts.owner_id
    assert route_settings.options_of(owner, OPTIONAL) == {"style": "short", "margin": 2}  # the form's defaults
    page = logged_in.get(f"/routes/{OPTIONAL}/options/").content.decode()
    assert "<h1>Hevy → Notebook (optional): options</h1>" in page and re.search(
        r'<input[^>]*value="short"[^>]*checked', page
    )

    refused = logged_in.post(f"/routes/{OPTIONAL}/options/", {"style": "long", "margin": "99"})
    assert refused.status_code == 400 and route_settings.options_of(owner, OPTIONAL)["margin"] == 2
    assert logged_in.post(f"/routes/{OPTIONAL}/options/", {"style": "long", "margin": "5"}).status_code == 302
    assert route_settings.options_of(owner, OPTIONAL) == {"style": "long", "margin": 5}
    assert RouteSetting.objects.get(route=OPTIONAL).enabled is None  # saving options does not turn it on


def test_unknown_routes_have_no_switches(logged_in):
    for path in ("on", "off", "options"):
        assert logged_in.post(f"/routes/nowhere/{path}/").status_code == 404


def test_saving_the_options_form_keeps_what_other_pages_stored(logged_in, optional_notebook, accounts):
    """Options under keys the form does not have (a service's own page's) survive a save of the form, and
    a change of those keeps the form's values."""
    owner, route = accounts.owner, ROUTES[OPTIONAL]
    route_settings.change_options(owner, route, lambda stored: {**stored, "pages": {"a": 1}})
    assert logged_in.post(f"/routes/{OPTIONAL}/options/", {"style": "long", "margin": "5"}).status_code == 302
    route_settings.change_options(owner, route, lambda stored: {**stored, "pages": {"a": 2}})
    assert route_settings.options_of(owner.pk, OPTIONAL) == {"style": "long", "margin": 5, "pages": {"a": 2}}
