"""A neutral `Workout` -> an Intervals.icu manual activity (pure functions, no I/O).

The description is meant to be read by a person in Intervals.icu: one block per exercise, supersets
announced, warm-up/drop/failure sets labelled, and bodyweight or cardio sets without empty units.
"""

# Reference: docs/upstream.md, "Intervals.icu" (manual-activity fields, name length)

import hashlib
import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fitsync.records import Exercise, ExerciseSet, Workout
from fitsync.workout_text import format_number, set_text

ACTIVITY_TYPE = "WeightTraining"
# Intervals.icu refuses longer names with 422 "Name is too long". Its server is Java, whose string
# length counts UTF-16 units (an emoji is two), so that is the first measure; a stricter one on a retry.
MAX_NAME_LENGTH = 80
DEFAULT_NAME = "Hevy workout"
ELLIPSIS = "…"


def activity_from_workout(workout: Workout, timezone: str) -> dict:
    """The activity for /activities/manual/bulk; `external_id` makes the upload an upsert."""
    seconds = max(0, int((workout.end - workout.start).total_seconds()))  # real elapsed time, DST-proof
    return {
        "external_id": workout.source_id,
        "type": ACTIVITY_TYPE,
        "name": fit_name(workout.title or DEFAULT_NAME),
        "start_date_local": local_time(workout.start, timezone),
        "moving_time": seconds,
        "elapsed_time": seconds,
        "kg_lifted": float(workout.volume_kg.quantize(Decimal("0.1"), ROUND_HALF_UP)),
        "description": description_of(workout),
    }


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def fit_name(name: str, measure=utf16_units) -> str:
    """The name, or its start and an ellipsis, within MAX_NAME_LENGTH as `measure` counts it."""
    if measure(name) <= MAX_NAME_LENGTH:
        return name
    cut = name[:MAX_NAME_LENGTH]
    while cut and measure(cut.rstrip() + ELLIPSIS) > MAX_NAME_LENGTH:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def shorten_names(activities: list[dict]) -> list[bool]:
    """After a "Name is too long" despite fit_name: cut each name to 80 UTF-8 bytes, the strictest
    plausible count, in place (so what is recorded as sent is what was sent). Which ones changed."""
    changed = []
    for activity in activities:
        name = activity.get("name")
        shorter = fit_name(name, utf8_bytes) if isinstance(name, str) else name
        changed.append(shorter != name)
        if shorter != name:
            activity["name"] = shorter
    return changed


def local_time(moment: datetime, timezone: str) -> str:
    """Naive local wall-clock time in the athlete's zone, as Intervals.icu wants `start_date_local`."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def content_hash(activity: dict) -> str:
    return hashlib.sha256(json.dumps(activity, sort_keys=True).encode()).hexdigest()


def description_of(workout: Workout) -> str:
    blocks = [workout.description] if workout.description else []
    for group in superset_groups(workout.exercises):
        blocks.append("\n\n".join(exercise_block(e) for e in group[1]))
        if group[0]:
            blocks[-1] = f"{group[0]}: " + " + ".join(e.title for e in group[1]) + "\n" + blocks[-1]
    volume = format_number(workout.volume_kg, 1)
    blocks.append(f"Volume {volume} kg · {workout.set_count} sets · logged in Hevy")
    return "\n\n".join(blocks)


def superset_groups(exercises) -> list[tuple[str, list[Exercise]]]:
    """Exercises in order, those of one superset gathered where the superset first appears."""
    groups: list[tuple[str, list[Exercise]]] = []
    by_superset: dict[int, list[Exercise]] = {}
    for exercise in exercises:
        if exercise.superset_id is None:  # superset ids start at 0: compare with None
            groups.append(("", [exercise]))
        elif exercise.superset_id in by_superset:
            by_superset[exercise.superset_id].append(exercise)
        else:
            by_superset[exercise.superset_id] = [exercise]
            groups.append((f"Superset {len(by_superset)}", by_superset[exercise.superset_id]))
    return [(label if len(members) > 1 else "", members) for label, members in groups]


def exercise_block(exercise: Exercise) -> str:
    lines = [exercise.title]
    if exercise.notes:
        lines.append(f"Note: {exercise.notes}")
    number = 0
    for row in exercise.sets:
        number += row.kind in ("normal", "failure")
        lines.append(f"- {set_label(row, number)}: {set_text(row, exercise.title)}")
    return "\n".join(lines)


def set_label(row: ExerciseSet, number: int) -> str:
    return {"warmup": "Warm-up", "dropset": "Drop set", "failure": f"Set {number} (failure)"}.get(
        row.kind, f"Set {number}"
    )
