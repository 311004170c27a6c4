"""When a destination fake holds each write of interest (`harness.WriteClock`), keyed so that a bench can
wait for the write one delivery caused: Garmin weigh-ins, Garmin strength activities (the upload, and the
PUT that names it), Intervals.icu wellness days. (Intervals.icu activities: `harness.intervals_clock`.)"""

import hashlib
import itertools
import json

import harness as h

STRENGTH_FILE_PREFIX = "hevy-"  # the strength destination names its upload hevy-<workout id>.fit


def weigh_in_clock(garmin) -> h.WriteClock:
    """Each weigh-in upload, numbered 1, 2, ... in the order they arrive (strength uploads not counted)."""
    counter = itertools.count(1)

    def key(request) -> list[str]:
        return [] if _upload_name(request).startswith(STRENGTH_FILE_PREFIX) else [str(next(counter))]

    return h.WriteClock(garmin, "POST", "/upload-service/upload", key)


def strength_clocks(garmin) -> tuple[h.WriteClock, h.WriteClock]:
    """(uploaded, named), keyed by Hevy workout id: the activity's file accepted by Garmin, and the PUT that
    gives the activity its title and description (the route's last write for a new workout). The PUT names
    an activity id; the activity's file (by its digest) leads back to the upload and so to the workout."""
    workout_of_file: dict[str, str] = {}

    def uploaded(request) -> list[str]:
        from sandbox.garmin import _multipart_file

        name, data = _multipart_file(request) or ("", b"")
        if not name.startswith(STRENGTH_FILE_PREFIX):
            return []
        workout_id = name.removeprefix(STRENGTH_FILE_PREFIX).removesuffix(".fit")
        workout_of_file[hashlib.sha256(data).hexdigest()] = workout_id
        return [workout_id]

    def named(request) -> list[str]:
        activity_id = int(request.path.rstrip("/").rsplit("/", 1)[1])
        sha = _activity_sha(garmin, activity_id)
        return [workout_of_file[sha]] if sha in workout_of_file else []

    upload_clock = h.WriteClock(garmin, "POST", "/upload-service/upload", uploaded)
    return upload_clock, h.WriteClock(garmin, "PUT", "/activity-service/activity/", named)


def wellness_clock(intervals) -> h.WriteClock:
    """Each PUT of a wellness day, keyed by the weight it sets (kg, two places)."""

    def key(request) -> list[str]:
        weight = json.loads(request.body).get("weight")
        return [weight_key(weight)] if weight is not None else []

    return h.WriteClock(intervals, "PUT", "/wellness/", key)


def weight_key(kg) -> str:
    return f"{float(kg):.2f}"


def _upload_name(request) -> str:
    from sandbox.garmin import _multipart_file

    return (_multipart_file(request) or ("", b""))[0]


def _activity_sha(garmin, activity_id: int) -> str:
    with garmin.lock:
        for user in garmin.users.values():
            for activity in user["activities"] + [p["entry"] for p in user["activity_processing"]]:
                if activity["activityId"] == activity_id:
                    return activity["sha"]
    return ""
