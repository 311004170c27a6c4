"""The per-set part of a strength activity file: the workout and its steps, exercise titles, sets and laps.

One workout_step per Hevy set carries what the `set` message cannot: its intensity (warm-up or not).
Each active set points at its step (`wkt_step_index`); rests carry only their times.
"""

from datetime import datetime

from fit_tool.profile.messages.exercise_title_message import ExerciseTitleMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.set_message import SetMessage
from fit_tool.profile.messages.workout_message import WorkoutMessage
from fit_tool.profile.messages.workout_step_message import WorkoutStepMessage
from fit_tool.profile.profile_type import (
    Event,
    EventType,
    FitBaseUnit,
    Intensity,
    LapTrigger,
    SetType,
    Sport,
    SubSport,
    WorkoutStepDuration,
)

from .fit_profile import category_number, name_number
from .strength_activity import StrengthActivity, StrengthLap, StrengthSet

INTENSITY = {"warmup": Intensity.WARMUP}  # every other Hevy kind is ordinary work
MAX_NAME_BYTES = 63  # a FIT string field holds at most 255 bytes; Hevy's longest template title has 42


def workout_messages(activity: StrengthActivity):
    """The workout with one step per Hevy set, and one exercise_title per exercise (none without sets)."""
    active = [s for s in activity.sets if not s.rest]
    if active:
        yield _workout(activity, len(active))
        yield from _workout_steps(activity)
    yield from (_exercise_title(index, lap) for index, lap in enumerate(activity.laps))


def set_and_lap_messages(activity: StrengthActivity):
    """Per exercise its sets (active and rest), then its lap; a workout without sets gets one lap."""
    set_index = step_index = 0
    for lap_index, lap in enumerate(activity.laps):
        for exercise_set in lap.sets:
            yield _set(set_index, None if exercise_set.rest else step_index, lap, exercise_set)
            set_index += 1
            step_index += 0 if exercise_set.rest else 1
        yield _lap(lap_index, lap.start, lap.end, lap.distance_m)
    if not activity.laps:
        yield _lap(0, activity.start, activity.end, 0)


def _workout(activity: StrengthActivity, steps: int) -> WorkoutMessage:
    message = WorkoutMessage()
    message.workout_name = fit_name(activity.title)
    message.sport = Sport.TRAINING
    message.sub_sport = SubSport.STRENGTH_TRAINING
    message.num_valid_steps = steps
    return message


def _workout_steps(activity: StrengthActivity):
    index = 0
    for lap in activity.laps:
        for exercise_set in (s for s in lap.sets if not s.rest):
            yield _workout_step(index, lap, exercise_set)
            index += 1


def _workout_step(index: int, lap: StrengthLap, exercise_set: StrengthSet) -> WorkoutStepMessage:
    message = WorkoutStepMessage()
    message.message_index = index
    message.workout_step_name = fit_name(lap.title)
    message.intensity = INTENSITY.get(exercise_set.kind, Intensity.ACTIVE)
    message.exercise_category = category_number(lap.exercise.category)
    if lap.exercise.name:
        message.exercise_name = name_number(lap.exercise.category, lap.exercise.name)
    if exercise_set.reps is not None:
        message.duration_type = WorkoutStepDuration.REPS
        message.duration_reps = exercise_set.reps
    elif exercise_set.distance_m:
        message.duration_type = WorkoutStepDuration.DISTANCE
        message.duration_distance = float(exercise_set.distance_m)
    else:
        message.duration_type = WorkoutStepDuration.TIME
        message.duration_time = float(exercise_set.duration_s)
    if exercise_set.weight_kg is not None:
        message.exercise_weight = float(exercise_set.weight_kg)
        message.weight_display_unit = FitBaseUnit.KILOGRAM
    return message


def _exercise_title(index: int, lap: StrengthLap) -> ExerciseTitleMessage:
    message = ExerciseTitleMessage()
    message.message_index = index
    message.exercise_category = category_number(lap.exercise.category)
    if lap.exercise.name:
        message.exercise_name = name_number(lap.exercise.category, lap.exercise.name)
    message.workout_step_name = fit_name(lap.title)
    return message


def _set(index: int, step_index: int | None, lap: StrengthLap, exercise_set: StrengthSet) -> SetMessage:
    message = SetMessage()
    message.timestamp = fit_time_ms(exercise_set.end)
    message.start_time = fit_time_ms(exercise_set.start)
    message.duration = float(exercise_set.duration_s)
    message.message_index = index
    message.set_type = SetType.REST if exercise_set.rest else SetType.ACTIVE
    if exercise_set.rest:
        return message
    message.workout_step_index = step_index
    message.category = [category_number(lap.exercise.category)]
    if lap.exercise.name:
        message.category_subtype = [name_number(lap.exercise.category, lap.exercise.name)]
    if exercise_set.reps is not None:
        message.repetitions = exercise_set.reps
    if exercise_set.weight_kg is not None:
        message.weight = float(exercise_set.weight_kg)
        message.weight_display_unit = FitBaseUnit.KILOGRAM
    return message


def _lap(index: int, start: datetime, end: datetime, distance_m) -> LapMessage:
    message = LapMessage()
    message.message_index = index
    message.timestamp = fit_time_ms(end)
    message.start_time = fit_time_ms(start)
    set_durations(message, int((end - start).total_seconds()))
    message.event = Event.LAP
    message.event_type = EventType.STOP
    message.lap_trigger = LapTrigger.MANUAL
    message.sport = Sport.TRAINING
    message.sub_sport = SubSport.STRENGTH_TRAINING
    if distance_m:
        message.total_distance = float(distance_m)
    return message


def fit_name(text: str) -> str:
    """`text` cut to MAX_NAME_BYTES of UTF-8, never inside a character."""
    return text.encode()[:MAX_NAME_BYTES].decode(errors="ignore")


def set_durations(message, seconds: int) -> None:
    """No pauses: the timer ran from start to end, so timer time equals elapsed time."""
    message.total_elapsed_time = float(seconds)
    message.total_timer_time = float(seconds)


def fit_time_ms(moment: datetime) -> int:
    """fit-tool takes date_time fields as milliseconds since the Unix epoch."""
    return int(moment.timestamp()) * 1000
