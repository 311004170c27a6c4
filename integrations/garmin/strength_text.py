"""The readable description of a Hevy workout for its Garmin activity (set through Garmin's API after the
upload: a FIT activity file has no description field). Everything the FIT sets cannot say is here:
warm-up, drop and failure sets, RPE, supersets, notes, assisted weights, distances.
"""

from fitsync.records import Exercise, Workout
from fitsync.workout_text import format_number, set_line

from .calories import RESISTANCE_TRAINING_MET


def activity_description(workout: Workout, calories_kcal: int | None = None, calories_estimated: bool = False) -> str:
    """The workout's own description, one line per exercise, and a summary line (no body weight: Garmin
    may show the description to the user's connections)."""
    parts = [workout.description] if workout.description else []
    parts.append("\n".join(_exercise_lines(workout.exercises)))
    parts.append(_summary(workout, calories_kcal, calories_estimated))
    return "\n\n".join(part for part in parts if part)


def with_measured_calories(description: str, kcal: int) -> str:
    """The description with its summary's calorie estimate replaced by the watch's measure."""
    head, gap, summary = description.rpartition("\n\n")
    if not summary.startswith("From Hevy:"):
        head, gap, summary = description, "\n\n" if description else "", ""
    summary = summary.split(". About ")[0].rstrip(".")
    line = f"{summary}. {kcal} kcal, measured by your watch." if summary else f"{kcal} kcal, measured by your watch."
    return head + gap + line


def _exercise_lines(exercises: tuple[Exercise, ...]) -> list[str]:
    lines = []
    for exercise in exercises:
        superset = f" [superset {exercise.superset_id + 1}]" if exercise.superset_id is not None else ""
        sets = ", ".join(set_line(s, exercise.title) for s in exercise.sets) or "no sets"
        lines.append(f"{exercise.title}{superset}: {sets}")
        if exercise.notes:
            lines.append(f"  Note: {exercise.notes}")
    return lines


def _summary(workout: Workout, calories_kcal: int | None, calories_estimated: bool) -> str:
    exercises = sum(1 for e in workout.exercises if e.sets)
    counts = f"{_count(exercises, 'exercise')}, {_count(workout.set_count, 'set')}"
    line = f"From Hevy: {counts}, {format_number(workout.volume_kg)} kg volume"
    if calories_kcal is not None:
        line += f". About {calories_kcal} kcal"
        if calories_estimated:
            line += f", estimated from body weight and duration at {RESISTANCE_TRAINING_MET} MET"
    return line + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
