"""The real garminconnect 0.3.20 against the Garmin fake over real HTTP (curl_cffi ignores mocks)."""

import calendar
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from garminconnect import (
    Garmin,
    GarminConnectAuthenticationError,
    GarminConnectConnectionError,
    GarminConnectTooManyRequestsError,
)

from integrations.garmin.fit import WeightRecord, encode_weight_file
from sandbox.garmin import EU_CONSENT_MESSAGE, GarminFake, point_at
from sandbox.garmin_sso import DI_TOKEN_PATH
from sandbox.mock import mount
from sandbox.server import SandboxServer
from tests.conftest import load_fixture

EMAIL, MFA_EMAIL, PASSWORD = "ada@example.com", "grace@example.com", "correct horse"
BERLIN = ZoneInfo("Europe/Berlin")
# 23:30 UTC on the 14th is 00:30 on the 15th in Berlin: Garmin files it under the 15th.
LATE_EVENING_UTC = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)


# Every unconfirmed Garmin behaviour the fake can switch: (hidden listing reads after an upload, rotation).
SETTINGS = [(0, True), (1, True), (0, False), (1, False)]


@pytest.fixture(params=SETTINGS, ids=lambda s: f"hidden_reads={s[0]},rotate={s[1]}")
def fake(request) -> GarminFake:
    fake = GarminFake()
    fake.upload_hidden_reads, fake.rotate_refresh_tokens = request.param
    fake.add_user(EMAIL, PASSWORD, display_name="ada.l", full_name="Ada L", timezone="Europe/Berlin")
    fake.add_user(MFA_EMAIL, PASSWORD, mfa=True)
    return fake


@pytest.fixture
def base_url(fake):
    with SandboxServer({"garmin": fake}) as server:
        yield server.url_for("garmin")


@pytest.fixture
def garmin(base_url) -> Garmin:
    client = point_at(Garmin(EMAIL, PASSWORD, retry_attempts=0), base_url)
    client.login()
    return client


def new_garmin(base_url, *args, **kwargs) -> Garmin:
    return point_at(Garmin(*args, retry_attempts=0, **kwargs), base_url)


def paths(fake) -> list[str]:
    return [f"{e.method} {e.path}" for e in fake.ledger]


def weight_file(*records: WeightRecord) -> bytes:
    return encode_weight_file(list(records), time_created=datetime.now(UTC))


def upload(garmin: Garmin, data: bytes) -> dict:
    """fitsync's way: bytes straight to the client's upload call, no temporary file."""
    files = {"file": ("weight.fit", data)}
    return garmin.client.post("connectapi", "/upload-service/upload", files=files, api=True)


def epoch_ms(moment: datetime) -> int:
    return calendar.timegm(moment.timetuple()) * 1000


# --- login -----------------------------------------------------------------------------------------


def test_it_logs_in_without_mfa(fake, garmin):
    assert (garmin.display_name, garmin.full_name, garmin.unit_system) == ("ada.l", "Ada L", "metric")
    assert paths(fake)[:3] == [
        "GET /mobile/sso/en_US/sign-in",
        "POST /mobile/api/login",
        f"POST {DI_TOKEN_PATH}",
    ]
    login = fake.calls("POST", "/mobile/api/login")[0]
    assert login.query["clientId"] == "GCM_IOS_DARK"
    assert "SESSION=" in login.headers["cookie"]
    exchange = fake.calls("POST", DI_TOKEN_PATH)[0]
    assert exchange.form()["client_id"] == "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"
    assert exchange.headers["authorization"].startswith("Basic ")
    tokens = json.loads(garmin.client.dumps())
    assert tokens["di_client_id"] == "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"


def test_it_logs_in_through_the_portal_strategy_too(fake, base_url):
    client = new_garmin(base_url, EMAIL, PASSWORD)
    point_at(client, base_url, strategies=("portal+requests",))
    client.login()
    assert client.display_name == "ada.l"
    assert paths(fake)[:2] == ["GET /portal/sso/en-US/sign-in", "POST /portal/api/login"]


def test_it_logs_in_with_mfa_resumed_on_a_new_instance(fake, base_url):
    status, state = new_garmin(base_url, MFA_EMAIL, PASSWORD, return_on_mfa=True).login()
    assert status == "needs_mfa"
    assert fake.calls("POST", "/mobile/api/login")[0].status == 200
    stored = json.loads(json.dumps(state))  # what fitsync keeps (encrypted) between two requests

    resumed = new_garmin(base_url)
    resumed.resume_login(stored, fake.current_mfa_code(MFA_EMAIL))

    assert resumed.display_name == "grace"
    assert json.loads(resumed.client.dumps())["di_token"]
    assert fake.current_mfa_code(MFA_EMAIL) is None
    assert "SESSION=" in fake.calls("POST", "/mobile/api/mfa/verifyCode")[0].headers["cookie"]


def test_it_keeps_the_mfa_state_usable_after_a_wrong_code(fake, base_url):
    _, state = new_garmin(base_url, MFA_EMAIL, PASSWORD, return_on_mfa=True).login()
    code = fake.current_mfa_code(MFA_EMAIL)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    with pytest.raises(GarminConnectAuthenticationError, match="MFA verification failed"):
        new_garmin(base_url).resume_login(json.loads(json.dumps(state)), wrong)
    resumed = new_garmin(base_url)
    resumed.resume_login(json.loads(json.dumps(state)), code)

    assert resumed.display_name == "grace"


def test_it_refuses_a_wrong_password(fake, base_url):
    with pytest.raises(GarminConnectAuthenticationError):
        new_garmin(base_url, EMAIL, "wrong").login()
    assert not fake.calls("POST", DI_TOKEN_PATH)


def test_it_answers_429_while_login_is_rate_limited(fake, base_url):
    fake.login_rate_limited = True
    with pytest.raises(GarminConnectTooManyRequestsError):
        new_garmin(base_url, EMAIL, PASSWORD).login()
    assert {e.status for e in fake.ledger} == {429}


def test_its_api_answers_429_above_the_hidden_rate_limit_and_recovers_after_a_second(fake, garmin):
    now = [100.0]  # the limiter's clock stands still, so the count does not depend on machine speed
    fake.api_rate_limit_per_s, fake.monotonic = 2, lambda: now[0]
    listing = "/activitylist-service/activities/search/activities"
    assert [garmin.get_activities_by_date("2026-01-14", "2026-01-15") for _ in range(2)] == [[], []]
    with pytest.raises(GarminConnectTooManyRequestsError):
        garmin.get_activities_by_date("2026-01-14", "2026-01-15")
    now[0] += 1.0
    assert garmin.get_activities_by_date("2026-01-14", "2026-01-15") == []
    assert [e.status for e in fake.calls("GET", listing)] == [200, 200, 429, 200]


def test_it_restores_a_session_from_dumped_tokens(fake, base_url, garmin):
    tokens = garmin.client.dumps()
    fake.clear_ledger()

    restored = new_garmin(base_url)
    restored.login(tokens)

    assert restored.display_name == "ada.l"
    assert not fake.calls(path="/api/login|sign-in|" + DI_TOKEN_PATH)


def test_it_refreshes_a_token_near_expiry_and_rotates_the_refresh_token_if_set_to(fake, base_url, garmin):
    before = json.loads(garmin.client.dumps())
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=23, minutes=50)):
        restored = new_garmin(base_url)
        restored.login(json.dumps(before))
        restored.get_daily_weigh_ins("2026-01-15")
    after = json.loads(restored.client.dumps())

    assert len(fake.refresh_calls()) == 1
    assert after["di_token"] != before["di_token"]
    rotated = after["di_refresh_token"] != before["di_refresh_token"]
    assert rotated == fake.rotate_refresh_tokens == fake.refresh_tokens[before["di_refresh_token"]].revoked


def test_it_refreshes_once_and_retries_when_the_api_answers_401(fake, garmin):
    fake.expire_access_tokens(EMAIL)
    assert garmin.get_daily_weigh_ins("2026-01-15")["dateWeightList"] == []
    assert len(fake.refresh_calls()) == 1
    statuses = [e.status for e in fake.calls("GET", "/weight-service/weight/dayview/")]
    assert statuses == [401, 200]


def test_it_refuses_api_calls_with_revoked_tokens(fake, garmin):
    fake.revoke_tokens(EMAIL)
    with pytest.raises(GarminConnectAuthenticationError):
        garmin.get_daily_weigh_ins("2026-01-15")


def test_it_serves_api_calls_through_responses_with_seeded_tokens(fake):
    # Login needs real HTTP (curl_cffi ignores requests mocks); API calls go through plain requests.
    base = "https://connectapi.garmin.test"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, fake, base)
        client = point_at(Garmin(retry_attempts=0), base)
        client.login(fake.tokens_for(EMAIL))
        upload(client, weight_file(WeightRecord(LATE_EVENING_UTC, 80.35)))
        fake.finish_processing(EMAIL)
        entries = client.get_daily_weigh_ins("2026-01-15")["dateWeightList"]
    assert client.display_name == "ada.l"
    assert [e["weight"] for e in entries] == [80350]


# --- weigh-ins -------------------------------------------------------------------------------------


def test_it_turns_an_uploaded_fit_into_a_weigh_in(fake, garmin, tmp_path):
    record = WeightRecord(LATE_EVENING_UTC, 80.35, percent_fat=20.1, muscle_mass_kg=61.25, bmi=25.36)
    path = tmp_path / "weight.fit"
    path.write_bytes(weight_file(record))

    result = garmin.upload_activity(str(path))

    assert result["detailedImportResult"]["fileName"] == "weight.fit"
    assert fake.calls("POST", "/upload-service/upload")[0].status == 202
    fake.finish_processing(EMAIL)
    (day,) = garmin.get_weigh_ins("2026-01-14", "2026-01-16")["dailyWeightSummaries"]
    entry = day["latestWeight"]
    assert day["summaryDate"] == entry["calendarDate"] == "2026-01-15"
    assert entry["weight"] == 80350
    assert (entry["bodyFat"], entry["muscleMass"], entry["bmi"]) == (20.1, 61250, 25.4)
    assert entry["timestampGMT"] == int(LATE_EVENING_UTC.timestamp()) * 1000
    assert entry["date"] == epoch_ms(LATE_EVENING_UTC.astimezone(BERLIN))
    assert entry["date"] - entry["timestampGMT"] == 3600 * 1000
    assert len(str(entry["samplePk"])) == 13
    assert garmin.get_daily_weigh_ins("2026-01-15")["dateWeightList"] == [entry]
    assert garmin.get_body_composition("2026-01-15")["dateWeightList"] == [entry]


def test_it_creates_a_new_weigh_in_for_every_upload(fake, garmin):
    data = weight_file(WeightRecord(LATE_EVENING_UTC, 80.35))
    upload(garmin, data)
    upload(garmin, data)
    fake.finish_processing(EMAIL)

    entries = garmin.get_daily_weigh_ins("2026-01-15")["dateWeightList"]
    assert [e["weight"] for e in entries] == [80350, 80350]
    assert len({e["samplePk"] for e in entries}) == 2
    assert [e["weightDelta"] for e in fake.weigh_ins(EMAIL)] == [None, 0]


def test_it_stores_every_record_of_a_multi_record_file(fake, garmin):
    records = [WeightRecord(LATE_EVENING_UTC + timedelta(days=i), 80 + i) for i in range(3)]
    upload(garmin, weight_file(*records))
    fake.finish_processing(EMAIL)
    assert [e["calendarDate"] for e in fake.weigh_ins(EMAIL)] == [
        "2026-01-15",
        "2026-01-16",
        "2026-01-17",
    ]


def test_it_deletes_a_weigh_in_by_sample_pk(fake, garmin):
    keep = fake.add_weigh_in(EMAIL, LATE_EVENING_UTC, 81)
    drop = fake.add_weigh_in(EMAIL, LATE_EVENING_UTC + timedelta(hours=1), 80)

    garmin.delete_weigh_in(drop["samplePk"], "2026-01-15")

    assert [e["samplePk"] for e in fake.weigh_ins(EMAIL)] == [keep["samplePk"]]
    with pytest.raises(GarminConnectConnectionError, match="404"):
        garmin.delete_weigh_in(drop["samplePk"], "2026-01-15")


def test_it_answers_412_when_eu_upload_consent_is_missing(fake, garmin):
    fake.upload_consent_missing = True
    with pytest.raises(GarminConnectConnectionError, match="API Error 412") as error:
        upload(garmin, weight_file(WeightRecord(LATE_EVENING_UTC, 80)))
    assert EU_CONSENT_MESSAGE in str(error.value)
    assert fake.weigh_ins(EMAIL) == fake.processing(EMAIL) == []


def test_it_answers_409_for_a_duplicate_when_asked(fake, garmin):
    fake.upload_duplicate = True
    with pytest.raises(GarminConnectConnectionError, match="API Error 409 - Duplicate Activity"):
        upload(garmin, weight_file(WeightRecord(LATE_EVENING_UTC, 80)))


def test_it_rejects_a_corrupt_fit_file(fake, garmin):
    data = bytearray(weight_file(WeightRecord(LATE_EVENING_UTC, 80)))
    data[-1] ^= 0xFF
    with pytest.raises(GarminConnectConnectionError, match="CRC mismatch"):
        upload(garmin, bytes(data))


@pytest.mark.parametrize("hidden_reads", [1, 3])
def test_an_upload_is_listed_only_after_the_configured_number_of_reads(fake, garmin, hidden_reads):
    fake.upload_hidden_reads = hidden_reads
    upload(garmin, weight_file(WeightRecord(LATE_EVENING_UTC, 80.35)))

    listings = [len(garmin.get_daily_weigh_ins("2026-01-15")["dateWeightList"]) for _ in range(hidden_reads + 1)]

    assert listings == [0] * hidden_reads + [1]
    assert fake.processing(EMAIL) == [] and len(fake.weigh_ins(EMAIL)) == 1


def test_an_upload_is_listed_after_the_configured_time_whatever_the_reads(fake, garmin):
    fake.upload_hidden_reads, fake.upload_listed_within = 100, 30.0
    upload(garmin, weight_file(WeightRecord(LATE_EVENING_UTC, 80.35)))
    assert garmin.get_weigh_ins("2026-01-14", "2026-01-16")["dailyWeightSummaries"] == []
    assert len(fake.processing(EMAIL)) == 1

    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31)):
        fake.clear_ledger()  # a read with the same (still valid) access token
        (day,) = garmin.get_weigh_ins("2026-01-14", "2026-01-16")["dailyWeightSummaries"]
    assert day["latestWeight"]["weight"] == 80350


def test_a_refresh_token_expires_after_30_days_unless_rotated_by_a_refresh(fake, base_url, garmin):
    tokens = garmin.client.dumps()
    day = timedelta(days=1)
    with time_machine.travel(datetime.now(UTC) + 29 * day):
        kept = new_garmin(base_url)
        kept.login(tokens)  # the access token expired long ago: refreshed on load
    with time_machine.travel(datetime.now(UTC) + 31 * day):
        late = new_garmin(base_url)
        with pytest.raises(GarminConnectAuthenticationError):
            late.login(tokens)  # the original refresh token: refused after 30 days either way
        renewed = new_garmin(base_url)
        if fake.rotate_refresh_tokens:
            renewed.login(kept.client.dumps())  # the one issued on day 29 lives until day 59
            assert renewed.display_name == "ada.l"
        else:
            with pytest.raises(GarminConnectAuthenticationError):
                renewed.login(kept.client.dumps())  # never renewed: the login's 30 days are up


def test_it_serves_the_range_shape_newest_day_first(fake, garmin):
    day = datetime(2026, 3, 10, 7, 0, tzinfo=BERLIN)
    for offset, kg in ((-5, 82), (0, 81), (0.5, 80.5), (2, 80), (9, 79)):
        fake.add_weigh_in(EMAIL, day + timedelta(days=offset), kg, percent_fat=20)

    answer = garmin.get_weigh_ins("2026-03-09", "2026-03-14")

    summaries = answer["dailyWeightSummaries"]
    assert [s["summaryDate"] for s in summaries] == ["2026-03-12", "2026-03-10"]
    assert [e["weight"] for e in summaries[1]["allWeightMetrics"]] == [80500, 81000]
    assert (summaries[1]["minWeight"], summaries[1]["maxWeight"]) == (80500, 81000)
    assert summaries[1]["numOfWeightEntries"] == 2
    assert answer["previousDateWeight"]["weight"] == 82000
    assert answer["nextDateWeight"]["weight"] == 79000
    assert answer["totalAverage"]["weight"] == pytest.approx((81000 + 80500 + 80000) / 3)
    assert answer["totalAverage"]["from"] == epoch_ms(datetime(2026, 3, 9))


def test_it_serves_an_empty_range_with_null_averages(garmin):
    answer = garmin.get_weigh_ins("2026-03-09", "2026-03-14")
    assert answer["dailyWeightSummaries"] == []
    assert answer["totalAverage"]["weight"] is None
    assert answer["previousDateWeight"]["weight"] is None


def test_it_serves_the_users_timezone_where_garminconnect_reads_it(garmin):
    assert garmin.get_user_timezone() == "Europe/Berlin"


def shape(value):
    """Keys and value types, recursively: what a client parsing the payload relies on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def test_it_still_matches_the_saved_garmin_fixtures(fake, garmin):
    # tests/fixtures/garmin/*.json were captured from this fake (section 4.6 shapes) for client tests.
    fake.add_weigh_in(EMAIL, datetime(2026, 1, 13, 7, 5, tzinfo=BERLIN), 81.2, percent_fat=21.3)
    composition = {"percent_fat": 20.1, "percent_hydration": 55.2, "bone_mass_kg": 3.2, "muscle_mass_kg": 61.25}
    fake.add_weigh_in(EMAIL, datetime(2026, 1, 15, 0, 30, tzinfo=BERLIN), 80.35, bmi=25.4, **composition)
    fake.add_weigh_in(EMAIL, datetime(2026, 1, 15, 21, 10, tzinfo=BERLIN), 80.9)
    answer = garmin.get_weigh_ins("2026-01-14", "2026-01-16")
    accepted = upload(garmin, weight_file(WeightRecord(LATE_EVENING_UTC, 80)))
    fake.finish_processing(EMAIL)

    assert shape(answer) == shape(load_fixture("garmin/weight_range.json"))
    assert shape(garmin.get_daily_weigh_ins("2026-01-15")) == shape(load_fixture("garmin/weight_dayview.json"))
    assert shape(accepted) == shape(load_fixture("garmin/upload__accepted.json"))
