"""Encode FIT weight-scale files (the format Garmin Connect imports weigh-ins from).

We write FIT ourselves because garminconnect's encoder truncates scaled values (80.35 kg comes out
as 80.34 kg). The layout copies what garminconnect 0.3.20 writes, which Garmin is known to accept:
a 12-byte header (protocol 16, profile 108), file_id (type 9 = weight), file_creator, one
device_info, one weight_scale message per measurement, then the CRC-16.

Reading them back is sandbox/fit_decode.py (the fake Garmin and the tests).

Pure code: no I/O, no Django. Reference: docs/upstream.md, "FIT files".
"""

import math
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Number = Decimal | float | int

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
# date_time values below 0x10000000 are "seconds since device power-on", not dates.
MIN_FIT_TIME = 0x10000000
PROTOCOL_VERSION = 16
PROFILE_VERSION = 108
FILE_TYPE_WEIGHT = 9
WEIGHT_SCALE_MESSAGE = 30


@dataclass(frozen=True)
class WeightRecord:
    """One scale measurement. Masses in kg, percentages in %, metabolic rates in kcal/day."""

    timestamp: datetime
    weight_kg: Number
    percent_fat: Number | None = None
    percent_hydration: Number | None = None
    bone_mass_kg: Number | None = None
    muscle_mass_kg: Number | None = None
    visceral_fat_rating: Number | None = None
    visceral_fat_mass_kg: Number | None = None
    basal_met: Number | None = None
    active_met: Number | None = None
    metabolic_age: Number | None = None
    physique_rating: Number | None = None
    bmi: Number | None = None

    def __post_init__(self):
        _require_aware(self.timestamp, "timestamp")


@dataclass(frozen=True)
class _BaseType:
    code: int
    fmt: str
    invalid: int

    @property
    def size(self) -> int:
        return struct.calcsize(self.fmt)


ENUM = _BaseType(0x00, "B", 0xFF)
UINT8 = _BaseType(0x02, "B", 0xFF)
UINT16 = _BaseType(0x84, "H", 0xFFFF)
UINT32 = _BaseType(0x86, "I", 0xFFFFFFFF)
UINT32Z = _BaseType(0x8C, "I", 0)


@dataclass(frozen=True)
class _Field:
    number: int
    name: str
    base: _BaseType
    scale: int
    max_raw: int | None = None  # defaults to invalid - 1

    @property
    def largest_raw(self) -> int:
        return self.max_raw if self.max_raw is not None else self.base.invalid - 1


# Same field order as garminconnect's FitEncoderWeight.
WEIGHT_SCALE_FIELDS = (
    _Field(0, "weight_kg", UINT16, 100, max_raw=0xFFFD),  # 0xFFFE means "calculating"
    _Field(1, "percent_fat", UINT16, 100),
    _Field(2, "percent_hydration", UINT16, 100),
    _Field(3, "visceral_fat_mass_kg", UINT16, 100),
    _Field(4, "bone_mass_kg", UINT16, 100),
    _Field(5, "muscle_mass_kg", UINT16, 100),
    _Field(7, "basal_met", UINT16, 4),
    _Field(9, "active_met", UINT16, 4),
    _Field(8, "physique_rating", UINT8, 1),
    _Field(10, "metabolic_age", UINT8, 1),
    _Field(11, "visceral_fat_rating", UINT8, 1),
    _Field(13, "bmi", UINT16, 10),
)
TIMESTAMP_FIELD = 253

_CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def crc16(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 (nibble-wise table); over a whole file including its trailer it is 0."""
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[nibble]
    return crc


# --- encoding -------------------------------------------------------------------------------


def encode_weight_file(records: list[WeightRecord], *, time_created: datetime) -> bytes:
    """Build a FIT weight file holding one weight_scale message per record."""
    if not records:
        raise ValueError("a FIT weight file needs at least one record")
    body = b"".join(
        [
            _file_id(time_created),
            _file_creator(),
            _device_info(records[0].timestamp),
            _definition(3, WEIGHT_SCALE_MESSAGE, _weight_scale_layout()),
            *(_data(3, _weight_scale_layout(), _weight_scale_raws(r)) for r in records),
        ]
    )
    header = struct.pack("<BBHI4s", 12, PROTOCOL_VERSION, PROFILE_VERSION, len(body), b".FIT")
    content = header + body
    return content + struct.pack("<H", crc16(content))


def fit_time(value: datetime, name: str = "timestamp") -> int:
    """Seconds since the FIT epoch (1989-12-31 UTC) of an aware datetime, sub-seconds dropped."""
    _require_aware(value, name)
    seconds = (value - FIT_EPOCH) // timedelta(seconds=1)
    if not MIN_FIT_TIME <= seconds < UINT32.invalid:
        raise ValueError(f"{name}={value.isoformat()} cannot be written as a FIT date_time")
    return seconds


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware; a naive datetime is ambiguous")


def _file_id(time_created: datetime) -> bytes:
    # serial, time_created, manufacturer, product, number, type: only type and time are set.
    layout = [(3, UINT32Z), (4, UINT32), (1, UINT16), (2, UINT16), (5, UINT16), (0, ENUM)]
    raws = [0, fit_time(time_created, "time_created"), 0xFFFF, 0xFFFF, 0xFFFF, FILE_TYPE_WEIGHT]
    return _definition(0, 0, layout) + _data(0, layout, raws)


def _file_creator() -> bytes:
    layout = [(0, UINT16), (1, UINT8)]  # software and hardware version, both unset
    return _definition(1, 49, layout) + _data(1, layout, [t.invalid for _, t in layout])


def _device_info(timestamp: datetime) -> bytes:
    # garminconnect's device_info field list (8 is undocumented); only the timestamp is set.
    layout = [(253, UINT32), (3, UINT32Z), (7, UINT32), (8, UINT32), (2, UINT16), (4, UINT16)]
    layout += [(5, UINT16), (10, UINT16), (0, UINT8), (1, UINT8), (6, UINT8), (11, UINT8)]
    raws = [fit_time(timestamp)] + [t.invalid for _, t in layout[1:]]
    return _definition(2, 23, layout) + _data(2, layout, raws)


def _weight_scale_layout() -> list[tuple[int, _BaseType]]:
    return [(TIMESTAMP_FIELD, UINT32)] + [(f.number, f.base) for f in WEIGHT_SCALE_FIELDS]


def _weight_scale_raws(record: WeightRecord) -> list[int]:
    values = [fit_time(record.timestamp)]
    return values + [_raw_value(f, getattr(record, f.name)) for f in WEIGHT_SCALE_FIELDS]


def _raw_value(field: _Field, value: Number | None) -> int:
    """Scale and round half-up (not truncate); None becomes the base type's invalid value."""
    if value is None:
        return field.base.invalid
    raw = (_to_decimal(field.name, value) * field.scale).quantize(Decimal(1), ROUND_HALF_UP)
    if not 0 <= raw <= field.largest_raw:
        top = Decimal(field.largest_raw) / field.scale
        raise ValueError(f"{field.name}={value} is out of range for FIT (0 to {top})")
    return int(raw)


def _to_decimal(name: str, value: Number) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    try:
        # repr() of a float is its shortest decimal form, so 80.345 rounds as 80.345, not 80.3449...
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
    except InvalidOperation as error:
        raise ValueError(f"{name} is not a number: {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _definition(local: int, global_number: int, layout: list[tuple[int, _BaseType]]) -> bytes:
    # header (0x40 = definition), reserved, architecture 0 = little-endian, global number, count
    head = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_number, len(layout))
    return head + b"".join(struct.pack("<BBB", num, t.size, t.code) for num, t in layout)


def _data(local: int, layout: list[tuple[int, _BaseType]], raws: list[int]) -> bytes:
    packed = (struct.pack("<" + t.fmt, raw) for (_, t), raw in zip(layout, raws, strict=True))
    return bytes([local]) + b"".join(packed)
