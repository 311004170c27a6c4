"""The sandbox control page and its JSON endpoints, over real HTTP, checked through the fakes' ledgers
and a tiny receiver standing in for fitsync."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command

from sandbox.control import mount_table
from sandbox.core import FakeService, json_response
from sandbox.registry import DEMO_WITHINGS_USERID, build_sandbox, newest_workout_id
from sandbox.server import SandboxServer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEVY_KEY = {"api-key": "demo-hevy-key"}


class Receiver(FakeService):
    """fitsync's inbound side in miniature: Hevy's webhook and Withings' notify callback."""

    name = "receiver"

    def __init__(self):
        super().__init__()
        self.route("POST", r"/webhooks/hevy/", lambda request: json_response({"ok": True}))
        self.route("GET", r"/webhooks/withings/t0ken/", lambda request: json_response({}))
        self.route("POST", r"/webhooks/withings/t0ken/", lambda request: json_response({}))


@pytest.fixture
def receiver():
    fake = Receiver()
    with SandboxServer({"": fake}) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def sandbox(receiver):
    sandbox = build_sandbox(True, now=NOW)
    sandbox.hevy_webhook.url = f"{receiver.url}/webhooks/hevy/"
    sandbox.hevy_webhook.authorization = "Bearer s3cret"
    return sandbox


@pytest.fixture
def url(sandbox):
    with SandboxServer(mount_table(sandbox)) as server:
        yield server.url


def post(base: str, endpoint: str, **body) -> requests.Response:
    return requests.post(f"{base}{endpoint}", json=body, timeout=30)


def form(base: str, endpoint: str, **fields) -> requests.Response:
    return requests.post(f"{base}{endpoint}", data=fields, allow_redirects=False, timeout=30)


# --- Hevy ----------------------------------------------------------------------------------------
def test_it_sends_hevys_webhook_for_the_newest_workout(url, sandbox, receiver):
    answer = post(url, "/_control/emit/hevy").json()
    [delivery] = receiver.calls("POST", "/webhooks/hevy/")
    assert (
        delivery.json()["payload"] == {"workoutId": newest_workout_id(sandbox)} == {"workoutId": answer["workout_id"]}
    )
    assert delivery.headers["authorization"] == "Bearer s3cret"
    assert [a["status"] for a in answer["attempts"]] == [200]


def test_it_logs_a_new_workout_that_hevys_api_then_serves(url, sandbox, receiver):
    answer = post(url, "/_control/emit/hevy", new=True, authorization="other-secret").json()
    assert answer["created"] and answer["workout_id"] == newest_workout_id(sandbox)
    served = requests.get(f"{url}/hevy/v1/workouts/{answer['workout_id']}", headers=HEVY_KEY, timeout=5)
    assert served.status_code == 200 and served.json()["id"] == answer["workout_id"]
    assert receiver.calls("POST")[0].headers["authorization"] == "other-secret"
    assert sandbox.hevy_webhook.authorization == "other-secret"  # remembered for the next send


def test_it_answers_a_page_form_with_a_redirect_and_remembers_the_webhook_target(url, sandbox):
    answer = form(url, "/_control/hevy/webhook", url="http://127.0.0.1:1/webhooks/hevy/", authorization="xyz")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/?done=")
    assert (sandbox.hevy_webhook.url, sandbox.hevy_webhook.authorization) == (
        "http://127.0.0.1:1/webhooks/hevy/",
        "xyz",
    )
    page = requests.get(f"{url}{answer.headers['Location']}", timeout=5).text
    assert 'role="status"' in page and "http://127.0.0.1:1/webhooks/hevy/" in page


def test_it_edits_and_deletes_a_workout_into_hevys_events_feed(url, sandbox):
    newest = newest_workout_id(sandbox)
    assert form(url, "/_control/hevy/edit", workout_id=newest, title="Leg day, edited").status_code == 303
    assert form(url, "/_control/hevy/delete", workout_id=newest).status_code == 303
    events = requests.get(f"{url}/hevy/v1/workouts/events", headers=HEVY_KEY, params={"pageSize": 2}, timeout=5)
    assert events.json()["events"][0] == {
        "type": "deleted",
        "id": newest,
        "deleted_at": events.json()["events"][0]["deleted_at"],
    }
    assert newest_workout_id(sandbox) != newest


def test_it_reports_an_unknown_workout(url):
    assert post(url, "/_control/emit/hevy", workout_id="nope").status_code == 400
    answer = form(url, "/_control/hevy/delete", workout_id="nope")
    assert answer.status_code == 303 and "problem=" in answer.headers["Location"]


# --- Withings ------------------------------------------------------------------------------------
def test_it_steps_on_the_scale_and_notifies_the_subscriber(url, sandbox, receiver):
    callback = f"{receiver.url}/webhooks/withings/t0ken/"
    token = sandbox.withings.issue_tokens("demo-withings-client", DEMO_WITHINGS_USERID)["access_token"]
    subscribe = {"action": "subscribe", "callbackurl": callback, "appli": 1}
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{url}/withings/notify", data=subscribe, headers=headers, timeout=5).json()["status"] == 0

    answer = post(url, "/_control/emit/withings", weight_kg="79.4").json()

    [notification] = receiver.calls("POST", "/webhooks/withings/")
    assert notification.form()["userid"] == str(DEMO_WITHINGS_USERID) and notification.form()["appli"] == "1"
    assert answer["weight_kg"] == "79.40" and answer["deliveries"][0]["ok"]
    assert sandbox.withings.latest_weight(DEMO_WITHINGS_USERID) == Decimal("79.4")


def test_it_deletes_the_latest_weigh_in_and_notifies_the_subscriber(url, sandbox, receiver):
    callback = f"{receiver.url}/webhooks/withings/t0ken/"
    sandbox.withings.subscriptions.add(DEMO_WITHINGS_USERID, 1, callback, "")
    step = post(url, "/_control/emit/withings", weight_kg="79.4").json()

    answer = post(url, "/_control/withings/delete").json()

    assert answer["grpid"] == step["grpid"] and step["grpid"] not in sandbox.withings.groups
    deletion = receiver.calls("POST", "/webhooks/withings/")[-1].form()
    assert (deletion["startdate"], answer["deliveries"][0]["ok"]) == (str(answer["date"]), True)
    assert form(url, "/_control/withings/delete").status_code == 303


def test_it_refuses_an_implausible_weight(url):
    assert "between 20 and 300" in post(url, "/_control/emit/withings", weight_kg="8000").json()["error"]


# --- faults --------------------------------------------------------------------------------------
def test_it_breaks_an_upstream_with_three_503s(url, sandbox):
    post(url, "/_control/fault", service="intervals", kind="503x3")
    auth = ("API_KEY", "demo-intervals-key")
    statuses = [
        requests.get(f"{url}/intervals/api/v1/athlete/i12345", auth=auth, timeout=5).status_code for _ in range(4)
    ]
    assert statuses == [503, 503, 503, 200]
    assert [e.status for e in sandbox.intervals.ledger] == statuses


def test_it_answers_429_with_retry_after_30(url):
    post(url, "/_control/fault", service="hevy", kind="429")
    limited = requests.get(f"{url}/hevy/v1/workouts/count", headers=HEVY_KEY, timeout=5)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "30")


def test_it_resets_the_connection(url):
    post(url, "/_control/fault", service="garmin", kind="reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/garmin/userprofile-service/socialProfile", timeout=5)


def test_it_heals_every_upstream(url, sandbox):
    post(url, "/_control/fault", service="hevy", kind="blackhole")
    form(url, "/_control/fault", service="withings", kind="503x3", path="^/measure")
    assert "Faults waiting to happen" in requests.get(url, timeout=5).text
    assert post(url, "/_control/heal").json() == {"healed": ["hevy", "intervals", "withings", "garmin"]}
    assert not sandbox.hevy.faults and not sandbox.withings.faults
    assert requests.get(f"{url}/hevy/v1/workouts/count", headers=HEVY_KEY, timeout=5).status_code == 200


def test_it_refuses_an_unknown_fault_or_service(url):
    assert post(url, "/_control/fault", service="hevy", kind="meteor").status_code == 400
    assert post(url, "/_control/fault", service="strava", kind="429").status_code == 400


# --- inspection ----------------------------------------------------------------------------------
def test_it_lists_the_last_calls_newest_first(url):
    requests.get(f"{url}/hevy/v1/user/info", headers=HEVY_KEY, timeout=5)
    requests.get(f"{url}/hevy/v1/workouts/count", timeout=5)
    ledger = requests.get(f"{url}/_control/ledger", params={"service": "hevy"}, timeout=5).json()
    assert [(e["method"], e["path"], e["status"]) for e in ledger["hevy"]] == [
        ("GET", "/v1/workouts/count", 401),
        ("GET", "/v1/user/info", 200),
    ]
    assert set(requests.get(f"{url}/_control/ledger", timeout=5).json()) == {"hevy", "intervals", "withings", "garmin"}


def test_it_records_the_newest_workout_on_a_garmin_watch_too(url, sandbox):
    newest = newest_workout_id(sandbox)
    answer = post(url, "/_control/garmin/watch")
    assert answer.status_code == 200 and answer.json()["workout_id"] == newest
    [activity] = sandbox.garmin.activities("demo@fitsync.local")
    assert activity["manufacturer"] == "GARMIN" and activity["averageHR"] and activity["calories"]
    page = requests.get(url, timeout=5).text
    assert "Garmin activities (1)" in page and "Record it on a Garmin watch too" in page


def test_a_new_workout_can_be_recorded_on_a_garmin_watch_before_its_webhook_goes(url, sandbox):
    answer = post(url, "/_control/emit/hevy", new=True, watch=True)
    data = answer.json()
    assert answer.status_code == 200 and data["created"] and data["attempts"][0]["status"] == 200
    [activity] = sandbox.garmin.activities("demo@fitsync.local")
    assert data["watch_activity"]["activityId"] == activity["activityId"] and activity["manufacturer"] == "GARMIN"
    workout = sandbox.hevy.users["demo-hevy-key"]["workouts"][data["workout_id"]]
    assert activity["start"] < datetime.fromisoformat(workout["start_time"])  # the watch started first
    page = form(url, "/_control/emit/hevy", new="1", watch="1")
    assert "A+Garmin+watch+recorded+it+too" in page.headers["Location"]
    assert "a Garmin watch recorded it too" in requests.get(url, timeout=5).text


def test_sandbox_emit_logs_a_new_workout_a_watch_recorded_too(url, sandbox, sandbox_app):
    out = io.StringIO()
    call_command("sandbox_emit", "hevy", "--new", "--watch", sandbox_url=url, stdout=out)
    [activity] = sandbox.garmin.activities("demo@fitsync.local")
    assert f"a Garmin watch recorded it too: activity {activity['activityId']}" in out.getvalue()
    assert "(new) -> " in out.getvalue() and "attempt 1: 200" in out.getvalue()


def test_it_shows_what_fitsync_wrote(url, sandbox):
    auth = ("API_KEY", "demo-intervals-key")
    activity = {
        "type": "WeightTraining",
        "name": "Push A",
        "start_date_local": "2026-06-01T18:00:00",
        "moving_time": 3600,
        "external_id": "hevy-1",
    }
    requests.post(
        f"{url}/intervals/api/v1/athlete/i12345/activities/manual/bulk", json=[activity], auth=auth, timeout=5
    )
    requests.put(
        f"{url}/intervals/api/v1/athlete/i12345/wellness/2026-06-01",
        json={"weight": 81.35, "bodyFat": 21.1},
        auth=auth,
        timeout=5,
    )
    page = requests.get(url, timeout=5).text
    assert "Intervals.icu activities (1)" in page and "hevy-1" in page and "Garmin weigh-ins (0)" in page
    wellness = page.split("Intervals.icu wellness days (1)")[1].split("</table>")[0]
    assert "<td>2026-06-01</td><td>81.35</td><td>21.1</td>" in wellness


def test_it_serves_an_accessible_page_without_external_assets(url):
    page = requests.get(url, timeout=5)
    assert page.headers["Cache-Control"] == "no-store"
    html = page.text
    assert (
        '<html lang="en">' in html
        and "<h1>" in html
        and "http" not in html.split("<body>")[0].replace("http-equiv", "")
    )
    assert html.count("<label") >= html.count("<select") + html.count('type="text"')
    assert "<script" not in html


# --- Intervals.icu switches ----------------------------------------------------------------------
def test_it_switches_intervals_behaviours_from_the_page_and_as_json(url, sandbox):
    answer = form(url, "/_control/intervals/switches", bulk="create", name_unit="utf8", wellness_put="replace")
    assert answer.status_code == 303 and "always+creates" in answer.headers["Location"]
    fake = sandbox.intervals
    assert (fake.bulk_upsert, fake.name_length_unit, fake.wellness_put) == (False, "utf8", "replace")
    page = requests.get(url, timeout=5).text
    shown_first = page.split('name="bulk">')[1].split("</select>")[0]
    assert shown_first.startswith('<option value="create">always creates</option>')  # the current setting
    assert post(
        url, "/_control/intervals/switches", bulk="upsert", name_unit="utf16", wellness_put="partial"
    ).json() == {
        "bulk": "upsert",
        "name_unit": "utf16",
        "wellness_put": "partial",
    }
    refused = post(url, "/_control/intervals/switches", bulk="sometimes", name_unit="utf16", wellness_put="partial")
    assert refused.status_code == 400 and sandbox.intervals.bulk_upsert is True
