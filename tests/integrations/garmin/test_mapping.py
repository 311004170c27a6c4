"""BodyMeasurement -> FIT WeightRecord, and the dedup tolerance at its edges."""

from datetime import timedelta
from decimal import Decimal

import pytest

from integrations.garmin.client import WeighIn
from integrations.garmin.fit import encode_weight_file
from integrations.garmin.mapping import (
    is_same_weigh_in,
    matching_weigh_in,
    record_hash,
    sent_values,
    weight_record_from_measurement,
)
from sandbox.fit_decode import decode_weight_file
from tests.integrations.garmin.fixtures import MORNING, measurement

SECONDS, KG = 120, Decimal("0.1")


def test_it_maps_every_body_composition_field():
    record = weight_record_from_measurement(measurement())
    decoded = decode_weight_file(encode_weight_file([record], time_created=MORNING))[0]
    assert decoded["timestamp"] == MORNING
    assert decoded["weight_kg"] == Decimal("80.35")
    assert decoded["percent_fat"] == Decimal("20.14")
    assert decoded["percent_hydration"] == Decimal("55.22")  # 44.37 kg of 80.35 kg, rounded half-up
    assert decoded["bone_mass_kg"] == Decimal("3.21")
    assert decoded["muscle_mass_kg"] == Decimal("61.25")
    assert decoded["visceral_fat_rating"] == 7  # Withings' type 170 is an index, not a mass
    assert decoded["visceral_fat_mass_kg"] is None
    assert decoded["basal_met"] is None  # Withings gives no unit for BMR (type 226): not sent
    assert decoded["metabolic_age"] is None  # nor for metabolic age (type 227)
    assert decoded["bmi"] == Decimal("25.4")  # FIT keeps BMI to 0.1: 25.36 rounds half-up


def test_it_leaves_out_what_the_scale_did_not_measure():
    bare = measurement(
        fat_ratio_pct=None,
        hydration_kg=None,
        bone_mass_kg=None,
        muscle_mass_kg=None,
        visceral_fat=None,
        bmr_kcal=None,
        metabolic_age=None,
        bmi=None,
    )
    values = sent_values(weight_record_from_measurement(bare))
    assert set(values) == {"timestamp", "weight_kg"}


def test_it_refuses_a_measurement_without_weight():
    with pytest.raises(ValueError):
        weight_record_from_measurement(measurement(weight="0"))


def test_the_hash_changes_only_when_the_uploaded_file_would():
    base = record_hash(weight_record_from_measurement(measurement()))
    assert record_hash(weight_record_from_measurement(measurement(weight="80.351"))) == base  # same 0.01 kg
    assert record_hash(weight_record_from_measurement(measurement(weight="80.36"))) != base
    assert record_hash(weight_record_from_measurement(measurement(fat_ratio_pct=Decimal("20.2")))) != base


def garmin_entry(seconds: float = 0, kg: str = "80.35", pk: str = "1") -> WeighIn:
    return WeighIn(pk, "2026-01-15", MORNING + timedelta(seconds=seconds), Decimal(kg))


@pytest.mark.parametrize(
    ("seconds", "kg", "same"),
    [
        (0, "80.35", True),
        (120, "80.35", True),
        (-120, "80.35", True),
        (121, "80.35", False),
        (-121, "80.35", False),
        (0, "80.45", True),
        (0, "80.25", True),
        (0, "80.46", False),
        (0, "80.24", False),
        (120, "80.45", True),
        (121, "80.45", False),
    ],
)
def test_it_counts_a_weigh_in_as_the_same_at_the_tolerance_edges(seconds, kg, same):
    record = weight_record_from_measurement(measurement())
    assert is_same_weigh_in(record, garmin_entry(seconds, kg), SECONDS, KG) is same


def test_it_picks_the_closest_match_and_skips_ignored_ones():
    record = weight_record_from_measurement(measurement())
    near, far = garmin_entry(5, pk="near"), garmin_entry(90, pk="far")
    assert matching_weigh_in(record, [far, near], SECONDS, KG).sample_pk == "near"
    assert matching_weigh_in(record, [far, near], SECONDS, KG, ignore={"near"}).sample_pk == "far"
    assert matching_weigh_in(record, [garmin_entry(500)], SECONDS, KG) is None
