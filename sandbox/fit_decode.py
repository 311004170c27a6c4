"""Read FIT weight-scale files back: the fake Garmin reads what fitsync uploads, and tests check it.

Production only writes FIT (integrations/garmin/fit.py); this decoder shares its field table.
Pure code: no I/O, no Django.
"""

import struct
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from integrations.garmin.fit import (
    ENUM,
    FIT_EPOCH,
    TIMESTAMP_FIELD,
    UINT8,
    UINT16,
    UINT32,
    UINT32Z,
    WEIGHT_SCALE_FIELDS,
    WEIGHT_SCALE_MESSAGE,
    _BaseType,
    crc16,
)

# Enough to read numeric fields other encoders may use.
_DECODABLE = {
    t.code: t
    for t in (
        ENUM,
        UINT8,
        UINT16,
        UINT32,
        UINT32Z,
        _BaseType(0x01, "b", 0x7F),
        _BaseType(0x83, "h", 0x7FFF),
        _BaseType(0x85, "i", 0x7FFFFFFF),
        _BaseType(0x0A, "B", 0),
        _BaseType(0x8B, "H", 0),
    )
}


@dataclass
class _Definition:
    global_number: int
    endian: str
    fields: list[tuple[int, int, int]]  # (field number, size, base type code)
    developer_size: int


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise ValueError("FIT file is truncated inside a message")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def done(self) -> bool:
        return self.pos >= len(self.data)


def decode_weight_file(data: bytes) -> list[dict]:
    """The weight_scale records of a FIT file, scaled (Decimal/int, None when unset), UTC times."""
    return [
        _weight_from_fields(values)
        for number, values in _iter_messages(_checked_records(data))
        if number == WEIGHT_SCALE_MESSAGE
    ]


def _checked_records(data: bytes) -> bytes:
    """Validate header and CRC; return the bytes between the header and the trailing CRC."""
    if len(data) < 14:
        raise ValueError("not a FIT file: too short")
    header_size, _, _, data_size, signature = struct.unpack("<BBHI4s", data[:12])
    if header_size not in (12, 14) or signature != b".FIT":
        raise ValueError("not a FIT file: bad header")
    if header_size == 14 and data[12:14] != b"\0\0" and crc16(data[:14]) != 0:
        raise ValueError("FIT header CRC mismatch")
    end = header_size + data_size
    if len(data) < end + 2:
        raise ValueError("FIT file is shorter than its header says")
    if crc16(data[: end + 2]) != 0:
        raise ValueError("FIT file CRC mismatch")
    return data[header_size:end]


def _iter_messages(records: bytes):
    """Yield (global message number, {field number: raw value}) for every data message."""
    reader, definitions, last_time = _Reader(records), {}, None
    while not reader.done():
        header = reader.take(1)[0]
        compressed = bool(header & 0x80)  # compressed timestamp header: local type in bits 5-6
        if not compressed and header & 0x40:
            definitions[header & 0x0F] = _read_definition(reader, bool(header & 0x20))
            continue
        local = (header >> 5) & 0x3 if compressed else header & 0x0F
        definition = _definition_for(definitions, local)
        values = _read_data(reader, definition)
        if compressed:
            last_time = _compressed_time(last_time, header & 0x1F)
            values[TIMESTAMP_FIELD] = last_time
        elif values.get(TIMESTAMP_FIELD) is not None:
            last_time = values[TIMESTAMP_FIELD]
        yield definition.global_number, values


def _definition_for(definitions: dict, local: int) -> _Definition:
    if local not in definitions:
        raise ValueError(f"FIT data message uses undefined local type {local}")
    return definitions[local]


def _compressed_time(last_time: int | None, offset: int) -> int:
    if last_time is None:
        raise ValueError("compressed timestamp before any full timestamp")
    return last_time + ((offset - last_time) & 0x1F)


def _read_definition(reader: _Reader, has_developer_fields: bool) -> _Definition:
    _, architecture = reader.take(2)
    endian = ">" if architecture == 1 else "<"
    (global_number,) = struct.unpack(endian + "H", reader.take(2))
    count = reader.take(1)[0]
    field_defs = [tuple(reader.take(3)) for _ in range(count)]
    developer_size = 0
    if has_developer_fields:
        developer_defs = [reader.take(3) for _ in range(reader.take(1)[0])]
        developer_size = sum(d[1] for d in developer_defs)
    return _Definition(global_number, endian, field_defs, developer_size)


def _read_data(reader: _Reader, definition: _Definition) -> dict[int, int | None]:
    values = {}
    for number, size, code in definition.fields:
        values[number] = _decode_scalar(reader.take(size), code, definition.endian)
    reader.take(definition.developer_size)
    return values


def _decode_scalar(raw: bytes, code: int, endian: str) -> int | None:
    """An integer field's value, or None when invalid or not a scalar we understand."""
    base = _DECODABLE.get(code)
    if base is None or len(raw) != base.size:
        return None  # strings, floats, arrays: no weight_scale field uses them
    (value,) = struct.unpack(endian + base.fmt, raw)
    return None if value == base.invalid else value


def _weight_from_fields(values: dict[int, int | None]) -> dict:
    raw_time = values.get(TIMESTAMP_FIELD)
    record: dict = {"timestamp": FIT_EPOCH + timedelta(seconds=raw_time) if raw_time else None}
    for field in WEIGHT_SCALE_FIELDS:
        raw = values.get(field.number)
        if raw is None or raw > field.largest_raw:
            record[field.name] = None
        elif field.scale == 1:
            record[field.name] = raw
        else:
            record[field.name] = Decimal(raw) / Decimal(field.scale)
    return record
