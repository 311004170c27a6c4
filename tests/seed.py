"""Synthetic synced items for the dashboard's tests, browser tests and benchmark (never used at runtime).

Snapshots follow `fitsync.records.to_jsonable` of a Workout or a BodyMeasurement.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from fitsync.models import ItemStatus, SyncItem

WORKOUTS, WEIGHTS = "hevy_intervals", "withings_garmin"  # two routes of fitsync/routes.py

EXERCISES = ("Bench Press (Barbell)", "Squat (Barbell)", "Deadlift (Barbell)", "Pull Up", "Lateral Raise (Dumbbell)")


def workout_snapshot(n: int, start: datetime) -> dict:
    sets = [{"kind": "normal", "weight_kg": str(40 + (n + i) % 60), "reps": 5 + i % 4} for i in range(4)]
    exercises = [{"title": EXERCISES[(n + i) % len(EXERCISES)], "sets": sets} for i in range(3)]
    end = start + timedelta(minutes=55)
    return {
        "source_id": f"w-{n}",
        "title": f"Workout {n}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "exercises": exercises,
    }


def weight_snapshot(n: int, when: datetime) -> dict:
    weight = 80 - n * 0.01 + (n % 7) * 0.15  # a slow trend with a weekly wobble
    return {
        "source_id": f"m-{n}",
        "measured_at": when.isoformat(),
        "weight_kg": f"{weight:.2f}",
        "fat_ratio_pct": f"{20 - n * 0.002 + (n % 5) * 0.1:.1f}",
    }


def make_items(
    account,
    route: str,
    count: int,
    *,
    status: str = ItemStatus.SYNCED,
    start: int = 0,
    now: datetime | None = None,
    batch_size: int = 2000,
) -> None:
    """`count` items on `route`, one a day going back from `now` (newest first by occurred_at)."""
    now = now or timezone.now()
    items = []
    for n in range(start, start + count):
        when = now - timedelta(days=n - start, hours=n % 3)
        is_workout = route == WORKOUTS
        snapshot = workout_snapshot(n, when) if is_workout else weight_snapshot(n, when)
        items.append(
            SyncItem(
                account=account,
                route=route,
                source_id=f"{'w' if is_workout else 'm'}-{n}",
                status=status,
                title=snapshot.get("title", f"Weigh-in {when:%d %b %Y}"),
                occurred_at=when,
                snapshot=snapshot,
                destination_id=str(900000 + n) if status == ItemStatus.SYNCED else "",
                attempts=1 if status != ItemStatus.PENDING else 0,
                last_error="Intervals.icu: 422 invalid activity" if status == ItemStatus.FAILED else "",
                synced_at=when if status == ItemStatus.SYNCED else None,
            )
        )
    SyncItem.objects.bulk_create(items, batch_size=batch_size)


__all__ = ["WEIGHTS", "WORKOUTS", "make_items"]
