"""Our FIT weight codec, checked against fitdecode (an independent decoder) and garminconnect's encoder."""

import io
import struct
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import fitdecode
import pytest
from garminconnect.fit import FitEncoderWeight

from integrations.garmin.fit import (
    WEIGHT_SCALE_FIELDS,
    WeightRecord,
    crc16,
    encode_weight_file,
)
from sandbox.fit_decode import decode_weight_file

WHEN = datetime(2026, 1, 15, 7, 30, 12, tzinfo=UTC)


def fitdecode_messages(data: bytes) -> list[tuple[str, dict]]:
    """(message name, {field name: value}) for every data message, as fitdecode reads it."""
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        return [
            (frame.name, {f.name: f.value for f in frame.fields})
            for frame in reader
            if isinstance(frame, fitdecode.FitDataMessage)
        ]


def weight_scales(data: bytes) -> list[dict]:
    return [fields for name, fields in fitdecode_messages(data) if name == "weight_scale"]


def encode(*records: WeightRecord) -> bytes:
    return encode_weight_file(list(records), time_created=WHEN)


def test_it_writes_header_file_id_creator_device_info_then_weight_scale():
    data = encode(WeightRecord(WHEN, 80))
    assert data[:12] == struct.pack("<BBHI4s", 12, 16, 108, len(data) - 14, b".FIT")
    names = [name for name, _ in fitdecode_messages(data)]
    assert names == ["file_id", "file_creator", "device_info", "weight_scale"]
    file_id = fitdecode_messages(data)[0][1]
    assert file_id["type"] == "weight"
    assert file_id["time_created"] == WHEN.replace(microsecond=0)


def test_it_has_a_valid_crc():
    data = encode(WeightRecord(WHEN, 80))
    assert crc16(data) == 0
    assert crc16(data[:-2]) == struct.unpack("<H", data[-2:])[0]


def test_it_keeps_80_35_kg_exact():
    (scale,) = weight_scales(encode(WeightRecord(WHEN, 80.35)))
    assert scale["weight"] == pytest.approx(80.35, abs=1e-9)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(80.345, 80.35), (Decimal("80.345"), 80.35), (Decimal("80.3449"), 80.34), (80, 80.0)],
)
def test_it_rounds_weight_half_up(value, expected):
    (scale,) = weight_scales(encode(WeightRecord(WHEN, value)))
    assert scale["weight"] == pytest.approx(expected, abs=1e-9)


def test_it_rounds_bmi_to_one_decimal_half_up():
    first, second = weight_scales(
        encode(WeightRecord(WHEN, 80, bmi=25.36), WeightRecord(WHEN, 80, bmi=Decimal("25.35")))
    )
    assert first["bmi"] == pytest.approx(25.4)
    assert second["bmi"] == pytest.approx(25.4)


def test_it_writes_every_field_with_its_scale():
    record = WeightRecord(
        WHEN,
        weight_kg=Decimal("81.23"),
        percent_fat=18.55,
        percent_hydration=55.1,
        bone_mass_kg=3.21,
        muscle_mass_kg=Decimal("62.48"),
        visceral_fat_rating=7,
        visceral_fat_mass_kg=1.25,
        basal_met=1750.25,
        active_met=2400.5,
        metabolic_age=38,
        physique_rating=5,
        bmi=24.9,
    )
    (scale,) = weight_scales(encode(record))
    assert scale.pop("timestamp") == WHEN.replace(microsecond=0)
    assert scale == pytest.approx(
        {
            "weight": 81.23,
            "percent_fat": 18.55,
            "percent_hydration": 55.1,
            "bone_mass": 3.21,
            "muscle_mass": 62.48,
            "visceral_fat_rating": 7,
            "visceral_fat_mass": 1.25,
            "basal_met": 1750.25,
            "active_met": 2400.5,
            "metabolic_age": 38,
            "physique_rating": 5,
            "bmi": 24.9,
        }
    )


def test_it_writes_the_utc_instant_of_a_non_utc_datetime():
    berlin = datetime(2026, 1, 15, 8, 30, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    minus_five = datetime(2026, 7, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    first, second = weight_scales(encode(WeightRecord(berlin, 80), WeightRecord(minus_five, 80)))
    assert first["timestamp"] == datetime(2026, 1, 15, 7, 30, 12, tzinfo=UTC)
    assert second["timestamp"] == datetime(2026, 7, 2, 4, 0, tzinfo=UTC)


def test_it_drops_sub_seconds_instead_of_moving_to_the_next_second():
    (scale,) = weight_scales(encode(WeightRecord(WHEN.replace(microsecond=999_999), 80)))
    assert scale["timestamp"] == WHEN


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        WeightRecord(datetime(2026, 1, 15, 7, 30), 80)
    with pytest.raises(ValueError, match="time_created must be timezone-aware"):
        encode_weight_file([WeightRecord(WHEN, 80)], time_created=datetime(2026, 1, 15))


def test_it_writes_missing_values_as_invalid():
    (scale,) = weight_scales(encode(WeightRecord(WHEN, 80)))
    assert scale["weight"] == 80
    unset = {name: value for name, value in scale.items() if name not in ("timestamp", "weight")}
    assert len(unset) == len(WEIGHT_SCALE_FIELDS) - 1
    assert set(unset.values()) == {None}


def test_it_puts_several_records_in_one_file():
    records = [WeightRecord(WHEN + timedelta(days=i), 80 + i / 10) for i in range(5)]
    scales = weight_scales(encode(*records))
    assert [s["weight"] for s in scales] == pytest.approx([80.0, 80.1, 80.2, 80.3, 80.4])
    assert [s["timestamp"] for s in scales] == [r.timestamp.replace(microsecond=0) for r in records]
    assert [name for name, _ in fitdecode_messages(encode(*records))].count("device_info") == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", 655.34, "weight_kg=655.34 is out of range"),
        ("weight_kg", -1, "weight_kg=-1 is out of range"),
        ("percent_fat", 700, "percent_fat=700 is out of range"),
        ("bmi", 6553.5, "bmi=6553.5 is out of range"),
        ("metabolic_age", 255, "metabolic_age=255 is out of range"),
        ("basal_met", 16384, "basal_met=16384 is out of range"),
        ("bone_mass_kg", float("nan"), "bone_mass_kg must be finite"),
        ("physique_rating", "5", "physique_rating must be a number"),
    ],
)
def test_it_refuses_values_out_of_range(field, value, message):
    values = {"weight_kg": 80, field: value}
    with pytest.raises(ValueError, match=message):
        encode(WeightRecord(WHEN, **values))


def test_it_refuses_an_empty_file():
    with pytest.raises(ValueError, match="at least one record"):
        encode_weight_file([], time_created=WHEN)


def test_it_refuses_dates_before_fit_date_times_exist():
    with pytest.raises(ValueError, match="cannot be written as a FIT date_time"):
        encode(WeightRecord(datetime(1990, 1, 1, tzinfo=UTC), 80))


# --- our decoder ---------------------------------------------------------------------------------


def test_it_decodes_what_it_encodes_like_fitdecode_does():
    records = [
        WeightRecord(WHEN, 80.35, percent_fat=20.1, bmi=25.36, basal_met=1700.3, physique_rating=5),
        WeightRecord(WHEN + timedelta(hours=3), Decimal("79.99"), muscle_mass_kg=61.2),
    ]
    data = encode(*records)
    ours = decode_weight_file(data)
    assert ours[0]["weight_kg"] == Decimal("80.35")
    assert ours[0]["bmi"] == Decimal("25.4")
    assert ours[0]["basal_met"] == Decimal("1700.25")
    assert ours[1]["percent_fat"] is None
    assert_same_as_fitdecode(ours, weight_scales(data))


def test_it_decodes_a_file_written_by_garminconnect():
    encoder = FitEncoderWeight()
    encoder.write_file_info()
    encoder.write_file_creator()
    encoder.write_device_info(WHEN)
    encoder.write_weight_scale(WHEN, weight=80.35, percent_fat=20.5, bmi=25.36, metabolic_age=41)
    encoder.finish()
    data = encoder.getvalue()
    ours = decode_weight_file(data)
    assert_same_as_fitdecode(ours, weight_scales(data))
    # garminconnect truncates: this is why we encode ourselves.
    assert ours[0]["weight_kg"] == Decimal("80.34")
    assert ours[0]["bmi"] == Decimal("25.3")


def test_it_decodes_big_endian_definitions_and_skips_unknown_messages():
    data = big_endian_file_with_an_unknown_message()
    (ours,) = decode_weight_file(data)
    assert ours["weight_kg"] == Decimal("72.5")
    assert ours["timestamp"] == WHEN.replace(microsecond=0)
    assert_same_as_fitdecode([ours], weight_scales(data))


def test_it_decodes_compressed_timestamp_headers():
    data = file_with_a_compressed_timestamp()
    first, second = decode_weight_file(data)
    assert second["timestamp"] - first["timestamp"] == timedelta(seconds=5)
    assert_same_as_fitdecode([first, second], weight_scales(data))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: d[:-1] + bytes([d[-1] ^ 0xFF]), "CRC mismatch"),
        (lambda d: d[:40] + bytes([d[40] ^ 0x01]) + d[41:], "CRC mismatch"),
        (lambda d: d[:8] + b".FOO" + d[12:], "bad header"),
        (lambda d: d[:30], "shorter than its header says"),
        (lambda d: b"", "too short"),
    ],
)
def test_it_refuses_a_bad_file(corrupt, message):
    with pytest.raises(ValueError, match=message):
        decode_weight_file(corrupt(encode(WeightRecord(WHEN, 80))))


def test_it_refuses_data_for_an_undefined_local_type():
    with pytest.raises(ValueError, match="undefined local type"):
        decode_weight_file(fit_file(bytes([5]) + b"\0" * 4))


# --- helpers -------------------------------------------------------------------------------------


def assert_same_as_fitdecode(ours: list[dict], theirs: list[dict]) -> None:
    names = {f.name: f.name.removesuffix("_kg") for f in WEIGHT_SCALE_FIELDS}
    names["weight_kg"] = "weight"
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert mine["timestamp"] == other["timestamp"]
        for our_name, their_name in names.items():
            expected = other.get(their_name)
            actual = None if mine[our_name] is None else float(mine[our_name])
            assert actual == pytest.approx(expected), our_name


def fit_file(records: bytes) -> bytes:
    content = struct.pack("<BBHI4s", 12, 16, 108, len(records), b".FIT") + records
    return content + struct.pack("<H", crc16(content))


def fit_seconds(moment: datetime) -> int:
    return int((moment - datetime(1989, 12, 31, tzinfo=UTC)).total_seconds())


def big_endian_file_with_an_unknown_message() -> bytes:
    unknown = struct.pack(">BBBHB", 0x41, 0, 1, 0xFF00, 1) + bytes([1, 2, 0x84])
    unknown += bytes([1]) + struct.pack(">H", 0xBEEF)
    scale = struct.pack(">BBBHB", 0x42, 0, 1, 30, 3) + bytes([253, 4, 0x86, 0, 2, 0x84, 6, 1, 2])
    scale += bytes([2]) + struct.pack(">IHB", fit_seconds(WHEN), 7250, 9)
    return fit_file(unknown + scale)


def file_with_a_compressed_timestamp() -> bytes:
    seconds = fit_seconds(WHEN)
    with_time = struct.pack("<BBBHB", 0x40, 0, 0, 30, 2) + bytes([253, 4, 0x86, 0, 2, 0x84])
    without_time = struct.pack("<BBBHB", 0x41, 0, 0, 30, 1) + bytes([0, 2, 0x84])
    full = bytes([0]) + struct.pack("<IH", seconds, 8000)
    # compressed header: bit 7, local type 1 in bits 5-6, low 5 bits of the time in bits 0-4
    compressed = bytes([0x80 | (1 << 5) | ((seconds + 5) & 0x1F)]) + struct.pack("<H", 8010)
    return fit_file(with_time + without_time + full + compressed)
