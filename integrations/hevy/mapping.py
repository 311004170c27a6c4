"""Hevy workout JSON -> the neutral `fitsync.records.Workout` (pure functions, no I/O)."""

# Reference: /work/shared/docs/upstream-apis.md section 1.3 (Workout JSON)

from datetime import UTC, datetime
from decimal import Decimal

from fitsync.errors import TransientError
from fitsync.records import Exercise, ExerciseSet, Workout, to_jsonable

SET_KINDS = {"normal": "normal", "warmup": "warmup", "dropset": "dropset", "failure": "failure"}


def unwrap_workout(data) -> dict:
    """GET /v1/workouts/{id} is a bare object per the spec; some report `{"workout": {...}}` or a list."""
    if isinstance(data, dict) and "workout" in data and "exercises" not in data:
        data = data["workout"]
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not data.get("id"):
        raise TransientError("Hevy sent a workout in an unexpected shape", provider="hevy")
    return data


def workout_from_hevy(data) -> Workout:
    data = unwrap_workout(data)
    try:
        return Workout(
            source_id=str(data["id"]),
            title=(data.get("title") or "").strip(),
            start=parse_time(data["start_time"]),
            end=parse_time(data.get("end_time") or data["start_time"]),
            exercises=tuple(exercise_from_hevy(e) for e in sorted(data.get("exercises") or [], key=_index)),
            description=(data.get("description") or "").strip(),
            updated_at=parse_time(data["updated_at"]) if data.get("updated_at") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TransientError(f"Hevy sent an unreadable workout ({exc.__class__.__name__})", provider="hevy")


def exercise_from_hevy(data: dict) -> Exercise:
    # The spec says supersets_id, the live API superset_id; numbering starts at 0 (section 1.3).
    superset = data.get("superset_id", data.get("supersets_id"))
    return Exercise(
        title=(data.get("title") or "Exercise").strip(),
        sets=tuple(set_from_hevy(s) for s in sorted(data.get("sets") or [], key=_index)),
        notes=(data.get("notes") or "").strip(),
        superset_id=int(superset) if superset is not None else None,
        template_id=data.get("exercise_template_id") or "",
    )


def set_from_hevy(data: dict) -> ExerciseSet:
    return ExerciseSet(
        kind=SET_KINDS.get(data.get("type") or "normal", "normal"),
        weight_kg=_decimal(data.get("weight_kg")),
        reps=_int(data.get("reps")),
        distance_m=_decimal(data.get("distance_meters")),
        duration_s=_int(data.get("duration_seconds")),
        rpe=_decimal(data.get("rpe")),
        custom_metric=_decimal(data.get("custom_metric")),
    )


def snapshot_of(workout: Workout) -> dict:
    """The normalized workout as the dashboard shows it, with the totals it would otherwise recompute."""
    return {
        **to_jsonable(workout),
        "volume_kg": str(workout.volume_kg),
        "set_count": workout.set_count,
    }


def parse_time(stamp: str) -> datetime:
    """Hevy mixes `2024-08-14T12:00:00+00:00` and `2026-08-19T13:40:46.788Z`; naive means UTC."""
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _index(row: dict):
    value = row.get("index")
    return value if isinstance(value, (int, float)) else 0


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _int(value) -> int | None:
    return None if value is None else int(round(float(value)))
