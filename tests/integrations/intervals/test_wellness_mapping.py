"""The wellness route's pure parts: which fields an athlete gets, a weigh-in's share of its local day, a
day's values by the pick, and the PUT that brings a day's record to them."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.intervals.wellness.fields import fields_sent, wellness_field_codes
from integrations.intervals.wellness.mapping import WellnessTarget, day_values, reading_from_measurement
from integrations.intervals.wellness.writes import CLEAR, day_change
from tests.integrations.garmin.fixtures import measurement

EVENING = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def custom_item(code: str, item_type: str = "INPUT_FIELD", field_type: str = "numeric") -> dict:
    return {"id": 1, "type": item_type, "name": code, "content": {"code": code, "name": code, "type": field_type}}


def test_only_numeric_custom_wellness_fields_with_a_known_code_are_filled():
    items = [
        custom_item("MuscleMass"),
        custom_item("musclemass"),  # codes are case-sensitive
        custom_item("BoneMass", field_type="text"),
        custom_item("BMI", item_type="ACTIVITY_FIELD"),
        custom_item("HRVScore"),  # the athlete's, not one fitsync fills
        {"type": "INPUT_FIELD", "content": None},
    ]
    assert wellness_field_codes(items) == {"MuscleMass", "musclemass", "HRVScore"}
    assert [field.name for field in fields_sent(wellness_field_codes(items))] == ["weight", "bodyFat", "MuscleMass"]
    assert "hydration" not in {field.name for field in fields_sent({"BodyWater", "BodyWaterPercent"})}


@pytest.mark.parametrize(
    "zone, day",
    [("Europe/Berlin", "2026-12-01"), ("America/Los_Angeles", "2026-11-30"), ("Mars/Olympus", "2026-11-30")],
)
def test_a_weigh_in_belongs_to_its_local_day_in_its_withings_timezone(zone, day):
    reading = reading_from_measurement(replace(measurement(at=EVENING), timezone=zone), WellnessTarget())
    assert reading.day == day


def test_a_reading_carries_the_fields_the_athlete_gets_to_two_decimals():
    target = WellnessTarget("last", frozenset({"BodyWaterPercent", "VisceralFat", "BMR"}))
    reading = reading_from_measurement(measurement(weight="80.355", fat_ratio_pct=None), target)
    assert reading.values == {"weight": "80.36", "BodyWaterPercent": "55.22", "VisceralFat": "7.00", "BMR": "1745.00"}
    assert (reading.pick, reading.codes, reading.target) == ("last", ("BMR", "BodyWaterPercent", "VisceralFat"), target)
    assert reading.digest() != replace(reading, pick="first").digest() != replace(reading, codes=()).digest()


def test_a_days_values_are_picked_field_by_field_in_measurement_order():
    def at(hour: int, **values: str):
        return replace(
            reading_from_measurement(measurement(str(hour)), WellnessTarget()), at=f"T{hour:02}", values=values
        )

    readings = [at(20, weight="80.10", bodyFat="19.90"), at(7, weight="80.90"), at(12, weight="80.50", bodyFat="20.30")]
    assert day_values(readings, "first") == {"weight": Decimal("80.90"), "bodyFat": Decimal("20.30")}
    assert day_values(readings, "last") == {"weight": Decimal("80.10"), "bodyFat": Decimal("19.90")}
    assert day_values(readings, "average") == {"weight": Decimal("80.50"), "bodyFat": Decimal("20.10")}
    assert day_values([], "first") == {}


def test_the_put_keeps_the_whole_record_and_clears_only_what_still_holds_fitsyncs_value():
    current = {
        "id": "2026-11-30",
        "weight": 80.34999847,  # Intervals.icu's float of 80.35
        "bodyFat": 21.0,  # typed by the athlete after fitsync sent 20.14
        "MuscleMass": 61.25,
        "comments": "race week",
        "locked": False,  # the athlete's alone: never sent back, so a lock set meanwhile stays
        "ctl": 41.2,
        "updated": "2026-11-30T07:00:00Z",
        "hrv": None,
    }
    sent = {"weight": {"80.35"}, "bodyFat": {"20.14"}, "MuscleMass": {"61.20", "61.25"}}
    change = day_change(current, {"weight": Decimal("80.35")}, sent)
    assert change.cleared == ("MuscleMass",)
    assert change.record == {
        "id": "2026-11-30",
        "weight": 80.34999847,
        "bodyFat": 21.0,
        "MuscleMass": CLEAR,
        "comments": "race week",
    }
    assert (
        day_change(
            current, {"weight": Decimal("80.35"), "bodyFat": Decimal("21.00"), "MuscleMass": Decimal("61.25")}, sent
        ).record
        is None
    )
    assert day_change(current, {"weight": Decimal("79.90")}, {}).record["weight"] == 79.9
