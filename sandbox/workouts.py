"""Generate a plausible training history in Hevy's workout JSON, for the demo and for tests.

`generate_workouts(n, rng=random.Random(7), end=now)` walks back from `end` through a push/pull/legs
rotation: real exercise names with their Hevy template ids, warm-up, drop and failure sets,
supersets numbered from 0, bodyweight sets without weight, timed and distance sets, RPE and notes
on some, now and then a title with umlauts or emoji. Deterministic for a given rng seed.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Hevy exercise types (the `type` of an exercise template) that decide which set fields are filled.
WEIGHT_REPS = "weight_reps"
BODYWEIGHT_REPS = "bodyweight_reps"
DURATION = "duration"
SHORT_DISTANCE_WEIGHT = "short_distance_weight"
DISTANCE_DURATION = "distance_duration"

# Hevy's RPE enum in the spec (section 1.3); 6.5 is unconfirmed, so it is never generated.
RPE_VALUES = (6, 7, 7.5, 8, 8.5, 9, 9.5, 10)


@dataclass(frozen=True)
class Exercise:
    title: str
    template_id: str
    kind: str
    base: float  # working weight in kg, hold in s, or distance in m, depending on kind


def _ex(title: str, template_id: str, kind: str = WEIGHT_REPS, base: float = 0.0) -> Exercise:
    return Exercise(title, template_id, kind, base)


# Template ids are Hevy's own (from Hevy's published exercise list, as two public copies of it agree).
PUSH = {
    "main": [
        _ex("Bench Press (Barbell)", "79D0BB3A", base=80),
        _ex("Overhead Press (Barbell)", "7B8D84E8", base=50),
    ],
    "accessories": [
        _ex("Incline Bench Press (Dumbbell)", "07B38369", base=28),
        _ex("Lateral Raise (Dumbbell)", "422B08F1", base=10),
        _ex("Triceps Rope Pushdown", "94B7239B", base=25),
        _ex("Chest Dip", "6FCD7755", BODYWEIGHT_REPS),
        _ex("Cable Fly Crossovers", "651F844C", base=15),
        _ex("Skullcrusher (Dumbbell)", "68F8A292", base=12),
    ],
}
PULL = {
    "main": [
        _ex("Deadlift (Barbell)", "C6272009", base=140),
        _ex("Bent Over Row (Barbell)", "55E6546F", base=70),
    ],
    "accessories": [
        _ex("Pull Up", "1B2B1E7C", BODYWEIGHT_REPS),
        _ex("Chin Up", "29083183", BODYWEIGHT_REPS),
        _ex("Lat Pulldown (Cable)", "6A6C31A5", base=60),
        _ex("Seated Row (Machine)", "1DF4A847", base=55),
        _ex("Bicep Curl (Dumbbell)", "37FCC2BB", base=14),
        _ex("Hammer Curl (Dumbbell)", "7E3BC8B6", base=16),
    ],
}
LEGS = {
    "main": [
        _ex("Squat (Barbell)", "D04AC939", base=110),
        _ex("Romanian Deadlift (Barbell)", "2B4B7310", base=90),
    ],
    "accessories": [
        _ex("Leg Press (Machine)", "C7973E0E", base=180),
        _ex("Seated Leg Curl (Machine)", "11A123F3", base=45),
        _ex("Standing Calf Raise", "06745E58", base=60),
        _ex("Lunge (Dumbbell)", "B537D09F", base=20),
        _ex("Hip Thrust (Barbell)", "D57C2EC7", base=100),
    ],
}
FINISHERS = [
    _ex("Plank", "C6C9B8A0", DURATION, base=60),
    _ex("Hanging Leg Raise", "F8356514", BODYWEIGHT_REPS),
    _ex("Rowing Machine", "0222DB42", DISTANCE_DURATION, base=2000),
    _ex("Treadmill", "243710DE", DISTANCE_DURATION, base=3000),
    _ex("Farmers Walk", "50C613D0", SHORT_DISTANCE_WEIGHT, base=32),
]
SPLITS = {"push": PUSH, "pull": PULL, "legs": LEGS}

# Mostly plain titles; the rare unicode ones exercise clients' encoding paths.
TITLES = {
    "push": ["Push", "Push Day", "Push A", "Chest & Shoulders", "Brust & Schulter 🔥"],
    "pull": ["Pull", "Pull Day", "Back & Biceps", "Rücken & Bizeps 💪", "Pull — heavy"],
    "legs": ["Legs", "Leg Day", "Beinpresse & Kniebeugen 💪", "Legs 🦵", "Jambes et fessiers"],
}
TITLE_WEIGHTS = [6, 5, 3, 2, 1]
NOTES = [
    "Seat 4",
    "Felt strong",
    "Grip: neutral",
    "Left shoulder a bit tight",
    "Tempo 3-1-1",
    "Schulter zwickt etwas",
    "Use the blue band next time",
    "PR attempt 🎉",
]
DESCRIPTIONS = [
    "Felt strong today",
    "Deload week",
    "Short on time",
    "Gym was packed, improvised",
    "Sleep was bad, kept RPE low",
]
# Session start windows in local time (hour, minute range); the last one can cross midnight.
START_WINDOWS = [((6, 15), 60), ((12, 0), 60), ((17, 30), 180), ((22, 40), 40)]
START_WINDOW_WEIGHTS = [3, 2, 8, 1]


def generate_workouts(n: int, *, rng: random.Random, end: datetime, tz: str = "Europe/Berlin") -> list[dict]:
    """`n` workouts on days before `end` (local to `tz`), oldest first, as Hevy serves them."""
    zone = ZoneInfo(tz)
    routines = {split: _uuid(rng) for split in SPLITS}
    days_back = _schedule(n, rng)
    last_day = end.astimezone(zone).date()
    workouts = []
    for position, offset in enumerate(days_back):
        split = list(SPLITS)[(n - 1 - position) % 3]
        day = last_day - timedelta(days=offset)
        progress = 1 - offset / max(days_back[0], 1) * 0.15
        workouts.append(_workout(rng, split, day, zone, routines[split], progress))
    return workouts


def _schedule(n: int, rng: random.Random) -> list[int]:
    """Days before the end date, one per workout, oldest first (about 3.5 sessions a week)."""
    offsets, day = [], 1
    for _ in range(n):
        offsets.append(day)
        day += rng.choice((1, 1, 2, 2, 2, 3))
    return offsets[::-1]


def _workout(rng: random.Random, split: str, day, zone, routine_id: str, progress: float) -> dict:
    (hour, minute), window = rng.choices(START_WINDOWS, START_WINDOW_WEIGHTS)[0]
    local_start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    jitter = timedelta(minutes=rng.randrange(window), seconds=rng.randrange(60))
    start = (local_start + jitter).astimezone(UTC)
    end = start + timedelta(minutes=rng.randint(45, 90), seconds=rng.randrange(60))
    created = end + timedelta(seconds=rng.randint(5, 600), milliseconds=rng.randrange(1000))
    edited_later = rng.random() < 0.1
    updated = created + timedelta(days=rng.randint(1, 3)) if edited_later else created
    return {
        "id": _uuid(rng),
        "title": rng.choices(TITLES[split], TITLE_WEIGHTS)[0],
        "routine_id": routine_id if rng.random() < 0.8 else None,
        "description": rng.choice(DESCRIPTIONS) if rng.random() < 0.15 else None,
        "start_time": _hevy_time(start),
        "end_time": _hevy_time(end),
        "updated_at": _hevy_stamp(updated),
        "created_at": _hevy_stamp(created),
        "exercises": _exercises(rng, SPLITS[split], progress),
    }


def _exercises(rng: random.Random, split: dict, progress: float) -> list[dict]:
    main = rng.choice(split["main"])
    accessories = rng.sample(split["accessories"], rng.randint(3, 4))
    chosen = [main, *accessories]
    if rng.random() < 0.5:
        chosen.append(rng.choice(FINISHERS))
    superset_ids = _superset_plan(rng, len(chosen))
    return [
        {
            "index": index,
            "title": exercise.title,
            "notes": rng.choice(NOTES) if rng.random() < 0.15 else None,
            "exercise_template_id": exercise.template_id,
            "superset_id": superset_ids[index],
            "sets": _sets(rng, exercise, progress, is_main=index == 0),
        }
        for index, exercise in enumerate(chosen)
    ]


def _superset_plan(rng: random.Random, count: int) -> list[int | None]:
    """Pair up neighbouring accessories now and then; Hevy numbers supersets from 0 per workout."""
    plan: list[int | None] = [None] * count
    next_id, position = 0, 1
    while position + 1 < count:
        if rng.random() < 0.3:
            plan[position] = plan[position + 1] = next_id
            next_id += 1
            position += 2
        else:
            position += 1
    return plan


def _sets(rng: random.Random, exercise: Exercise, progress: float, is_main: bool) -> list[dict]:
    if exercise.kind == WEIGHT_REPS:
        working = _plates(exercise.base * progress * rng.uniform(0.95, 1.05))
        rows = _weight_sets(rng, working, with_warmups=is_main)
    elif exercise.kind == BODYWEIGHT_REPS:
        rows = _bodyweight_sets(rng)
    elif exercise.kind == DURATION:
        rows = _duration_sets(rng, int(exercise.base))
    elif exercise.kind == SHORT_DISTANCE_WEIGHT:
        rows = _carry_sets(rng, _plates(exercise.base * progress))
    else:
        rows = _cardio_sets(rng, exercise.base)
    return [_set(index, **row) for index, row in enumerate(rows)]


def _weight_sets(rng: random.Random, working: float, with_warmups: bool) -> list[dict]:
    rows = []
    if with_warmups:
        for share, reps in ((0.4, 10), (0.6, 5)):
            rows.append(dict(type="warmup", weight_kg=_plates(working * share), reps=reps))
    for _ in range(rng.randint(3, 4)):
        reps = rng.randint(5, 12)
        rows.append(dict(type="normal", weight_kg=working, reps=reps, rpe=_maybe_rpe(rng)))
    finish = rng.random()
    if finish < 0.12:
        dropped = _plates(working * 0.7)
        rows.append(dict(type="dropset", weight_kg=dropped, reps=rng.randint(10, 15)))
    elif finish < 0.22:
        rows.append(dict(type="failure", weight_kg=working, reps=rng.randint(3, 8), rpe=10))
    return rows


def _bodyweight_sets(rng: random.Random) -> list[dict]:
    # Hevy leaves weight_kg null for bodyweight work; weighted sets carry only the added load.
    added = rng.choice((None, None, None, None, 5.0, 10.0))
    rows = [dict(type="normal", weight_kg=added, reps=rng.randint(5, 15), rpe=_maybe_rpe(rng)) for _ in range(3)]
    if rng.random() < 0.2:
        rows.append(dict(type="failure", weight_kg=None, reps=rng.randint(3, 8)))
    return rows


def _duration_sets(rng: random.Random, hold_seconds: int) -> list[dict]:
    return [dict(type="normal", duration_seconds=hold_seconds + 5 * rng.randint(-4, 6)) for _ in range(3)]


def _carry_sets(rng: random.Random, weight_kg: float) -> list[dict]:
    return [dict(type="normal", weight_kg=weight_kg, distance_meters=rng.choice((20, 30, 40, 50))) for _ in range(3)]


def _cardio_sets(rng: random.Random, base_meters: float) -> list[dict]:
    distance = int(base_meters * rng.uniform(0.5, 1.5) / 50) * 50
    pace = rng.uniform(3.2, 4.2)  # metres per second: a steady row or an easy jog
    return [dict(type="normal", distance_meters=distance, duration_seconds=int(distance / pace))]


def _set(
    index: int, type: str, weight_kg=None, reps=None, distance_meters=None, duration_seconds=None, rpe=None
) -> dict:
    return {
        "index": index,
        "type": type,
        "weight_kg": weight_kg,
        "reps": reps,
        "distance_meters": distance_meters,
        "duration_seconds": duration_seconds,
        "rpe": rpe,
        "custom_metric": None,
    }


def _maybe_rpe(rng: random.Random):
    return rng.choice(RPE_VALUES[2:]) if rng.random() < 0.35 else None


def _plates(kg: float) -> float:
    """Round to what a gym can load: 2.5 kg steps, never below an empty 2.5 kg handle."""
    return max(2.5, round(kg / 2.5) * 2.5)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hevy_time(moment: datetime) -> str:
    """start_time/end_time as Hevy serves them live: UTC, `+00:00`, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _hevy_stamp(moment: datetime) -> str:
    """created_at/updated_at as Hevy serves them live: UTC with milliseconds and `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
