"""The Garmin Connect activity calls fitsync makes, through garminconnect 0.3.20 (`api/activities.py`),
their errors mapped by `client.error_from` as the weigh-in calls are, paced by the same pacer.

No ORM in this module. What each call relies on: docs/upstream.md, "Garmin Connect".
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from garminconnect import Garmin

from fitsync.errors import PermanentError, TransientError, UpstreamError

from . import client
from .client import PROVIDER, UploadAnswer, calling

STRENGTH = "strength_training"
PAGE = 20  # activities per listing page, as Garmin Connect's own pages ask
MAX_LISTED = 1000  # a few days never hold more; a runaway listing stops here


@dataclass(frozen=True)
class GarminActivity:
    """An entry of Garmin's activity list: the few fields fitsync decides by."""

    activity_id: str
    name: str
    start: datetime  # UTC
    duration_s: float
    type_key: str
    manufacturer: str = ""
    calories: float | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def activity_from_entry(entry: dict) -> GarminActivity | None:
    """An activity list entry (`startTimeGMT` "2024-05-14 15:42:07"); None for one fitsync cannot read."""
    try:
        start = datetime.strptime(str(entry["startTimeGMT"])[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        return GarminActivity(
            activity_id=str(entry["activityId"]),
            name=str(entry.get("activityName") or ""),
            start=start,
            duration_s=float(entry.get("elapsedDuration") or entry.get("duration") or 0),
            type_key=str((entry.get("activityType") or {}).get("typeKey") or ""),
            manufacturer=str(entry.get("manufacturer") or ""),
            calories=entry.get("calories"),
        )
    except (KeyError, TypeError, ValueError):
        return None


def activities_between(garmin: Garmin, first: date, last: date) -> list[GarminActivity]:
    """Activities whose local start day (in the user's Garmin time zone) lies in [first, last]."""
    entries = []
    for start in range(0, MAX_LISTED, PAGE):
        page = listing_page(garmin, first, last, start)
        entries.extend(page)
        if len(page) < PAGE:
            break
    return [a for a in map(activity_from_entry, entries) if a is not None]


def listing_page(garmin: Garmin, first: date, last: date, start: int) -> list:
    """One page of the search garminconnect's get_activities_by_date reads. That call always reads on to an
    empty page; a page shorter than PAGE is the last one, so a few days' activities take one request."""
    params = {"startDate": first.isoformat(), "endDate": last.isoformat(), "start": str(start), "limit": str(PAGE)}
    with calling("reading activities"):
        page = garmin.connectapi(garmin.garmin_connect_activities, params=params)
    if not isinstance(page, list):
        raise TransientError("Garmin Connect answered the activity query with something else", provider=PROVIDER)
    return page


def upload_activity(garmin: Garmin, data: bytes, file_name: str) -> UploadAnswer:
    """Upload a FIT activity file: Garmin's answer (processing is asynchronous: the ids may be empty)."""
    return client.post_file(garmin, data, file_name, "uploading an activity")


def exists(garmin: Garmin, activity_id: str) -> bool:
    """Whether Garmin serves this activity (a read by id; 404: not, or not yet processed)."""
    try:
        with calling("reading an activity"):
            garmin.get_activity(activity_id)
    except UpstreamError as error:
        if error.status == 404:
            return False
        raise
    return True


def describe(garmin: Garmin, activity_id: str, name: str, description: str) -> None:
    """Set the activity's name and description in one PUT activity-service/activity/{id} (the call behind
    garminconnect's set_activity_name and set_activity_description, `update_activity`)."""
    with calling("naming an activity"):
        garmin.update_activity(activity_id, {"activityName": name, "description": description})


def delete_activity(garmin: Garmin, activity_id: str) -> bool:
    """Delete one activity; False when Garmin no longer has it (404 counts as done)."""
    try:
        with calling("deleting an activity"):
            garmin.delete_activity(activity_id)
    except UpstreamError as error:
        if error.status == 404:
            return False
        raise
    return True


def original_file(garmin: Garmin, activity_id: str) -> bytes:
    """The FIT file the activity was made from (Garmin's "original" download, a zip holding it)."""
    with calling("downloading an activity"):
        archive = garmin.download_activity(activity_id, Garmin.ActivityDownloadFormat.ORIGINAL)
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as files:
            fit = [name for name in files.namelist() if name.lower().endswith(".fit")]
            if fit:
                return files.read(fit[0])
    except zipfile.BadZipFile:
        pass
    raise PermanentError(f"Garmin Connect's original of activity {activity_id} holds no FIT file", provider=PROVIDER)
