"""FIT activity files for the fake Garmin: read what an upload holds (with fitdecode, a decoder independent
of fit-tool, which fitsync encodes with), and write the file a watch would have recorded (with fit-tool and
fitsync's own message builders: the file's shape, not its encoding, is what the fake chooses).

Pure code: no I/O, no Django.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import fitdecode
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.device_info_message import DeviceInfoMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport, SubSport

from integrations.garmin.strength_fit import activity_message, sample, timer_event
from integrations.garmin.strength_fit_sets import fit_time_ms

WATCH_PRODUCT = 3906  # a fēnix 7 as Garmin's product list numbers it; any Garmin device would do
WATCH_SERIAL = 3_390_600_001


@dataclass(frozen=True)
class ActivityFile:
    """What the fake files an uploaded activity by: its times, sport, name, calories and heart rate."""

    start: datetime
    end: datetime
    sport: str
    sub_sport: str
    name: str
    manufacturer: str
    calories: int | None
    heart_rates: tuple[tuple[datetime, int], ...]

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


def fit_file_type(data: bytes) -> str | None:
    """The file_id `type` of a FIT file ("activity", "weight", ...), None when fitdecode cannot read it."""
    try:
        for message in _messages(data):
            if message.name == "file_id":
                return str(message.get_value("type", fallback=None))
    except (fitdecode.FitError, ValueError, KeyError):
        return None
    return None


def read_activity(data: bytes) -> ActivityFile:
    """The activity in a FIT file (CRC checked); ValueError when it is not a readable activity."""
    try:
        messages = list(_messages(data))
    except fitdecode.FitError as error:
        raise ValueError(f"Invalid FIT file: {error}") from None
    by_name: dict[str, list] = {}
    for message in messages:
        by_name.setdefault(message.name, []).append(message)
    records = by_name.get("record", [])
    session = (by_name.get("session") or [None])[0]
    if session is None and not records:
        raise ValueError("The FIT file holds no session and no record")
    start, end = _span(session, records)
    sport = (by_name.get("sport") or [None])[0]
    file_id = by_name.get("file_id", [None])[0]
    return ActivityFile(
        start=start,
        end=end,
        sport=str(_value(session, "sport") or _value(sport, "sport") or "generic"),
        sub_sport=str(_value(session, "sub_sport") or _value(sport, "sub_sport") or "generic"),
        name=str(_value(sport, "name") or ""),
        manufacturer=str(_value(file_id, "manufacturer") or ""),
        calories=_value(session, "total_calories"),
        heart_rates=tuple(
            (_utc(r.get_value("timestamp")), int(r.get_value("heart_rate")))
            for r in records
            if _value(r, "heart_rate") is not None and _value(r, "timestamp") is not None
        ),
    )


def _messages(data: bytes):
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                yield frame


def _value(message, name: str):
    if message is None or not message.has_field(name):
        return None
    return message.get_value(name, fallback=None)


def _span(session, records) -> tuple[datetime, datetime]:
    if session is not None and _value(session, "start_time") is not None:
        start = _utc(session.get_value("start_time"))
        elapsed = _value(session, "total_elapsed_time") or 0
        return start, start + timedelta(seconds=float(elapsed))
    stamps = [_utc(r.get_value("timestamp")) for r in records if _value(r, "timestamp") is not None]
    return min(stamps), max(stamps)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- a watch's recording --------------------------------------------------------------------------
def steady_heart_rate(seconds: int) -> int:
    """A plausible strength session: 95-135 bpm, rising during a set and falling in the rest after it."""
    return 95 + (seconds % 120) // 3


def watch_strength_file(
    start: datetime,
    end: datetime,
    *,
    calories: int,
    timezone: str = "UTC",
    heart_rate: Callable[[int], int] = steady_heart_rate,
    every_s: int = 5,
) -> bytes:
    """A strength activity as a Garmin watch records it: heart rate every `every_s` seconds, its own
    calories, one lap, made by a Garmin device (manufacturer garmin)."""
    start, end = start.astimezone(UTC).replace(microsecond=0), end.astimezone(UTC).replace(microsecond=0)
    seconds = int((end - start).total_seconds())
    rates = [heart_rate(offset) for offset in range(0, seconds + 1, every_s)]
    builder = FitFileBuilder(auto_define=True, strict=True)
    builder.add(_watch_file_id(start))
    builder.add(_watch_device(start))
    builder.add(timer_event(start, EventType.START))
    for index, bpm in enumerate(rates):
        builder.add(sample(start + timedelta(seconds=index * every_s), bpm))
    builder.add(timer_event(end, EventType.STOP_ALL))
    builder.add(_summary(LapMessage(), start, end, calories, rates, Event.LAP))
    builder.add(_summary(SessionMessage(), start, end, calories, rates, Event.SESSION))
    builder.add(activity_message(end, seconds, timezone))
    return builder.build().to_bytes()


def _watch_file_id(start: datetime) -> FileIdMessage:
    message = FileIdMessage()
    message.type = FileType.ACTIVITY
    message.manufacturer = Manufacturer.GARMIN.value
    message.product = WATCH_PRODUCT
    message.serial_number = WATCH_SERIAL
    message.time_created = fit_time_ms(start)
    return message


def _watch_device(start: datetime) -> DeviceInfoMessage:
    message = DeviceInfoMessage()
    message.timestamp = fit_time_ms(start)
    message.device_index = 0
    message.manufacturer = Manufacturer.GARMIN.value
    message.product = WATCH_PRODUCT
    message.serial_number = WATCH_SERIAL
    return message


def _summary(message, start: datetime, end: datetime, calories: int, rates: list[int], event: Event):
    seconds = float((end - start).total_seconds())
    message.timestamp = fit_time_ms(end)
    message.start_time = fit_time_ms(start)
    message.total_elapsed_time = message.total_timer_time = seconds
    message.event = event
    message.event_type = EventType.STOP
    message.sport = Sport.TRAINING
    message.sub_sport = SubSport.STRENGTH_TRAINING
    message.total_calories = calories
    message.avg_heart_rate = round(sum(rates) / len(rates))
    message.max_heart_rate = max(rates)
    message.message_index = 0
    if isinstance(message, SessionMessage):
        message.first_lap_index = 0
        message.num_laps = 1
    return message
