"""Realistic getmeas payloads -> BodyMeasurement: exact values, grouping, ambiguity, height, unknowns."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fitsync.records import measurement_from_jsonable
from integrations.withings import mapping
from integrations.withings.roles import measurement_snapshot, title_of
from sandbox.withings import as_strings
from tests.conftest import load_fixture


def groups_of(name: str) -> tuple[list[dict], str]:
    body = load_fixture(f"withings/getmeas__{name}.json")["body"]
    return body["measuregrps"], body["timezone"]


def test_it_computes_value_times_ten_to_the_unit_exactly():
    assert mapping.decode({"value": 80350, "unit": -3}) == Decimal("80.350")
    assert mapping.decode({"value": 5987, "unit": -2}) == Decimal("59.87")
    assert mapping.decode({"value": 1734, "unit": 0}) == Decimal("1734")
    assert mapping.decode({"value": 7, "unit": 2}) == Decimal("700")
    assert str(mapping.decode({"value": 3, "unit": -1})) == "0.3"  # never 0.30000000000000004


def test_it_maps_every_body_composition_field_of_a_scale_group():
    groups, tz = groups_of("body_composition")
    m = mapping.measurement_from_group(groups[0], tz, Decimal("1.82"))
    assert (m.source_id, m.timezone, m.attrib) == ("5120004711", "Europe/Berlin", 0)
    assert m.measured_at == datetime.fromtimestamp(1737353412, UTC)
    assert (m.weight_kg, m.fat_free_mass_kg, m.fat_ratio_pct, m.fat_mass_kg) == (
        Decimal("80.350"),
        Decimal("63.145"),
        Decimal("21.412"),
        Decimal("17.205"),
    )
    assert (m.muscle_mass_kg, m.hydration_kg, m.bone_mass_kg) == (Decimal("59.87"), Decimal("45.46"), Decimal("3.16"))
    assert (m.visceral_fat, m.bmr_kcal, m.metabolic_age) == (Decimal("7.4"), Decimal("1734"), Decimal("34"))
    assert m.height_m == Decimal("1.82") and m.bmi == Decimal("24.26")  # 80.35 / 1.82²
    assert m.extra == {} and m.modified == 1737353436


def test_it_gives_hydration_as_kilograms_and_percent_of_weight_in_the_snapshot():
    groups, tz = groups_of("body_composition")
    m = mapping.measurement_from_group(groups[0], tz, None)
    snapshot = measurement_snapshot(m)
    assert snapshot["hydration_kg"] == "45.46" and snapshot["hydration_pct"] == "56.58"  # 45.46 / 80.35
    assert snapshot["bmi"] is None and title_of(m) == "80.35 kg"
    assert measurement_from_jsonable(snapshot) == m  # the Garmin route rebuilds the record from it


def test_it_keeps_a_partial_group_with_what_the_scale_measured():
    groups, tz = groups_of("body_composition")
    m = mapping.measurement_from_group(groups[2], tz, None)  # a Body+ : no muscle, bone, hydration
    assert (m.weight_kg, m.fat_ratio_pct) == (Decimal("81.120"), Decimal("21.832"))
    assert (m.muscle_mass_kg, m.hydration_kg) == (None, None)
    assert m.attrib == 8


def test_it_ignores_groups_without_a_weight_and_takes_the_newest_height():
    groups, tz = groups_of("body_composition")
    assert mapping.measurement_from_group(groups[-1], tz, None) is None  # the height-only group
    older_height = {**groups[-1], "grpid": 1, "date": 1600000000, "measures": [{"value": 175, "type": 4, "unit": -2}]}
    assert mapping.latest_height([older_height, *groups]) == (1704099600, Decimal("1.82"))


def test_it_explains_ambiguous_groups():
    groups, tz = groups_of("ambiguous")
    reasons = {g["grpid"]: mapping.ambiguity_reason(mapping.measurement_from_group(g, tz, None)) for g in groups}
    by_attrib = {g["grpid"]: g["attrib"] for g in groups}
    for grpid, reason in reasons.items():
        assert bool(reason) == (by_attrib[grpid] in (1, 4))
    assert any("attrib 1" in r for r in reasons.values()) and any("attrib 4" in r for r in reasons.values())


def test_it_keeps_unknown_measure_types_in_the_snapshot():
    groups, tz = groups_of("body_composition")
    group = {
        **groups[0],
        "measures": [
            *groups[0]["measures"],
            {"value": 1234, "type": 91, "unit": -3},
            {"value": 55, "type": 999, "unit": 0},
        ],
    }
    m = mapping.measurement_from_group(group, tz, None)
    assert m.extra == {"91": "1.234", "999": "55"}
    assert measurement_snapshot(m)["extra"] == {"91": "1.234", "999": "55"}


def test_it_skips_malformed_measures_but_keeps_the_group():
    groups, tz = groups_of("body_composition")
    group = {**groups[0], "measures": [*groups[0]["measures"][:2], {"type": 8}, {"value": "x", "type": 6, "unit": -3}]}
    m = mapping.measurement_from_group(group, tz, None)
    assert (m.weight_kg, m.fat_free_mass_kg) == (Decimal("80.350"), Decimal("63.145"))
    assert (m.fat_mass_kg, m.fat_ratio_pct) == (None, None)


def test_it_keeps_one_group_per_grpid_the_most_recently_modified():
    original, _ = groups_of("body_composition")
    edited, _ = groups_of("edited_group")
    kept = mapping.newest_groups([*edited, *original])
    assert [g["grpid"] for g in kept] == sorted(
        (g["grpid"] for g in original), key=lambda i: {g["grpid"]: g["date"] for g in original}[i]
    )
    assert next(g for g in kept if g["grpid"] == 5120004590)["modified"] == 1737440118


def test_it_ignores_user_objectives():
    groups, tz = groups_of("body_composition")
    assert mapping.measurement_from_group({**groups[0], "category": 2}, tz, None) is None


# --- numbers written as strings, and values that are not numbers ----------------------------------
def test_it_reads_a_group_whose_numbers_are_all_strings():
    groups, tz = groups_of("body_composition")
    as_numbers = mapping.measurement_from_group(groups[0], tz, Decimal("1.82"))
    assert mapping.measurement_from_group(as_strings(groups[0]), tz, Decimal("1.82")) == as_numbers
    assert mapping.decode({"value": "80350", "unit": "-3"}) == Decimal("80.350")
    assert mapping.decode({"value": "80.35", "unit": 0}) == Decimal("80.35")  # exact, never via float


def test_it_treats_a_string_category_1_as_real_measures_and_2_as_objectives():
    groups, tz = groups_of("body_composition")
    assert mapping.measurement_from_group({**groups[0], "category": "1"}, tz, None) is not None
    assert mapping.measurement_from_group({**groups[0], "category": "2"}, tz, None) is None


@pytest.mark.parametrize(
    "measure",
    [
        {"value": "eighty", "type": 6, "unit": -3},
        {"value": 21412, "type": "fat", "unit": -3},
        {"value": 21412, "type": 6, "unit": "milli"},
        {"value": 21412, "type": 6, "unit": 10**9},
        {"value": "1e999999", "type": 6, "unit": 0},
        {"value": None, "type": 6, "unit": -3},
        "not a measure",
    ],
)
def test_it_skips_a_measure_that_is_not_numbers_with_a_log_line(measure, caplog):
    groups, tz = groups_of("body_composition")
    group = {**groups[0], "measures": [m for m in groups[0]["measures"] if m["type"] != 6] + [measure]}
    m = mapping.measurement_from_group(group, tz, None)
    assert m.weight_kg == Decimal("80.350") and m.fat_ratio_pct is None
    assert "skipped a measure that is not numbers" in caplog.text


@pytest.mark.parametrize("changes", [{"date": "yesterday"}, {"date": None}, {"date": 10**15}, {"grpid": "g-1"}])
def test_it_skips_a_group_without_a_usable_id_or_date_with_a_log_line(changes, caplog):
    groups, tz = groups_of("body_composition")
    assert mapping.measurement_from_group({**groups[0], **changes}, tz, None) is None
    assert "no usable grpid or date" in caplog.text


def test_it_treats_a_grpid_written_as_a_string_as_the_same_group():
    groups, _ = groups_of("body_composition")
    newer = {**as_strings(groups[0]), "modified": str(groups[0]["modified"] + 60)}
    kept = mapping.newest_groups([groups[0], newer, {**groups[1], "grpid": "garbage"}])
    assert kept == [newer]
    assert mapping.latest_height([{**groups[-1], "date": "1704099600"}]) == (1704099600, Decimal("1.82"))
