"""The fake Intervals.icu API, reached in-process through `responses` and over real HTTP."""

import threading
from datetime import UTC, datetime

import pytest
import requests
import responses

from sandbox.intervals import IntervalsFake
from sandbox.mock import mount
from sandbox.server import SandboxServer

BASE = "https://intervals.icu"
KEY = "3kq9x7v2m5n8b1c4z6l0w"
OTHER_KEY = "7hf2j9s4d6g1k3l8p0q5r"
NUMERIC_KEY = "5tq8w2e6r1y4u7i0o3p9a"
AUTH = ("API_KEY", KEY)


def lifting(**extra) -> dict:
    return {
        "start_date_local": "2024-05-14T17:42:07",
        "type": "WeightTraining",
        "name": "Push A",
        "moving_time": 4788,
        "external_id": "hevy:b459cba5-cd6d-463c-abd6-54f8eafcadcb",
        **extra,
    }


@pytest.fixture
def intervals():
    fake = IntervalsFake(clock=lambda: datetime(2024, 6, 1, 9, tzinfo=UTC))
    fake.add_athlete(KEY, athlete_id="i12345", timezone="Europe/Berlin", name="Anna")
    fake.add_athlete(OTHER_KEY, athlete_id="i67890", timezone="America/New_York", name="Bert")
    fake.add_athlete(NUMERIC_KEY, athlete_id="2049151", timezone="Europe/Madrid", name="Carla")
    return fake


@pytest.fixture
def api(intervals):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, intervals, BASE)
        session = requests.Session()
        session.auth = AUTH
        yield Api(session)


class Api:
    def __init__(self, session: requests.Session):
        self.session = session

    def __getattr__(self, method: str):
        def call(path: str, **kwargs) -> requests.Response:
            return self.session.request(method.upper(), BASE + path, timeout=5, **kwargs)

        return call


# --- auth and athlete ids -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth", [None, ("API_KEY", "wrong"), ("athlete", KEY), ("api_key", KEY)], ids=["none", "key", "user", "case"]
)
def test_it_rejects_bad_basic_auth(api, auth):
    response = api.get("/api/v1/athlete/0", auth=auth) if auth else requests.get(f"{BASE}/api/v1/athlete/0")
    assert response.status_code == 401
    assert response.json() == {"status": 401, "error": "Unauthorized"}


def test_it_rejects_a_bearer_header_in_place_of_basic(api):
    response = requests.get(f"{BASE}/api/v1/athlete/0", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 401


@pytest.mark.parametrize("athlete", ["0", "i12345"])
def test_it_serves_the_keys_own_profile(api, athlete):
    profile = api.get(f"/api/v1/athlete/{athlete}").json()
    assert (profile["id"], profile["name"], profile["timezone"]) == ("i12345", "Anna", "Europe/Berlin")


@pytest.mark.parametrize("athlete", ["i67890", "2049151", "12345"])
def test_it_denies_someone_elses_athlete_id_in_either_form(api, athlete):
    response = api.get(f"/api/v1/athlete/{athlete}")
    assert response.status_code == 403
    assert response.json() == {"status": 403, "error": "Access denied"}


@pytest.mark.parametrize("athlete", ["0", "2049151"])
def test_an_all_numeric_athlete_id_is_an_athlete_of_its_own(api, athlete):
    profile = api.get(f"/api/v1/athlete/{athlete}", auth=("API_KEY", NUMERIC_KEY)).json()
    assert (profile["id"], profile["name"]) == ("2049151", "Carla")
    assert api.get("/api/v1/athlete/i2049151", auth=("API_KEY", NUMERIC_KEY)).status_code == 403


@pytest.mark.parametrize("athlete", ["me", "I12345"])
def test_it_answers_a_spring_404_for_a_malformed_athlete_id(api, athlete):
    response = api.get(f"/api/v1/athlete/{athlete}/activities", params={"oldest": "2024-01-01"})
    assert response.status_code == 404
    body = response.json()
    assert (body["status"], body["error"], body["path"]) == (404, "Not Found", f"/api/v1/athlete/{athlete}/activities")
    assert body["timestamp"].startswith("2024-06-01T09:00:00")


# --- creating activities ------------------------------------------------------------------------
def test_it_always_creates_on_the_single_manual_endpoint(api, intervals):
    first = api.post("/api/v1/athlete/0/activities/manual", json=lifting()).json()
    second = api.post("/api/v1/athlete/0/activities/manual", json=lifting()).json()
    assert first["id"] != second["id"]
    assert len(intervals.activities("i12345")) == 2
    assert first["icu_athlete_id"] == "i12345" and first["source"] == "MANUAL"
    assert first["start_date"] == "2024-05-14T15:42:07Z"  # Berlin summer time is UTC+2
    assert first["moving_time"] == 4788 and first["created"] == "2024-06-01T09:00:00.000Z"


def test_it_upserts_bulk_items_on_external_id(api, intervals):
    created = api.post("/api/v1/athlete/0/activities/manual/bulk", json=[lifting()]).json()
    updated = api.post(
        "/api/v1/athlete/i12345/activities/manual/bulk", json=[lifting(name="Push A (edited)", kg_lifted=8120.5)]
    )
    assert updated.status_code == 200
    [activity] = updated.json()
    assert activity["id"] == created[0]["id"]
    assert (activity["name"], activity["kg_lifted"]) == ("Push A (edited)", 8120.5)
    assert list(intervals.activities_by_external_id("i12345")) == [lifting()["external_id"]]
    assert len(intervals.activities("i12345")) == 1


def test_it_creates_bulk_items_without_external_id_every_time(api, intervals):
    item = lifting()
    del item["external_id"]
    for _ in range(2):
        api.post("/api/v1/athlete/0/activities/manual/bulk", json=[item])
    assert len(intervals.activities("i12345")) == 2


def test_it_duplicates_on_bulk_when_upsert_is_switched_off(api, intervals):
    intervals.bulk_upsert = False
    for _ in range(2):
        api.post("/api/v1/athlete/0/activities/manual/bulk", json=[lifting()])
    assert len(intervals.activities("i12345")) == 2


def test_it_keeps_activity_ids_monotonic(api):
    ids = [api.post("/api/v1/athlete/0/activities/manual", json=lifting()).json()["id"] for _ in range(3)]
    numbers = [int(i[1:]) for i in ids]
    assert all(i.startswith("i") for i in ids) and numbers == sorted(numbers) and len(set(numbers)) == 3


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"start_date_local": "2024-05-14T15:42:07Z"}, 422),
        ({"start_date_local": "2024-05-14T17:42:07+02:00"}, 422),
        ({"start_date_local": "14.05.2024 17:42"}, 422),
        ({"type": None}, 422),
        ({"type": "Weight Training"}, 400),
        ({"name": "x" * 81}, 422),
    ],
)
def test_it_refuses_invalid_activities_and_writes_nothing(api, intervals, fields, status):
    response = api.post("/api/v1/athlete/0/activities/manual/bulk", json=[lifting(external_id="ok"), lifting(**fields)])
    assert response.status_code == status
    assert response.json()["status"] == status
    assert intervals.activities("i12345") == []


@pytest.mark.parametrize(
    "unit, accepted",
    [("utf16", ["x" * 80, "ü" * 80]), ("codepoints", ["x" * 80, "💪" * 80]), ("utf8", ["x" * 80, "ü" * 40])],
)
def test_it_accepts_names_of_80_as_its_unit_counts(api, intervals, unit, accepted):
    intervals.name_length_unit = unit
    for name in accepted:
        assert api.post("/api/v1/athlete/0/activities/manual", json=lifting(name=name)).status_code == 200
    refused = {"utf16": "💪" * 41, "codepoints": "x" * 81, "utf8": "ü" * 41}[unit]
    for call in (
        api.post("/api/v1/athlete/0/activities/manual/bulk", json=[lifting(name=refused)]),
        api.put(f"/api/v1/activity/{intervals.activities('i12345')[0]['id']}", json={"name": refused}),
    ):
        assert (call.status_code, call.json()) == (422, {"status": 422, "error": "Name is too long"})


def test_it_knows_only_the_name_units_it_can_count():
    with pytest.raises(ValueError, match="utf16, codepoints, utf8"):
        IntervalsFake(name_length_unit="bytes")


# --- reading, updating, deleting ----------------------------------------------------------------
def test_it_updates_only_the_fields_sent(api):
    activity = api.post("/api/v1/athlete/0/activities/manual", json=lifting(icu_rpe=7, calories=420)).json()
    changed = api.put(f"/api/v1/activity/{activity['id']}", json={"name": "Push A ✔", "calories": -1}).json()
    assert (changed["name"], changed["calories"], changed["icu_rpe"]) == ("Push A ✔", None, 7)
    assert api.get(f"/api/v1/activity/{activity['id']}").json() == changed


def test_it_deletes_once_then_answers_404(api):
    activity_id = api.post("/api/v1/athlete/0/activities/manual", json=lifting()).json()["id"]
    assert api.delete(f"/api/v1/activity/{activity_id}").json() == {"icu_athlete_id": "i12345", "id": activity_id}
    for method in (api.delete, api.get, api.put):
        response = method(f"/api/v1/activity/{activity_id}", json={})
        assert response.status_code == 404
        assert response.json() == {"status": 404, "error": "Activity not found"}


def test_it_denies_access_to_someone_elses_activity(api):
    theirs = api.post("/api/v1/athlete/0/activities/manual", json=lifting(), auth=("API_KEY", OTHER_KEY)).json()
    assert api.get(f"/api/v1/activity/{theirs['id']}").status_code == 403
    assert api.delete(f"/api/v1/activity/{theirs['id']}").status_code == 403


def test_it_requires_oldest_to_list_activities(api):
    response = api.get("/api/v1/athlete/0/activities")
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


def test_it_lists_activities_newest_first_within_local_dates(api):
    for day in ("2024-05-01", "2024-05-03", "2024-05-02", "2024-05-09"):
        api.post("/api/v1/athlete/0/activities/manual", json=lifting(start_date_local=f"{day}T23:30:00"))
    listed = api.get("/api/v1/athlete/0/activities", params={"oldest": "2024-05-02", "newest": "2024-05-03"})
    assert [a["start_date_local"] for a in listed.json()] == ["2024-05-03T23:30:00", "2024-05-02T23:30:00"]
    limited = api.get("/api/v1/athlete/0/activities", params={"oldest": "2024-05-01", "limit": 1}).json()
    assert [a["start_date_local"] for a in limited] == ["2024-05-09T23:30:00"]
    slim = api.get("/api/v1/athlete/0/activities", params={"oldest": "2024-05-09", "fields": "id,name,calories"})
    assert set(slim.json()[0]) == {"id", "name"}  # `fields` also drops nulls and missing ones


# --- wellness -----------------------------------------------------------------------------------
def test_it_merges_wellness_fields_by_day(api):
    api.put("/api/v1/athlete/0/wellness/2024-05-14", json={"weight": 81.4, "restingHR": 52})
    merged = api.put("/api/v1/athlete/0/wellness/2024-05-14", json={"weight": 81.2, "bodyFat": 17.9}).json()
    assert {k: merged[k] for k in ("id", "weight", "bodyFat", "restingHR")} == {
        "id": "2024-05-14",
        "weight": 81.2,
        "bodyFat": 17.9,
        "restingHR": 52,
    }
    assert api.get("/api/v1/athlete/i12345/wellness/2024-05-14").json() == merged


def test_it_answers_an_empty_record_for_a_day_without_wellness(api):
    assert api.get("/api/v1/athlete/0/wellness/2024-05-15").json() == {"id": "2024-05-15"}
    assert api.get("/api/v1/athlete/0/wellness/2024-02-30").status_code == 400


def test_it_accepts_wellness_by_body_id_and_in_bulk(api, intervals):
    api.put("/api/v1/athlete/0/wellness", json={"id": "2024-05-16", "weight": 80.9})
    bulk = api.put("/api/v1/athlete/0/wellness-bulk", json=[{"id": "2024-05-17", "weight": 80.7}])
    assert bulk.status_code == 200 and bulk.content == b""
    assert sorted(intervals.athletes["i12345"]["wellness"]) == ["2024-05-16", "2024-05-17"]


def test_a_wellness_put_clears_a_number_sent_as_minus_one_and_drops_unknown_fields(api, intervals):
    intervals.set_wellness("i12345", "2024-05-14", weight=81.4, restingHR=52, comments="long day")
    api.put("/api/v1/athlete/0/wellness/2024-05-14", json={"weight": -1, "MuscleMass": 61.2, "ctl": 99})
    record = intervals.wellness("i12345")["2024-05-14"]
    assert (record["weight"], record["restingHR"], record["comments"]) == (None, 52, "long day")
    assert "MuscleMass" not in record and "ctl" not in record  # no such custom field; ctl is computed


def test_a_replacing_wellness_put_clears_the_fields_it_is_not_sent(intervals):
    intervals.wellness_put = "replace"
    intervals.set_wellness("i12345", "2024-05-14", weight=81.4, restingHR=52, ctl=41.5)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, intervals, BASE)
        requests.put(BASE + "/api/v1/athlete/0/wellness/2024-05-14", json={"weight": 81.0}, auth=AUTH, timeout=5)
    record = intervals.wellness("i12345")["2024-05-14"]
    assert (record["weight"], record.get("restingHR"), record["ctl"]) == (81.0, None, 41.5)
    with pytest.raises(ValueError):
        IntervalsFake(wellness_put="sometimes")


def test_custom_wellness_fields_are_listed_and_written_once_defined(api, intervals):
    muscle = intervals.add_custom_item("i12345", "MuscleMass", name="Muscle mass")
    intervals.add_custom_item("i12345", "Tags", item_type="ACTIVITY_FIELD", field_type="text")
    listed = api.get("/api/v1/athlete/0/custom-item").json()
    assert [(i["type"], i["content"]["code"], i["content"]["type"]) for i in listed] == [
        ("INPUT_FIELD", "MuscleMass", "numeric"),
        ("ACTIVITY_FIELD", "Tags", "text"),
    ]
    assert muscle["name"] == "Muscle mass"
    api.put("/api/v1/athlete/0/wellness", json={"id": "2024-05-14", "MuscleMass": 61.2, "Tags": "x"})
    record = intervals.wellness("i12345")["2024-05-14"]
    assert record["MuscleMass"] == 61.2 and "Tags" not in record  # an activity field is not a wellness one


def test_a_locked_wellness_record_is_listed_and_still_written(api, intervals):
    intervals.set_wellness("i12345", "2024-05-14", weight=81.4, locked=True)
    intervals.set_wellness("i12345", "2024-05-20", weight=80.9)
    listed = api.get("/api/v1/athlete/0/wellness", params={"oldest": "2024-05-01", "newest": "2024-05-15"}).json()
    assert [(r["id"], r["locked"]) for r in listed] == [("2024-05-14", True)]
    api.put("/api/v1/athlete/0/wellness/2024-05-14", json={"weight": 80.0})  # the lock is the client's to honour
    assert intervals.wellness("i12345")["2024-05-14"]["weight"] == 80.0


# --- faults, rate limit, real HTTP --------------------------------------------------------------
def test_it_answers_429_above_the_rate_limit_and_recovers_after_a_second(intervals):
    now = [100.0]
    intervals.rate_limit_per_s = 3
    intervals.monotonic = lambda: now[0]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, intervals, BASE)
        statuses = [requests.get(f"{BASE}/api/v1/athlete/0", auth=AUTH).status_code for _ in range(5)]
        limited = requests.get(f"{BASE}/api/v1/athlete/0", auth=AUTH)
        now[0] += 1.0
        recovered = requests.get(f"{BASE}/api/v1/athlete/0", auth=AUTH)
    assert statuses == [200, 200, 200, 429, 429]
    assert limited.headers["Retry-After"] == "1"
    assert limited.json() == {"status": 429, "error": "Too many requests"}
    assert recovered.status_code == 200


def test_it_answers_scripted_faults_in_its_error_shape(api, intervals):
    intervals.add_fault(path=r"/bulk$", status=502)
    response = api.post("/api/v1/athlete/0/activities/manual/bulk", json=[lifting()])
    assert response.status_code == 502
    assert response.json() == {"status": 502, "error": "Injected fault"}
    assert api.post("/api/v1/athlete/0/activities/manual/bulk", json=[lifting()]).status_code == 200


def test_it_rate_limits_concurrent_clients_over_real_http():
    now = [0.0]  # the limiter's clock stands still, so the count does not depend on machine speed
    fake = IntervalsFake(rate_limit_per_s=10, monotonic=lambda: now[0])
    fake.add_athlete(KEY)
    statuses: list[int] = []
    with SandboxServer({"intervals": fake}) as server:
        base = server.url_for("intervals")

        def burst():
            for _ in range(5):
                statuses.append(requests.get(f"{base}/api/v1/athlete/0", auth=AUTH, timeout=5).status_code)

        threads = [threading.Thread(target=burst) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        now[0] += 1.0
        bulk_url = f"{base}/api/v1/athlete/0/activities/manual/bulk"
        created = requests.post(bulk_url, json=[lifting()], auth=AUTH, timeout=5)
    assert sorted(statuses) == [200] * 10 + [429] * 10
    assert created.status_code == 200
    assert fake.activities_by_external_id("i12345")[lifting()["external_id"]]["id"] == created.json()[0]["id"]
