"""Activities in the fake Garmin, as garminconnect 0.3.20 calls them (`api/activities.py`).

An uploaded FIT activity file (told from a weight file by its file_id type) is read with fitdecode and
becomes an activity; so does a watch's recording seeded with `add_watch_activity`. The endpoints:

    GET    /activitylist-service/activities/search/activities?startDate&endDate&start&limit  (newest first)
    GET    /activity-service/activity/{id}              the activity's summary
    PUT    /activity-service/activity/{id}              {"activityId", "activityName"?, "description"?}
    DELETE /activity-service/activity/{id}              204, 404 when there is none
    GET    /download-service/files/activity/{id}        the original file, zipped ("Original" download)

Switches for what is unconfirmed (docs/upstream.md, Garmin Connect):
- processing: shared with weigh-ins (`upload_hidden_reads`, `upload_listed_within`). 0 hidden reads: the
  upload answers 201 with the new activity's id in `successes`, listed at once; otherwise 202 with empty
  successes, and the activity is missing from listings (and from a read by id) for that many listings.
- `activity_duplicates`: "reject" answers a second upload of the same bytes 409 "Duplicate Activity."
  naming the activity it duplicates; "accept" files it as another activity.
"""

import hashlib
import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .core import Request, Response, json_response
from .fit_activity import ActivityFile, read_activity, watch_strength_file

ACTIVITY_TYPES = {  # (FIT sport, sub_sport) -> Garmin's activity type (typeId, typeKey, parentTypeId)
    ("training", "strength_training"): (13, "strength_training", 29),
    ("training", "cardio_training"): (29, "indoor_cardio", 29),
    ("running", "generic"): (1, "running", 17),
}
OTHER = (4, "other", 17)
MANUFACTURERS = {"garmin": "GARMIN", "development": "DEVELOPMENT"}
DUPLICATE_MESSAGE = "Duplicate Activity."
LISTING = "/activitylist-service/activities/search/activities"
ONE = r"/activity-service/activity/(?P<activity_id>\d+)"
DOWNLOAD = r"/download-service/files/activity/(?P<activity_id>\d+)"


class GarminActivitiesMixin:
    """Mixed into `GarminFake` after FakeService; uses its users, lock, clock and processing queue."""

    def _init_activities(self) -> None:
        self.activity_duplicates = "reject"  # or "accept"
        self._next_activity_id = 21_400_000_000  # activity ids seen live have 11 digits
        api = self._authenticated
        self.route("GET", LISTING, api(self._list_activities))
        self.route("GET", ONE, api(self._get_activity))
        self.route("PUT", ONE, api(self._update_activity))
        self.route("DELETE", ONE, api(self._delete_activity))
        self.route("GET", DOWNLOAD, api(self._download_activity))

    # --- set-up and inspection --------------------------------------------------------------------
    def add_watch_activity(
        self, email: str, start: datetime, end: datetime, *, calories: int = 320, name: str = "Strength", **kw
    ) -> dict:
        """Seed a strength activity a Garmin watch recorded and synced: heart rate every 5 s, its calories.
        `kw`: `heart_rate` (seconds -> bpm) and `every_s` for `fit_activity.watch_strength_file`."""
        user = self.users[email.lower()]
        data = watch_strength_file(start, end, calories=calories, timezone=user["timezone"], **kw)
        activity = self._new_activity(user, read_activity(data), data, name)
        with self.lock:
            user["activities"].append(activity)
        return self._summary(user, activity)

    def activities(self, email: str) -> list[dict]:
        """The user's listed activities, oldest first, as the fake keeps them (`fit` holds the file)."""
        with self.lock:
            return sorted(self.users[email.lower()]["activities"], key=lambda a: (a["start"], a["activityId"]))

    def activity_processing(self, email: str) -> list[dict]:
        """Uploaded activities Garmin has not listed yet."""
        with self.lock:
            return [p["entry"] for p in self.users[email.lower()]["activity_processing"]]

    def finish_activity_processing(self, email: str) -> None:
        with self.lock:
            user = self.users[email.lower()]
            user["activities"].extend(p["entry"] for p in user["activity_processing"])
            user["activity_processing"] = []

    def _new_activity(self, user: dict, parsed: ActivityFile, data: bytes, name: str = "") -> dict:
        with self.lock:
            activity_id, self._next_activity_id = self._next_activity_id, self._next_activity_id + 1
        rates = [bpm for _, bpm in parsed.heart_rates]
        return {
            "activityId": activity_id,
            # Which name Garmin gives an uploaded file (the sport's name, the workout's) is unconfirmed.
            "activityName": name or parsed.name or "Strength",
            "description": None,
            "start": parsed.start,
            "duration": parsed.duration_s,
            "type": ACTIVITY_TYPES.get((parsed.sport, parsed.sub_sport), OTHER),
            "calories": parsed.calories,
            "averageHR": round(sum(rates) / len(rates)) if rates else None,
            "maxHR": max(rates) if rates else None,
            "manufacturer": MANUFACTURERS.get(parsed.manufacturer, parsed.manufacturer.upper()),
            "fit": data,
            "sha": hashlib.sha256(data).hexdigest(),
        }

    # --- upload (called by GarminFake._upload for a file whose file_id type is activity) -------------
    def _upload_activity(self, user: dict, upload: tuple[str, bytes]) -> Response:
        file_name, data = upload
        try:
            parsed = read_activity(data)
        except ValueError as error:
            return self._import_result(user, upload, 400, failure=(400, str(error)))
        twin = self._same_file(user, data)
        if twin is not None and self.activity_duplicates == "reject":
            return self._import_result(user, upload, 409, failure=(202, DUPLICATE_MESSAGE), internal_id=twin)
        activity = self._new_activity(user, parsed, data)
        self._accept(user, [activity], listed="activities", waiting="activity_processing")
        if not self.upload_hidden_reads:
            return self._import_result(user, upload, 201, success=activity["activityId"])
        return self._import_result(user, upload, 202)

    def _same_file(self, user: dict, data: bytes) -> int | None:
        sha = hashlib.sha256(data).hexdigest()
        with self.lock:
            known = user["activities"] + [p["entry"] for p in user["activity_processing"]]
        return next((a["activityId"] for a in known if a["sha"] == sha), None)

    # --- API --------------------------------------------------------------------------------------
    def _list_activities(self, request: Request, user: dict) -> Response:
        self._settle(user, listed="activities", waiting="activity_processing")
        query = request.query
        try:
            start, limit = int(query.get("start", "0")), int(query.get("limit", "20"))
        except ValueError:
            return self.error_response(400, "Invalid start or limit")
        first, last = query.get("startDate", ""), query.get("endDate", "9999-12-31")
        zone = ZoneInfo(user["timezone"])
        inside = [a for a in self.activities(user["email"]) if first <= _local(a, zone).date().isoformat() <= last]
        newest_first = sorted(inside, key=lambda a: a["start"], reverse=query.get("sortOrder") != "asc")
        return json_response([self._summary(user, a) for a in newest_first[start : start + limit]])

    def _get_activity(self, request: Request, user: dict, activity_id: str) -> Response:
        self._settle(user, listed="activities", waiting="activity_processing", count=False)
        activity = self._find(user, activity_id)
        if activity is None:
            return self.error_response(404, "Activity not found")
        return json_response(self._detail(user, activity))

    def _update_activity(self, request: Request, user: dict, activity_id: str) -> Response:
        try:
            body = request.json()
        except ValueError:
            return self.error_response(400, "Invalid JSON")
        if not isinstance(body, dict) or str(body.get("activityId")) != activity_id:
            return self.error_response(400, "activityId does not match the path")
        with self.lock:
            activity = self._find(user, activity_id)
            if activity is None:
                return self.error_response(404, "Activity not found")
            for key in ("activityName", "description"):
                if key in body:
                    activity[key] = body[key]
        return Response(204)

    def _delete_activity(self, request: Request, user: dict, activity_id: str) -> Response:
        with self.lock:
            activity = self._find(user, activity_id)
            if activity is None:
                return self.error_response(404, "Activity not found")
            user["activities"].remove(activity)
        return Response(204)

    def _download_activity(self, request: Request, user: dict, activity_id: str) -> Response:
        activity = self._find(user, activity_id)
        if activity is None:
            return self.error_response(404, "Activity not found")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"{activity_id}_ACTIVITY.fit", activity["fit"])
        return Response(200, buffer.getvalue(), {"Content-Type": "application/x-zip-compressed"})

    def _find(self, user: dict, activity_id: str) -> dict | None:
        with self.lock:
            return next((a for a in user["activities"] if str(a["activityId"]) == str(activity_id)), None)

    # --- shapes -----------------------------------------------------------------------------------
    def _summary(self, user: dict, activity: dict) -> dict:
        """An entry of the activity list (the fields fitsync and peers read; Garmin sends many more)."""
        type_id, type_key, parent = activity["type"]
        local = _local(activity, ZoneInfo(user["timezone"]))
        return {
            "activityId": activity["activityId"],
            "activityName": activity["activityName"],
            "description": activity["description"],
            "startTimeLocal": local.strftime("%Y-%m-%d %H:%M:%S"),
            "startTimeGMT": activity["start"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "activityType": {"typeId": type_id, "typeKey": type_key, "parentTypeId": parent},
            "duration": activity["duration"],
            "elapsedDuration": activity["duration"],
            "calories": activity["calories"],
            "averageHR": activity["averageHR"],
            "maxHR": activity["maxHR"],
            "beginTimestamp": int(activity["start"].timestamp() * 1000),
            "manufacturer": activity["manufacturer"],
            "ownerDisplayName": user["display_name"],
            "hasPolyline": False,
        }

    def _detail(self, user: dict, activity: dict) -> dict:
        summary = self._summary(user, activity)
        local = _local(activity, ZoneInfo(user["timezone"]))
        return {
            "activityId": activity["activityId"],
            "activityName": activity["activityName"],
            "description": activity["description"],
            "userProfileId": user["profile_id"],
            "activityTypeDTO": summary["activityType"],
            "timeZoneUnitDTO": {"unitKey": user["timezone"]},
            "metadataDTO": {"manufacturer": activity["manufacturer"], "hasPolyline": False},
            "summaryDTO": {
                "startTimeLocal": local.strftime("%Y-%m-%dT%H:%M:%S.0"),
                "startTimeGMT": activity["start"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0"),
                "duration": activity["duration"],
                "elapsedDuration": activity["duration"],
                "calories": activity["calories"],
                "averageHR": activity["averageHR"],
                "maxHR": activity["maxHR"],
            },
        }


def _local(activity: dict, zone: ZoneInfo) -> datetime:
    return activity["start"].astimezone(zone)
