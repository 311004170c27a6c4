"""The fake Garmin's activities, called by the real garminconnect 0.3.20 over real HTTP."""

import io
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from garminconnect import Garmin, GarminConnectConnectionError, GarminConnectNotFoundError

from integrations.garmin.fit import WeightRecord, encode_weight_file
from integrations.garmin.strength_activity import StrengthTarget, activity_from_workout
from integrations.garmin.strength_fit import encode_strength_activity
from integrations.hevy.mapping import workout_from_hevy
from sandbox.fit_activity import fit_file_type, read_activity
from sandbox.garmin import GarminFake, point_at
from sandbox.server import SandboxServer
from tests.conftest import load_fixture

EMAIL, PASSWORD = "ada@example.com", "correct horse"
WORKOUT = workout_from_hevy(load_fixture("hevy/workout__supersets.json"))  # Push A, 2024-05-14 15:42-17:01 UTC
ACTIVITY = activity_from_workout(WORKOUT, StrengthTarget("Europe/Berlin", Decimal("80")))


@pytest.fixture(params=[0, 1], ids=lambda hidden: f"hidden_reads={hidden}")
def fake(request) -> GarminFake:
    fake = GarminFake()
    fake.upload_hidden_reads = request.param
    fake.add_user(EMAIL, PASSWORD, display_name="ada.l", timezone="Europe/Berlin")
    return fake


@pytest.fixture
def garmin(fake) -> Garmin:
    with SandboxServer({"garmin": fake}) as server:
        client = point_at(Garmin(EMAIL, PASSWORD, retry_attempts=0), server.url_for("garmin"))
        client.login()
        yield client


def upload(garmin: Garmin, data: bytes, name: str = "activity.fit") -> dict:
    return garmin.client.post("connectapi", "/upload-service/upload", files={"file": (name, data)}, api=True)


def listed(garmin: Garmin) -> list[dict]:
    return garmin.get_activities_by_date("2024-05-13", "2024-05-15")


def test_an_uploaded_activity_file_becomes_an_activity_with_its_times_and_calories(fake, garmin, tmp_path):
    data = encode_strength_activity(ACTIVITY)
    path = tmp_path / "push-a.fit"
    path.write_bytes(data)
    result = garmin.upload_activity(str(path))["detailedImportResult"]  # the library's own call
    if fake.upload_hidden_reads:
        assert result["successes"] == [] and listed(garmin) == []  # 202: still processing
    else:
        assert [s["internalId"] for s in result["successes"]] == [fake.activities(EMAIL)[0]["activityId"]]
    [entry] = listed(garmin)
    assert entry["startTimeGMT"] == "2024-05-14 15:42:07" and entry["startTimeLocal"] == "2024-05-14 17:42:07"
    assert entry["activityType"]["typeKey"] == "strength_training" and entry["manufacturer"] == "DEVELOPMENT"
    assert entry["calories"] == ACTIVITY.calories_kcal and entry["duration"] == ACTIVITY.duration_s
    assert fake.weigh_ins(EMAIL) == []


def test_name_and_description_are_set_the_activity_read_downloaded_and_deleted(fake, garmin):
    upload(garmin, encode_strength_activity(ACTIVITY))
    fake.finish_activity_processing(EMAIL)
    activity_id = str(fake.activities(EMAIL)[0]["activityId"])
    garmin.set_activity_name(activity_id, "Push A")
    garmin.update_activity(activity_id, {"description": "Bench 80 kg × 5"})
    detail = garmin.get_activity(activity_id)
    assert (detail["activityName"], detail["description"]) == ("Push A", "Bench 80 kg × 5")
    assert detail["summaryDTO"]["startTimeGMT"] == "2024-05-14T15:42:07.0"

    original = garmin.download_activity(activity_id, Garmin.ActivityDownloadFormat.ORIGINAL)
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        assert archive.namelist() == [f"{activity_id}_ACTIVITY.fit"]
        assert archive.read(archive.namelist()[0]) == encode_strength_activity(ACTIVITY)

    garmin.delete_activity(activity_id)
    assert fake.activities(EMAIL) == []
    with pytest.raises(GarminConnectNotFoundError):
        garmin.get_activity(activity_id)
    with pytest.raises(GarminConnectNotFoundError):
        garmin.delete_activity(activity_id)


@pytest.mark.parametrize("duplicates", ["reject", "accept"])
def test_a_second_upload_of_the_same_file_is_rejected_or_filed_again(fake, garmin, duplicates):
    fake.activity_duplicates = duplicates
    data = encode_strength_activity(ACTIVITY)
    upload(garmin, data)
    if duplicates == "reject":
        with pytest.raises(GarminConnectConnectionError, match="409") as raised:
            upload(garmin, data)
        failure = raised.value.response.json()["detailedImportResult"]["failures"][0]
        assert failure["messages"][0]["content"] == "Duplicate Activity."
        assert failure["internalId"] == (fake.activities(EMAIL) + fake.activity_processing(EMAIL))[0]["activityId"]
    else:
        upload(garmin, data)
    fake.finish_activity_processing(EMAIL)
    assert len(fake.activities(EMAIL)) == (1 if duplicates == "reject" else 2)


def test_a_watch_recording_is_listed_with_heart_rate_and_its_calories_and_downloads_as_the_watch_wrote_it(fake, garmin):
    start = datetime(2024, 5, 14, 15, 40, tzinfo=UTC)
    fake.add_watch_activity(EMAIL, start, start + timedelta(minutes=85), calories=412)
    [entry] = listed(garmin)
    assert (entry["activityName"], entry["manufacturer"], entry["calories"]) == ("Strength", "GARMIN", 412)
    assert entry["activityType"]["typeKey"] == "strength_training" and 95 <= entry["averageHR"] <= entry["maxHR"]
    original = garmin.download_activity(str(entry["activityId"]), Garmin.ActivityDownloadFormat.ORIGINAL)
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        recorded = read_activity(archive.read(archive.namelist()[0]))
    assert recorded.calories == 412 and len(recorded.heart_rates) == 85 * 12 + 1
    assert recorded.heart_rates[0] == (start, 95)


def test_the_fake_tells_a_weight_file_from_an_activity_by_its_file_id_type():
    morning = datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
    data = encode_weight_file([WeightRecord(morning, Decimal("80.35"))], time_created=morning)
    assert fit_file_type(data) == "weight" and fit_file_type(encode_strength_activity(ACTIVITY)) == "activity"
    assert fit_file_type(b"not a fit file") is None
