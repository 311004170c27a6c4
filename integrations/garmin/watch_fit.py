"""What fitsync takes from a watch's own recording of a workout: its heart rate samples and its calories.

Read with fitdecode (a watch's file carries developer fields and messages fit-tool's decoder may refuse);
fitsync's own files are written with fit-tool (`strength_fit.py`). Pure code: no I/O.
"""

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import fitdecode

from fitsync.errors import PermanentError

from .client import PROVIDER


@dataclass(frozen=True)
class WatchRecording:
    heart_rates: tuple[tuple[datetime, int], ...]  # (UTC instant, bpm), in time order
    calories: int | None  # the session's total_calories, as the watch measured them


def read_watch_recording(data: bytes) -> WatchRecording:
    """Heart rate records and session calories of a FIT activity file (CRC checked)."""
    rates, calories = [], None
    try:
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "record" and _value(frame, "heart_rate") and _value(frame, "timestamp"):
                    rates.append((_utc(frame.get_value("timestamp")), int(frame.get_value("heart_rate"))))
                elif frame.name == "session" and calories is None:
                    calories = _value(frame, "total_calories")
    except fitdecode.FitError as error:
        raise PermanentError(f"Garmin Connect: the watch's activity file is unreadable ({error})", provider=PROVIDER)
    return WatchRecording(tuple(sorted(rates)), int(calories) if calories is not None else None)


def _value(frame, name: str):
    return frame.get_value(name, fallback=None) if frame.has_field(name) else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
