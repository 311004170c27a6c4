"""Encode a `StrengthActivity` as a FIT activity file (fit-tool's profile and encoder; pure, no I/O).

Layout, "summary last" as Garmin's own devices write it (docs/upstream.md, "FIT activity files"):
file_id (type activity, manufacturer `development`, product 0, as hevy2garmin's uploads that Garmin
Connect accepts) · file_creator · device_info · sport (training / strength_training, named after the
workout) · workout and one workout_step per Hevy set (its intensity says warm-up or not: the `set`
message has no such field) · one exercise_title per exercise (Hevy's title) · timer start · a record ·
per exercise its sets (active and rest) then its lap · a record · timer stop · session · activity.
Given heart rate samples (a watch's, when fitsync merges its recording into the workout), each becomes a
record message placed in time order among the sets and laps, and the session gets their average and
maximum.

The workout, its steps, the exercise titles, sets and laps are written by `strength_fit_sets`. The same
activity always gives the same bytes: time_created is the workout's start, not now.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.device_info_message import DeviceInfoMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_creator_message import FileCreatorMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.messages.sport_message import SportMessage
from fit_tool.profile.profile_type import (
    Activity,
    Event,
    EventType,
    FileType,
    Manufacturer,
    SessionTrigger,
    Sport,
    SubSport,
)

from .strength_activity import StrengthActivity
from .strength_fit_sets import fit_name, fit_time_ms, set_and_lap_messages, set_durations, workout_messages

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
MANUFACTURER = Manufacturer.DEVELOPMENT
PRODUCT = 0
SERIAL_NUMBER = 0x46495453  # "FITS": one made-up device for every file fitsync writes
SOFTWARE_VERSION = 100  # FIT convention: version x 100, i.e. 1.00
CREATOR_DEVICE_INDEX = 0


HeartRate = tuple[datetime, int]  # (instant, beats per minute)


def encode_strength_activity(activity: StrengthActivity, heart_rates: Sequence[HeartRate] = ()) -> bytes:
    """The activity as FIT bytes; with `heart_rates`, those within the activity become its records."""
    inside = sorted((at, bpm) for at, bpm in heart_rates if activity.start <= at <= activity.end and 0 < bpm < 255)
    builder = FitFileBuilder(auto_define=True, strict=True)  # strict: fit-tool checks the profile and file type
    for message in _messages(activity, inside):
        builder.add(message)
    return builder.build().to_bytes()


def _messages(activity: StrengthActivity, heart_rates: list[HeartRate]):
    yield from (_file_id(activity), _file_creator(), _device_info(activity), _sport(activity))
    yield from workout_messages(activity)
    yield timer_event(activity.start, EventType.START)
    yield sample(activity.start)
    yield from _in_time_order(set_and_lap_messages(activity), heart_rates)
    yield sample(activity.end)
    yield timer_event(activity.end, EventType.STOP_ALL)
    yield _session(activity, heart_rates)
    yield activity_message(activity.end, activity.duration_s, activity.timezone)


def _in_time_order(messages, heart_rates: list[HeartRate]):
    """The set and lap messages, each preceded by the heart rate records up to its timestamp."""
    pending = list(heart_rates)
    for message in messages:
        while pending and fit_time_ms(pending[0][0]) <= message.timestamp:
            yield sample(*pending.pop(0))
        yield message
    yield from (sample(*sample) for sample in pending)


def _file_id(activity: StrengthActivity) -> FileIdMessage:
    message = FileIdMessage()
    message.type = FileType.ACTIVITY
    message.manufacturer = MANUFACTURER.value
    message.product = PRODUCT
    message.serial_number = SERIAL_NUMBER
    message.time_created = fit_time_ms(activity.start)
    return message


def _file_creator() -> FileCreatorMessage:
    message = FileCreatorMessage()
    message.software_version = SOFTWARE_VERSION
    return message


def _device_info(activity: StrengthActivity) -> DeviceInfoMessage:
    message = DeviceInfoMessage()
    message.timestamp = fit_time_ms(activity.start)
    message.device_index = CREATOR_DEVICE_INDEX
    message.manufacturer = MANUFACTURER.value
    message.product = PRODUCT
    message.serial_number = SERIAL_NUMBER
    message.software_version = SOFTWARE_VERSION / 100
    return message


def _sport(activity: StrengthActivity) -> SportMessage:
    message = SportMessage()
    message.sport = Sport.TRAINING
    message.sub_sport = SubSport.STRENGTH_TRAINING
    message.sport_name = fit_name(activity.title)
    return message


def _session(activity: StrengthActivity, heart_rates: list[HeartRate]) -> SessionMessage:
    message = SessionMessage()
    message.message_index = 0
    message.timestamp = fit_time_ms(activity.end)
    message.start_time = fit_time_ms(activity.start)
    set_durations(message, activity.duration_s)
    message.event = Event.SESSION
    message.event_type = EventType.STOP
    message.trigger = SessionTrigger.ACTIVITY_END
    message.sport = Sport.TRAINING
    message.sub_sport = SubSport.STRENGTH_TRAINING
    message.first_lap_index = 0
    message.num_laps = max(1, len(activity.laps))
    distance = sum(lap.distance_m for lap in activity.laps)
    if distance:
        message.total_distance = float(distance)
    if activity.calories_kcal is not None:
        message.total_calories = activity.calories_kcal
    if heart_rates:
        rates = [bpm for _, bpm in heart_rates]
        message.avg_heart_rate = round(sum(rates) / len(rates))
        message.max_heart_rate = max(rates)
    return message


def activity_message(end: datetime, seconds: int, timezone: str) -> ActivityMessage:
    """The closing activity message of a one-session file (fitsync's, and the sandbox's watch recording)."""
    message = ActivityMessage()
    message.timestamp = fit_time_ms(end)
    message.total_timer_time = float(seconds)
    message.num_sessions = 1
    message.type = Activity.MANUAL
    message.event = Event.ACTIVITY
    message.event_type = EventType.STOP
    message.local_timestamp = local_timestamp(end, timezone)
    return message


def local_timestamp(moment: datetime, timezone: str) -> int:
    """FIT `local_date_time`: the wall-clock time in `timezone`, counted in seconds like a UTC FIT time."""
    wall_clock = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=UTC)
    return int((wall_clock - FIT_EPOCH).total_seconds())


def timer_event(moment: datetime, event_type: EventType) -> EventMessage:
    message = EventMessage()
    message.timestamp = fit_time_ms(moment)
    message.event = Event.TIMER
    message.event_type = event_type
    return message


def sample(moment: datetime, heart_rate: int | None = None) -> RecordMessage:
    """A sample: heart rate when a watch measured it, else timestamp-only (the Activity file type requires
    records, and Hevy has no samples)."""
    message = RecordMessage()
    message.timestamp = fit_time_ms(moment)
    if heart_rate is not None:
        message.heart_rate = heart_rate
    return message
