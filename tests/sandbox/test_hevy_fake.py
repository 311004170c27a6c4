"""The fake Hevy API, reached in-process through `responses` and over real HTTP on 127.0.0.1."""

import json
import pathlib
import random
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from sandbox.core import FakeService, json_response
from sandbox.hevy import HevyFake
from sandbox.mock import mount
from sandbox.server import SandboxServer
from sandbox.workouts import RPE_VALUES, generate_workouts

BASE = "https://api.hevyapp.com"
KEY = "8c1e6a52-3f0d-4b7e-9a21-5d4c3b2a1f00"
OTHER_KEY = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "hevy"
SEED_END = datetime(2024, 10, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def clock():
    return Clock(datetime(2024, 10, 1, 12, tzinfo=UTC))


@pytest.fixture
def hevy(clock):
    fake = HevyFake(clock=clock)
    fake.add_user(KEY, name="anna_lifts")
    fake.add_workouts(KEY, generate_workouts(12, rng=random.Random(1), end=SEED_END))
    fake.add_user(OTHER_KEY, name="bert")
    return fake


@pytest.fixture
def get(hevy):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, hevy, BASE)

        def call(path: str, key: str | None = KEY, **params) -> requests.Response:
            headers = {"api-key": key} if key is not None else {}
            return requests.get(BASE + path, params=params, headers=headers, timeout=5)

        yield call


# --- auth ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_it_rejects_a_missing_or_unknown_key_with_the_bare_text_body(get, key):
    response = get("/v1/workouts", key=key)
    assert response.status_code == 401
    assert response.text == "InvalidApiKey"
    assert response.headers["Content-Type"].startswith("text/html")


def test_it_returns_user_info(get, hevy):
    data = get("/v1/user/info").json()["data"]
    assert data == {"id": hevy.users[KEY]["id"], "name": "anna_lifts", "url": "https://hevy.com/user/anna_lifts"}


# --- workouts -----------------------------------------------------------------------------------
def test_it_defaults_to_page_1_of_5_workouts_newest_first(get):
    body = get("/v1/workouts").json()
    assert (body["page"], body["page_count"], len(body["workouts"])) == (1, 3, 5)
    starts = [w["start_time"] for w in body["workouts"]]
    assert starts == sorted(starts, reverse=True)


def test_it_pages_through_every_workout_once(get):
    pages = [get("/v1/workouts", page=n, pageSize=4).json() for n in (1, 2, 3)]
    ids = [w["id"] for page in pages for w in page["workouts"]]
    assert len(ids) == len(set(ids)) == 12
    assert {page["page_count"] for page in pages} == {3}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"pageSize": 11}, "Invalid page size"),
        ({"pageSize": 0}, "Invalid page size"),
        ({"pageSize": "ten"}, "Invalid page size"),
        ({"page": 0}, "Invalid page"),
        ({"page": "first"}, "Invalid page"),
    ],
)
def test_it_rejects_page_parameters_out_of_range(get, params, message):
    response = get("/v1/workouts", **params)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_it_answers_404_past_the_last_page(get):
    response = get("/v1/workouts", page=4, pageSize=5)
    assert response.status_code == 404
    assert response.json() == {"error": "Page not found"}


def test_it_answers_an_empty_page_past_the_end_when_configured(get, hevy):
    hevy.page_past_end = "empty"
    body = get("/v1/workouts", page=9).json()
    assert body == {"page": 9, "page_count": 3, "workouts": []}


def test_it_serves_page_1_of_an_empty_account(get):
    assert get("/v1/workouts", key=OTHER_KEY).json() == {"page": 1, "page_count": 0, "workouts": []}


def test_it_counts_workouts(get, hevy):
    assert get("/v1/workouts/count").json() == {"workout_count": 12}
    assert get("/v1/workouts/count", key=OTHER_KEY).json() == {"workout_count": 0}


def test_it_serves_one_workout_as_a_bare_object(get, hevy):
    stored = hevy.add_workout(KEY, load_fixture("workout__supersets.json"))
    body = get(f"/v1/workouts/{stored['id']}").json()
    assert body == load_fixture("workout__supersets.json")
    assert list(body) == [
        "id",
        "title",
        "routine_id",
        "description",
        "start_time",
        "end_time",
        "updated_at",
        "created_at",
        "exercises",
    ]


def test_it_wraps_one_workout_when_configured(get, hevy):
    wrapped = load_fixture("workout__wrapped.json")
    hevy.add_workout(KEY, wrapped["workout"])
    hevy.wrap_single = True
    assert get(f"/v1/workouts/{wrapped['workout']['id']}").json() == wrapped


def test_it_answers_404_for_an_unknown_or_someone_elses_workout(get, hevy):
    theirs = hevy.add_workout(OTHER_KEY, load_fixture("workout__unicode.json"))
    for workout_id in ("8a1b7c1e-0000-4000-8000-00000000dead", theirs["id"]):
        response = get(f"/v1/workouts/{workout_id}")
        assert response.status_code == 404
        assert response.json() == {"error": "Workout not found"}


def test_it_uses_the_spec_supersets_key_when_configured(get, hevy):
    stored = hevy.add_workout(KEY, load_fixture("workout__supersets.json"))
    hevy.legacy_supersets_key = True
    exercises = get(f"/v1/workouts/{stored['id']}").json()["exercises"]
    assert [e["supersets_id"] for e in exercises] == [None, 0, 0, 1, 1, None]
    assert all("superset_id" not in e for e in exercises)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("workout__*.json")))
def test_it_serves_each_fixture_workout_unchanged(get, hevy, name):
    workout = load_fixture(name)
    workout = workout.get("workout", workout)
    hevy.add_workout(KEY, workout)
    assert get(f"/v1/workouts/{workout['id']}").json() == workout


# --- events -------------------------------------------------------------------------------------
def edit_and_delete(hevy: HevyFake, clock: Clock) -> tuple[str, str]:
    newest_first = sorted(hevy.users[KEY]["workouts"].values(), key=lambda w: w["start_time"])[::-1]
    edited, deleted = newest_first[3]["id"], newest_first[4]["id"]
    clock.advance(minutes=5)
    hevy.update_workout(KEY, edited, title="Pull (edited)")
    clock.advance(minutes=5)
    hevy.delete_workout(KEY, deleted)
    return edited, deleted


@pytest.mark.parametrize("since", ["2024-10-01T12:00:00+00:00", "2024-10-01T12:00:00.000Z"])
def test_it_lists_only_events_after_since_newest_first(get, hevy, clock, since):
    edited, deleted = edit_and_delete(hevy, clock)
    body = get("/v1/workouts/events", since=since).json()
    assert body["page"] == body["page_count"] == 1
    deletion, update = body["events"]
    assert deletion == {"type": "deleted", "id": deleted, "deleted_at": "2024-10-01T12:10:00.000Z"}
    assert update["type"] == "updated"
    assert (update["workout"]["id"], update["workout"]["title"]) == (edited, "Pull (edited)")
    assert update["workout"]["updated_at"] == "2024-10-01T12:05:00.000Z"


def test_it_lists_each_workout_once_at_its_latest_change(get, hevy, clock):
    edited, deleted = edit_and_delete(hevy, clock)
    events = [e for n in (1, 2) for e in get("/v1/workouts/events", page=n, pageSize=10).json()["events"]]
    assert len(events) == 12
    assert events[0]["id"] == deleted
    assert events[1]["workout"]["id"] == edited
    times = [e.get("deleted_at") or e["workout"]["updated_at"] for e in events]
    assert times == sorted(times, reverse=True)


def test_it_lists_every_change_when_events_are_not_collapsed(get, hevy, clock):
    hevy.collapse_events = False
    edit_and_delete(hevy, clock)
    body = get("/v1/workouts/events", pageSize=10).json()
    assert body["page_count"] == 2  # 12 creations + 1 edit + 1 deletion


def test_it_rejects_an_unparseable_since(get):
    response = get("/v1/workouts/events", since="yesterday")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid since"}


def test_it_caps_the_events_page_size_at_10(get):
    assert get("/v1/workouts/events", pageSize=11).status_code == 400


# --- exercise templates -------------------------------------------------------------------------
def test_it_lists_every_generated_exercise_and_the_users_custom_ones(get, hevy):
    body = get("/v1/exercise_templates", pageSize=100).json()
    templates = body["exercise_templates"]
    generated = {e["exercise_template_id"] for w in hevy.users[KEY]["workouts"].values() for e in w["exercises"]}
    assert generated <= {t["id"] for t in templates}
    assert (body["page"], body["page_count"]) == (1, 1)
    custom = [t for t in templates if t["is_custom"]]
    assert [t["title"] for t in custom] == ["Landmine Press (Half Kneeling)", "Sandbag Shouldering"]
    assert set(templates[0]) == {
        "id",
        "title",
        "type",
        "primary_muscle_group",
        "secondary_muscle_groups",
        "equipment_category",
        "is_custom",
    }


def test_templates_page_five_at_a_time_by_default_and_up_to_100(get, hevy):
    hevy.add_custom_template(KEY, "Zercher Carry", kind="short_distance_weight", muscle="full_body")
    assert len(get("/v1/exercise_templates").json()["exercise_templates"]) == 5
    page_count = get("/v1/exercise_templates", pageSize=7).json()["page_count"]
    pages = [get("/v1/exercise_templates", page=n, pageSize=7).json() for n in range(1, page_count + 1)]
    titles = [t["title"] for page in pages for t in page["exercise_templates"]]
    assert len(titles) == len(set(titles)) and titles[-1] == "Zercher Carry"
    assert get("/v1/exercise_templates", pageSize=101).json() == {"error": "Invalid page size"}


# --- faults -------------------------------------------------------------------------------------
def test_it_answers_429_with_retry_after_then_recovers(get, hevy):
    hevy.add_fault(path=r"^/v1/workouts$", status=429, retry_after=7)
    limited = get("/v1/workouts")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert "error" in limited.json()
    assert get("/v1/workouts").status_code == 200


def test_it_answers_a_scripted_5xx_in_hevys_error_shape(get, hevy):
    hevy.add_fault(status=503, times=2)
    assert [get("/v1/workouts/count").status_code for _ in range(3)] == [503, 503, 200]
    assert [e.status for e in hevy.calls("GET", r"/count$")] == [503, 503, 200]


def test_it_drops_the_connection_on_a_reset_fault(get, hevy):
    hevy.add_fault(reset=True)
    with pytest.raises(requests.ConnectionError):
        get("/v1/workouts")


# --- over real HTTP -----------------------------------------------------------------------------
def test_it_serves_workouts_and_faults_over_real_http(hevy):
    with SandboxServer({"hevy": hevy}) as server:
        base = server.url_for("hevy")
        listed = requests.get(f"{base}/v1/workouts", params={"pageSize": 10}, headers={"api-key": KEY}, timeout=5)
        assert listed.status_code == 200 and len(listed.json()["workouts"]) == 10
        assert requests.get(f"{base}/v1/workouts", timeout=5).text == "InvalidApiKey"
        hevy.add_fault(reset=True)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{base}/v1/workouts/count", headers={"api-key": KEY}, timeout=5)


# --- webhook emitter ----------------------------------------------------------------------------
class WebhookReceiver(FakeService):
    """A stand-in for fitsync's webhook view: 200 on POST /hook, misbehaving through faults."""

    name = "receiver"

    def __init__(self):
        super().__init__()
        self.route("POST", r"/hook", lambda request: json_response({"ok": True}))


@pytest.fixture
def receiver():
    fake = WebhookReceiver()
    with SandboxServer({"": fake}) as server:
        fake.url = f"{server.url}/hook"
        yield fake


def test_it_resends_the_same_event_when_the_receiver_is_too_slow(hevy, receiver):
    receiver.add_fault(delay=1.0)  # answers, but only after the sender's timeout
    attempts = hevy.emit_webhook(receiver.url, "Bearer s3cret", "w-1", timeout=0.3, backoff=0)
    assert [a.ok for a in attempts] == [False, True]
    assert "Timeout" in attempts[0].error
    deliveries = receiver.calls("POST")
    assert len(deliveries) == 2
    assert deliveries[0].json() == deliveries[1].json() == {"id": attempts[0].event_id, "payload": {"workoutId": "w-1"}}
    assert {d.headers["authorization"] for d in deliveries} == {"Bearer s3cret"}


def test_it_resends_after_error_answers_and_gives_up_after_the_retries(hevy, receiver):
    receiver.add_fault(status=500, times=10)
    attempts = hevy.emit_webhook(receiver.url, "raw-secret", "w-2", retries=2, backoff=0.01)
    assert [a.status for a in attempts] == [500, 500, 500]
    assert len({a.event_id for a in attempts}) == 1
    assert [d.headers["authorization"] for d in receiver.calls("POST")] == ["raw-secret"] * 3


def test_it_resends_after_a_dropped_connection(hevy, receiver):
    receiver.add_fault(reset=True)
    attempts = hevy.emit_webhook(receiver.url, None, "w-3", backoff=0)
    assert [a.ok for a in attempts] == [False, True]
    assert "authorization" not in receiver.calls("POST")[-1].headers


def test_it_can_emit_in_the_background(hevy, receiver):
    thread = hevy.emit_webhook_in_background(receiver.url, "s", "w-4", backoff=0)
    thread.join(timeout=5)
    assert [a.workout_id for a in hevy.webhook_attempts] == ["w-4"]
    assert hevy.webhook_attempts[0].ok


@pytest.mark.parametrize("retry_after", [True, False])
def test_a_hidden_rate_limit_per_key_answers_429(hevy, get, retry_after):
    hevy.rate_limit, hevy.retry_after = 2.0, retry_after
    answers = [get("/v1/workouts/count") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]  # a bucket holds one second's worth
    assert answers[2].headers.get("Retry-After") == ("1" if retry_after else None)
    assert get("/v1/workouts/count", key=OTHER_KEY).status_code == 200  # every key has its own budget


@pytest.mark.parametrize("webhook_ids, distinct", [("per_event", 2), ("stable", 1)])
def test_the_webhook_id_is_per_event_or_stable_per_subscription(hevy, receiver, webhook_ids, distinct):
    hevy.webhook_ids = webhook_ids
    for workout_id in ("w-5", "w-6"):
        hevy.emit_webhook(receiver.url, "s", workout_id, backoff=0)
    bodies = [d.json() for d in receiver.calls("POST")]
    assert [b["payload"]["workoutId"] for b in bodies] == ["w-5", "w-6"]
    assert len({b["id"] for b in bodies}) == distinct


# --- the workout generator ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def year():
    return generate_workouts(200, rng=random.Random(42), end=SEED_END)


def all_sets(workouts):
    return [(e, s) for w in workouts for e in w["exercises"] for s in e["sets"]]


def test_it_generates_the_same_workouts_for_the_same_seed(year):
    assert generate_workouts(200, rng=random.Random(42), end=SEED_END) == year
    assert generate_workouts(200, rng=random.Random(43), end=SEED_END) != year


def test_it_generates_a_thousand_workouts_quickly():
    started = time.perf_counter()
    assert len(generate_workouts(1000, rng=random.Random(1), end=SEED_END)) == 1000
    assert time.perf_counter() - started < 1.0


def test_it_generates_supersets_numbered_from_zero(year):
    with_supersets = [w for w in year if any(e["superset_id"] is not None for e in w["exercises"])]
    assert len(with_supersets) > 20
    for workout in with_supersets:
        ids = [e["superset_id"] for e in workout["exercises"] if e["superset_id"] is not None]
        assert ids[0] == 0 and sorted(set(ids)) == list(range(len(set(ids))))


def test_it_generates_every_kind_of_set(year):
    sets = all_sets(year)
    assert {s["type"] for _, s in sets} == {"normal", "warmup", "dropset", "failure"}
    assert any(e["title"] == "Pull Up" and s["weight_kg"] is None and s["reps"] for e, s in sets)
    assert any(e["title"] == "Plank" and s["duration_seconds"] and s["reps"] is None for e, s in sets)
    assert any(e["title"] == "Farmers Walk" and s["distance_meters"] and s["weight_kg"] for e, s in sets)
    assert any(e["title"] == "Rowing Machine" and s["distance_meters"] and s["duration_seconds"] for e, s in sets)
    assert {s["rpe"] for _, s in sets} - {None} <= set(RPE_VALUES)
    assert any(e["notes"] for w in year for e in w["exercises"])


def test_it_generates_plausible_sessions(year):
    assert any(not w["title"].isascii() for w in year)
    assert all(re.fullmatch(r"[0-9A-F]{8}", e["exercise_template_id"]) for w in year for e in w["exercises"])
    for workout in year:
        start = datetime.fromisoformat(workout["start_time"])
        minutes = (datetime.fromisoformat(workout["end_time"]) - start).total_seconds() / 60
        assert 45 <= minutes < 91
        assert workout["start_time"].endswith("+00:00")
        assert re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{3}Z", workout["created_at"])
    assert year[-1]["start_time"] < SEED_END.isoformat()
    assert (datetime.fromisoformat(year[-1]["start_time"]) - datetime.fromisoformat(year[0]["start_time"])).days > 300
