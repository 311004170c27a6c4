"""Two independent FIT decoders for the tests: Garmin's own SDK and fitdecode, both checking the CRC."""

import io
from collections import defaultdict
from datetime import UTC, datetime

import fitdecode
from garmin_fit_sdk import Decoder, Stream

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)


def garmin_sdk_messages(data: bytes) -> dict[str, list[dict]]:
    """{message name: [fields]} as Garmin's FIT SDK reads the file; fails on any decoder error or bad CRC."""
    assert Decoder(Stream.from_byte_array(bytearray(data))).is_fit()
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()  # header and file CRC
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return {name.removesuffix("_mesgs"): rows for name, rows in messages.items()}


def fitdecode_messages(data: bytes) -> dict[str, list[dict]]:
    """The same, read by fitdecode with CRC checking on."""
    messages = defaultdict(list)
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                messages[frame.name].append({f.name: f.value for f in frame.fields if f.value is not None})
    return dict(messages)


def fit_seconds(moment: datetime) -> int:
    return int((moment - FIT_EPOCH).total_seconds())
