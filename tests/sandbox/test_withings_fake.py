"""The Withings fake behaves like docs/upstream-apis.md section 3 says Withings does.

Most tests reach the fake in-process through `responses`; the `*_over_real_http` ones run it in a
`SandboxServer` on 127.0.0.1 with a tiny local receiver for the HEAD probe and notifications.
"""

import threading
from datetime import datetime, timezone
from decimal import Decimal
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
import responses
from withings_api import WithingsApi, WithingsAuth
from withings_api.common import AuthScope, Credentials2, MeasureGetMeasResponse, MeasureType, NotifyListResponse

from sandbox.mock import mount
from sandbox.server import SandboxServer
from sandbox.withings import WithingsFake
from sandbox.withings_measures import decode
from tests.conftest import load_fixture

API = "https://wbsapi.withings.net"
ACCOUNT = "https://account.withings.com"
CLIENT_ID, SECRET = "fitsync-client", "s3cret"
CALLBACK = "https://fitsync.example/withings/callback"
HOOK = "https://fitsync.example/withings/notify?token=abc"
USER = 31400001
T0 = 1_737_353_000.0  # 2025-01-20 06:03 UTC
GETMEAS_FIXTURES = ["body_composition", "ambiguous", "page1", "page2", "edited_group"]


class Clock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class StubHttp:
    """Stands in for `requests` as the fake's probe/emitter transport: scripted answers, recorded calls."""

    def __init__(self, head=200, posts=(200,)):
        self.head_status, self.posts, self.calls = head, list(posts), []

    def head(self, url, **kwargs):
        self.calls.append(("HEAD", url, kwargs))
        return SimpleNamespace(status_code=self.head_status)

    def post(self, url, **kwargs):
        self.calls.append(("POST", url, kwargs))
        answer = self.posts.pop(0) if len(self.posts) > 1 else self.posts[0]
        if isinstance(answer, Exception):
            raise answer
        return SimpleNamespace(status_code=answer)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    fake = WithingsFake(page_size=3)
    fake.now = clock
    fake.add_app(CLIENT_ID, SECRET, [CALLBACK, "https://other.example/cb"])
    fake.add_user(userid=USER, email="ada@example.com", timezone="Europe/Berlin")
    return fake


@pytest.fixture
def rsps(fake):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, API)
        mount(rsps, fake, ACCOUNT)
        yield rsps


def at(offset_seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset_seconds, timezone.utc)


def token_call(base: str = API, **form) -> dict:
    data = {"action": "requesttoken", "client_id": CLIENT_ID, "client_secret": SECRET, **form}
    return requests.post(f"{base}/v2/oauth2", data=data).json()


def exchange(code: str, base: str = API, **form) -> dict:
    return token_call(base, grant_type="authorization_code", code=code, redirect_uri=CALLBACK, **form)


def refresh(refresh_token: str) -> dict:
    return token_call(grant_type="refresh_token", refresh_token=refresh_token)


def api_call(path: str, token: str, base: str = API, **params) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(f"{base}{path}", data=params, headers=headers).json()


def getmeas(token: str, **params) -> dict:
    return api_call("/measure", token, action="getmeas", **params)


def access_token(fake) -> str:
    return fake.issue_tokens(CLIENT_ID, USER)["access_token"]


def authorize_query(**overrides) -> dict:
    query = {"response_type": "code", "client_id": CLIENT_ID, "state": "st4te", "scope": "user.info,user.metrics"}
    return {**query, "redirect_uri": CALLBACK, **overrides}


# --- OAuth: authorize page ----------------------------------------------------------------------
def test_it_shows_an_accessible_authorize_page(fake, rsps):
    page = requests.get(f"{ACCOUNT}/oauth2_user/authorize2", params=authorize_query())
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<button type="submit" name="decision" value="allow">Allow this app</button>' in page.text
    assert '<button type="submit" name="decision" value="deny">Deny</button>' in page.text
    assert "user.metrics" in page.text and "ada@example.com" in page.text


def test_it_offers_a_labelled_user_chooser_when_there_are_several_users(fake, rsps):
    fake.add_user(email="bob@example.com")
    page = requests.get(f"{ACCOUNT}/oauth2_user/authorize2", params=authorize_query())
    assert '<label for="userid">' in page.text and '<select id="userid" name="userid">' in page.text
    assert "bob@example.com" in page.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": CALLBACK + "/"},
        {"client_id": "unknown"},
        {"response_type": "token"},
        {"scope": "user.metrics,user.everything"},
        {"scope": ""},
    ],
)
def test_it_shows_an_error_page_instead_of_redirecting_for_a_bad_request(fake, rsps, overrides):
    page = requests.get(f"{ACCOUNT}/oauth2_user/authorize2", params=authorize_query(**overrides))
    assert page.status_code == 400 and "Location" not in page.headers
    assert 'role="alert"' in page.text


def test_it_redirects_with_a_code_and_state_when_the_user_allows(fake, rsps):
    form = {**authorize_query(), "userid": str(USER), "decision": "allow"}
    answer = requests.post(f"{ACCOUNT}/oauth2_user/authorize2", data=form, allow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["st4te"]
    assert exchange(query["code"][0])["body"]["userid"] == USER


def test_it_redirects_with_access_denied_when_the_user_denies(fake, rsps):
    form = {**authorize_query(), "userid": str(USER), "decision": "deny"}
    answer = requests.post(f"{ACCOUNT}/oauth2_user/authorize2", data=form, allow_redirects=False)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query) == {"error": ["access_denied"], "state": ["st4te"]}


# --- OAuth: tokens ------------------------------------------------------------------------------
def test_it_exchanges_a_code_for_tokens_shaped_like_the_fixture(fake, rsps):
    answer = exchange(fake.authorize(CLIENT_ID, USER))
    expected = load_fixture("withings/requesttoken__success.json")
    assert answer["status"] == 0 and answer["body"].keys() == expected["body"].keys()
    assert answer["body"]["userid"] == USER and answer["body"]["expires_in"] == 10800
    assert answer["body"]["scope"] == "user.info,user.metrics" and answer["body"]["token_type"] == "Bearer"


def test_it_serves_the_withings_api_oauth_client(fake, rsps):
    auth = WithingsAuth(CLIENT_ID, SECRET, CALLBACK, scope=(AuthScope.USER_INFO, AuthScope.USER_METRICS))
    assert requests.get(auth.get_authorize_url()).status_code == 200
    credentials = auth.get_credentials(fake.authorize(CLIENT_ID, USER))
    assert credentials.userid == USER and credentials.expires_in == 10800


def test_it_accepts_a_code_for_30_seconds_only(fake, rsps, clock):
    young = fake.authorize(CLIENT_ID, USER)
    clock.advance(30)
    assert exchange(young)["status"] == 0
    old = fake.authorize(CLIENT_ID, USER)
    clock.advance(31)
    assert exchange(old) == {"status": 503, "body": {}, "error": "Invalid Params: invalid code"}


def test_it_accepts_a_code_once(fake, rsps):
    code = fake.authorize(CLIENT_ID, USER)
    assert exchange(code)["status"] == 0
    assert exchange(code)["status"] == 503
    assert exchange("not-a-code")["status"] == 503


def test_it_rejects_a_wrong_client_secret_without_spending_the_code(fake, rsps):
    code = fake.authorize(CLIENT_ID, USER)
    answer = exchange(code, client_secret="wrong")
    assert answer["status"] == 503 and "invalid_client" in answer["error"]
    assert exchange(code)["status"] == 0


def test_it_rejects_a_redirect_uri_other_than_the_authorized_one(fake, rsps):
    code = fake.authorize(CLIENT_ID, USER, redirect_uri="https://other.example/cb")
    assert exchange(code)["status"] == 503


def test_it_keeps_the_old_refresh_token_until_the_new_access_token_is_used(fake, rsps):
    first = exchange(fake.authorize(CLIENT_ID, USER))["body"]
    second = refresh(first["refresh_token"])["body"]
    assert second["refresh_token"] != first["refresh_token"]
    third = refresh(first["refresh_token"])["body"]  # e.g. a retry after losing the answer
    assert getmeas(third["access_token"])["status"] == 0
    assert refresh(first["refresh_token"]) == load_fixture("withings/requesttoken__invalid_grant.json")
    assert refresh(second["refresh_token"])["status"] == 0


def test_it_kills_a_replaced_refresh_token_after_8_hours(fake, rsps, clock):
    first = fake.issue_tokens(CLIENT_ID, USER)
    refresh(first["refresh_token"])
    clock.advance(8 * 3600 - 1)
    assert refresh(first["refresh_token"])["status"] == 0
    clock.advance(1)
    assert refresh(first["refresh_token"])["status"] == 401


def test_it_keeps_old_access_tokens_alive_for_their_3_hours(fake, rsps, clock):
    first = fake.issue_tokens(CLIENT_ID, USER)
    refresh(first["refresh_token"])
    assert getmeas(first["access_token"])["status"] == 0
    clock.advance(3 * 3600)
    assert getmeas(first["access_token"])["status"] == 401


def test_it_answers_invalid_grant_for_unknown_or_revoked_refresh_tokens(fake, rsps):
    tokens = fake.issue_tokens(CLIENT_ID, USER)
    assert refresh("unknown")["error"] == "invalid_grant"
    fake.revoke_refresh_tokens(USER)
    assert refresh(tokens["refresh_token"]) == {"status": 401, "body": {}, "error": "invalid_grant"}


def test_it_counts_refresh_calls(fake, rsps):
    tokens = exchange(fake.authorize(CLIENT_ID, USER))["body"]
    refresh(tokens["refresh_token"])
    refresh("unknown")
    assert len(fake.calls("POST", "^/v2/oauth2$")) == 3
    assert len(fake.refresh_calls()) == 2


# --- getmeas ------------------------------------------------------------------------------------
def test_it_encodes_values_as_value_times_ten_to_the_unit(fake, rsps):
    fake.add_measurement(
        USER,
        at(0),
        Decimal("80.35"),
        fat_ratio=21.4,
        fat_mass=17.195,
        fat_free_mass=63.155,
        muscle_mass=59.87,
        hydration_kg=45.46,
        bone_mass=3.16,
        visceral_fat=7.4,
        bmr=1734,
        metabolic_age=34,
    )
    fake.add_measurement(USER, at(-86400), 81.4, attrib=2)
    first, manual = getmeas(access_token(fake))["body"]["measuregrps"]
    units = {m["type"]: (m["value"], m["unit"]) for m in first["measures"]}
    assert units[1] == (80350, -3) and units[6] == (21400, -3) and units[76] == (5987, -2)
    assert units[77] == (4546, -2) and units[88] == (316, -2) and units[170] == (74, -1)
    assert units[226] == (1734, 0) and units[227] == (34, 0)
    assert decode(first["measures"][0]) == Decimal("80.350")
    assert manual["measures"][0] == {"value": 8140, "type": 1, "unit": -2, "algo": 0, "fm": 131}
    assert manual["deviceid"] is None and manual["attrib"] == 2


def test_it_keeps_groups_with_a_requested_type_and_drops_other_measures(fake, rsps):
    fake.add_measurement(USER, at(0), 80.3, fat_ratio=21.4)
    fake.add_measurement(USER, at(-10), 80.4)
    fake.add_height(USER, Decimal("1.82"), at(-20))
    token = access_token(fake)
    groups = getmeas(token, meastypes="6,88")["body"]["measuregrps"]
    assert [[m["type"] for m in g["measures"]] for g in groups] == [[6]]
    height = getmeas(token, meastype="4")["body"]["measuregrps"]
    assert [(m["value"], m["unit"]) for g in height for m in g["measures"]] == [(182, -2)]


def test_it_filters_by_category(fake, rsps):
    real = fake.add_measurement(USER, at(0), 80.3)
    goal = fake.add_measurement(USER, at(-5), 75, category=2)
    token = access_token(fake)
    assert [g["grpid"] for g in getmeas(token, category=1)["body"]["measuregrps"]] == [real]
    assert [g["grpid"] for g in getmeas(token, category=2)["body"]["measuregrps"]] == [goal]


def test_it_returns_groups_modified_after_lastupdate(fake, rsps, clock):
    old = fake.add_measurement(USER, at(-86400), 80.3)
    clock.advance(600)
    new = fake.add_measurement(USER, at(0), 80.1)
    token = access_token(fake)
    assert [g["grpid"] for g in getmeas(token, lastupdate=int(T0))["body"]["measuregrps"]] == [new]
    clock.advance(600)
    fake.edit_measurement(old, weight_kg=79.9)
    found = getmeas(token, lastupdate=int(T0 + 600))["body"]["measuregrps"]
    assert [g["grpid"] for g in found] == [old] and found[0]["measures"][0]["value"] == 79900
    assert found[0]["modified"] > found[0]["created"]


def test_it_filters_by_startdate_and_enddate(fake, rsps):
    grpids = [fake.add_measurement(USER, at(-day * 86400), 80 + day) for day in range(5)]
    found = getmeas(access_token(fake), startdate=int(T0 - 3 * 86400), enddate=int(T0 - 86400))
    assert [g["grpid"] for g in found["body"]["measuregrps"]] == grpids[1:4]


def test_it_pages_with_more_and_offset(fake, rsps):
    grpids = fake.seed_daily_history(USER, days=7, end=at(0))
    token, seen, offset, pages = access_token(fake), [], 0, []
    while True:
        body = getmeas(token, offset=offset)["body"]
        seen += [g["grpid"] for g in body["measuregrps"]]
        pages.append((len(body["measuregrps"]), body["more"], body["offset"]))
        if not body["more"]:
            break
        offset = body["offset"]
    assert pages == [(3, 1, 3), (3, 1, 6), (2, 0, 0)]
    assert sorted(seen) == sorted(grpids)


def test_it_answers_401_inside_http_200_for_an_expired_or_unknown_token(fake, rsps):
    token = access_token(fake)
    fake.expire_access_token(token)
    answer = requests.post(f"{API}/measure", data={"action": "getmeas"}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json() == {
        "status": 401,
        "body": {},
        "error": "XRequestID: Not provided invalid_token: The access token provided is invalid",
    }
    assert getmeas("nonsense")["status"] == 401


def test_it_accepts_the_legacy_access_token_parameter(fake, rsps):
    fake.add_measurement(USER, at(0), 80.3)
    answer = requests.get(f"{API}/measure", params={"action": "getmeas", "access_token": access_token(fake)})
    assert answer.json()["status"] == 0 and len(answer.json()["body"]["measuregrps"]) == 1


def test_it_answers_601_for_an_injected_fault_and_then_recovers(fake, rsps):
    token = access_token(fake)
    fake.add_fault(path="^/measure$", body_status=601)
    assert getmeas(token) == load_fixture("withings/status__601.json")
    assert getmeas(token)["status"] == 0


def test_it_answers_601_above_the_rate_limit_per_minute(clock):
    fake = WithingsFake(rate_limit_per_minute=3)
    fake.now = clock
    fake.add_user(userid=USER)
    fake.add_app(CLIENT_ID, SECRET, [CALLBACK])
    token = access_token(fake)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, API)
        assert [getmeas(token)["status"] for _ in range(4)] == [0, 0, 0, 601]
        clock.advance(60)
        assert getmeas(token)["status"] == 0


def test_it_shapes_groups_like_the_fixture(fake, rsps):
    fake.add_measurement(USER, at(0), 80.3, fat_ratio=21.4)
    ours = getmeas(access_token(fake))["body"]
    theirs = load_fixture("withings/getmeas__body_composition.json")["body"]
    assert ours.keys() == theirs.keys()
    assert ours["measuregrps"][0].keys() == theirs["measuregrps"][0].keys()
    assert ours["measuregrps"][0]["measures"][0].keys() == theirs["measuregrps"][0]["measures"][0].keys()


@pytest.mark.parametrize("name", GETMEAS_FIXTURES)
def test_it_has_fixtures_that_withings_api_can_parse(name):
    parsed = MeasureGetMeasResponse(**load_fixture(f"withings/getmeas__{name}.json")["body"])
    assert parsed.measuregrps and parsed.timezone is not None


def test_it_answers_bodies_that_the_withings_api_client_parses(fake, rsps):
    fake.add_measurement(USER, at(0), 80.35, fat_ratio=21.4, visceral_fat=7.4)
    tokens = fake.issue_tokens(CLIENT_ID, USER)
    credentials = Credentials2(**tokens, client_id=CLIENT_ID, consumer_secret=SECRET)
    client = WithingsApi(credentials)
    parsed = client.measure_get_meas(startdate=None, enddate=None, lastupdate=None)
    weights = [m for g in parsed.measuregrps for m in g.measures if m.type == MeasureType.WEIGHT]
    assert weights[0].value == 80350 and parsed.updatetime.int_timestamp == int(T0)
    assert MeasureType.UNKNOWN in {m.type for m in parsed.measuregrps[0].measures}  # its enum lacks 170
    assert isinstance(client.notify_list(), NotifyListResponse)


def test_it_seeds_a_year_of_daily_weigh_ins_with_a_height_group(fake):
    grpids = fake.seed_daily_history(USER, days=365, end=at(0))
    groups = [fake.groups[g] for g in grpids]
    assert len(groups) == 366 and groups[0].types() == {4}
    assert all(g.types() == {1, 5, 6, 8, 76, 77, 88, 170, 226, 227} for g in groups[1:])
    for group in groups[1:]:
        values = {m["type"]: decode(m) for m in group.measures}
        assert Decimal(60) <= values[1] <= Decimal(110)
        assert values[5] + values[8] == values[1]
    assert groups[-1].date <= T0


def test_it_forgets_a_deleted_measurement(fake, rsps):
    grpid = fake.add_measurement(USER, at(0), 80.3)
    fake.delete_measurement(grpid)
    assert getmeas(access_token(fake))["body"]["measuregrps"] == []


def test_with_deletion_shape_empty_a_deleted_group_comes_back_without_measures(fake, rsps, clock):
    fake.deletion_shape = "empty"
    grpid = fake.add_measurement(USER, at(0), 80.3)
    clock.advance(60)
    fake.delete_measurement(grpid)
    token = access_token(fake)
    [changed] = getmeas(token, meastypes="1,6", lastupdate=int(T0) + 30)["body"]["measuregrps"]
    [dated] = getmeas(token, meastypes="1", startdate=int(T0) - 10, enddate=int(T0) + 10)["body"]["measuregrps"]
    assert (changed["grpid"], changed["measures"], changed["modified"]) == (grpid, [], int(T0) + 60)
    assert (dated["grpid"], dated["measures"]) == (grpid, [])


@pytest.mark.parametrize(
    "window, dates",
    [("measured", {"startdate": 1000, "enddate": 1001}), ("now", {"startdate": 5000, "enddate": 5001}), ("none", {})],
)
def test_a_deleted_weigh_in_is_notified_with_the_window_deletion_window_names(fake, clock, window, dates):
    fake.http, fake.deletion_window = StubHttp(), window
    fake.subscriptions.add(USER, 1, HOOK, "")
    grpid = fake.add_measurement(USER, datetime.fromtimestamp(1000, timezone.utc), 80.3)
    clock.t = 5000
    [delivery] = fake.delete_weigh_in(grpid)
    assert delivery.ok and grpid not in fake.groups
    assert fake.http.calls[0][2]["data"] == {"userid": USER, "appli": 1, **dates}


# --- notify -------------------------------------------------------------------------------------
def notify(token: str, **params) -> dict:
    return api_call("/notify", token, **params)


def test_it_subscribes_a_callback_that_answers_the_head_probe(fake, rsps):
    rsps.add(responses.HEAD, HOOK, status=200)
    token = access_token(fake)
    assert notify(token, action="subscribe", callbackurl=HOOK, appli=1, comment="fitsync") == {"status": 0, "body": {}}
    profiles = notify(token, action="list")["body"]["profiles"]
    assert profiles == [{"appli": 1, "callbackurl": HOOK, "comment": "fitsync", "expires": 2147483647}]
    got = notify(token, action="get", callbackurl=HOOK)["body"]
    assert got == {"appli": 1, "callbackurl": HOOK, "comment": "fitsync"}
    assert notify(token, action="list", appli=44)["body"]["profiles"] == []


def test_it_refuses_a_callback_that_fails_the_head_probe(fake, rsps):
    rsps.add(responses.HEAD, HOOK, status=405)
    token = access_token(fake)
    assert notify(token, action="subscribe", callbackurl=HOOK, appli=1)["status"] == 293
    assert notify(token, action="list")["body"]["profiles"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://fitsync.example/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://fitsync.example:8443/hook",
        "https://fitsync.example/" + "a" * 240,
    ],
)
def test_it_refuses_callback_urls_breaking_the_rules_in_strict_mode(fake, rsps, url):
    fake.strict_callback_urls, fake.http = True, StubHttp()
    assert notify(access_token(fake), action="subscribe", callbackurl=url, appli=1)["status"] == 293
    assert fake.http.calls == []


def test_it_revokes_and_answers_294_for_an_unknown_subscription(fake, rsps):
    fake.http = StubHttp()
    token = access_token(fake)
    notify(token, action="subscribe", callbackurl=HOOK, appli=1)
    assert notify(token, action="revoke", callbackurl=HOOK, appli=1)["status"] == 0
    assert notify(token, action="revoke", callbackurl=HOOK, appli=1)["status"] == 294
    assert notify(token, action="get", callbackurl=HOOK, appli=1)["status"] == 294


def test_it_updates_a_subscription(fake, rsps):
    fake.http = StubHttp()
    token = access_token(fake)
    notify(token, action="subscribe", callbackurl=HOOK, appli=1)
    moved = HOOK + "&v=2"
    assert notify(token, action="update", callbackurl=HOOK, appli=1, new_callbackurl=moved, comment="v2")["status"] == 0
    assert notify(token, action="list")["body"]["profiles"][0]["callbackurl"] == moved


def test_it_sends_form_encoded_notifications_with_a_2_second_timeout(fake):
    fake.http = StubHttp()
    fake.subscriptions.add(USER, 1, HOOK, "")
    fake.subscriptions.add(USER, 44, HOOK, "")
    deliveries = fake.notify_user(USER, appli=1, startdate=100, enddate=200)
    assert [(d.ok, d.attempts) for d in deliveries] == [(True, 1)]
    method, url, kwargs = fake.http.calls[0]
    assert (method, url, kwargs["timeout"]) == ("POST", HOOK, 2.0)
    assert kwargs["data"] == {"userid": USER, "appli": 1, "startdate": 100, "enddate": 200}


def test_it_retries_a_failed_delivery(fake):
    fake.http = StubHttp(posts=[500, requests.ReadTimeout("slow"), 200])
    fake.subscriptions.add(USER, 1, HOOK, "")
    [delivery] = fake.notify_user(USER, retries=2, backoff=0)
    assert (delivery.ok, delivery.attempts, delivery.status) == (True, 3, 200)


def test_it_drops_a_subscription_after_repeated_failed_deliveries(fake):
    fake.http = StubHttp(posts=[500])
    fake.subscriptions.add(USER, 1, HOOK, "")
    results = [fake.notify_user(USER, retries=1, backoff=0) for _ in range(4)]
    assert [(r[0].ok, r[0].attempts, r[0].dropped) for r in results][-2:] == [(False, 2, False), (False, 2, True)]
    assert fake.subscriptions.of_user(USER) == [] and fake.notify_user(USER) == []


def test_it_forgives_failures_once_a_delivery_succeeds(fake):
    fake.http = StubHttp(posts=[500, 500, 500, 200, 500, 500, 500])
    fake.subscriptions.add(USER, 1, HOOK, "")
    results = [fake.notify_user(USER, retries=0, backoff=0)[0] for _ in range(7)]
    assert [r.ok for r in results] == [False, False, False, True, False, False, False]
    assert not any(r.dropped for r in results) and len(fake.subscriptions.of_user(USER)) == 1


def test_it_notifies_subscribers_when_someone_steps_on_the_scale(fake, clock):
    fake.http = StubHttp()
    fake.subscriptions.add(USER, 1, HOOK, "")
    grpid = fake.step_on_scale(USER, fat_ratio=20.5)
    date = fake.groups[grpid].date
    assert fake.http.calls[0][2]["data"] == {"userid": USER, "appli": 1, "startdate": date, "enddate": date + 1}
    assert decode(fake.groups[grpid].measures[0]) == Decimal("80.000") and len(fake.deliveries) == 1


# --- over real HTTP -----------------------------------------------------------------------------
class FormReader(HTMLParser):
    """Collects the form's action and its inputs, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input":
            self.fields[attrs["name"]] = attrs.get("value", "")


def test_it_runs_the_authorize_form_flow_over_real_http(fake):
    fake.add_measurement(USER, at(0), 80.3)
    with SandboxServer({"withings": fake}) as server:
        base = server.url_for("withings")
        page = requests.get(f"{base}/oauth2_user/authorize2", params=authorize_query(), timeout=5)
        form = FormReader()
        form.feed(page.text)
        submit = {**form.fields, "decision": "allow"}
        answer = requests.post(urljoin(page.url, form.action), data=submit, allow_redirects=False, timeout=5)
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        tokens = exchange(code, base=base)["body"]
        body = api_call("/measure", tokens["access_token"], base=base, action="getmeas")["body"]
    assert answer.status_code == 302 and answer.headers["Location"].startswith(CALLBACK + "?")
    assert body["timezone"] == "Europe/Berlin" and body["measuregrps"][0]["measures"][0]["value"] == 80300


class Receiver(BaseHTTPRequestHandler):
    """A tiny webhook receiver; on a notification it calls getmeas back, like fitsync will."""

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.server.heads.append(self.path)
        self._answer()

    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.posts.append((self.headers["Content-Type"], form))
        if self.server.status == 200:
            self.server.fetched.append(api_call("/measure", self.server.token, base=self.server.api, action="getmeas"))
        self._answer()

    def _answer(self):
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.heads, server.posts, server.fetched, server.status = [], [], [], 200
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_it_probes_and_notifies_a_real_local_receiver_over_real_http(fake, receiver):
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/withings/notify?token=abc"
    with SandboxServer({"withings": fake}) as server:
        receiver.api, receiver.token = server.url_for("withings"), access_token(fake)
        subscription = {"action": "subscribe", "callbackurl": hook, "appli": 1}
        subscribed = api_call("/notify", receiver.token, base=receiver.api, **subscription)
        grpid = fake.step_on_scale(USER, at(0), weight_kg=79.8)
        receiver.status = 500
        drops = [fake.notify_user(USER, retries=0)[0].dropped for _ in range(4)]
    assert subscribed["status"] == 0 and receiver.heads == ["/withings/notify?token=abc"]
    content_type, form = receiver.posts[0]
    assert content_type == "application/x-www-form-urlencoded"
    date = int(T0)
    assert form == {"userid": [str(USER)], "appli": ["1"], "startdate": [str(date)], "enddate": [str(date + 1)]}
    assert [g["grpid"] for g in receiver.fetched[0]["body"]["measuregrps"]] == [grpid]
    assert drops == [False, False, False, True] and fake.subscriptions.of_user(USER) == []
