"""A faithful fake of the Intervals.icu API: athletes with manual activities and wellness days.

Auth is HTTP Basic with the literal user `API_KEY`. Errors come in the two shapes the real service
uses: application errors as `{"status": 422, "error": "..."}`, framework-level ones (unknown path,
missing or malformed parameter) Spring-style as `{"timestamp", "status", "error", "path"}`.
Switches for what is unconfirmed upstream (docs/upstream.md, "Intervals.icu"): `bulk_upsert` (does the
bulk upload match external_id for a personal API key, or always create?), `name_length_unit` (how the
80-character cap on activity names counts) and `wellness_put` (does a wellness PUT keep the fields it is
not sent? `intervals_wellness.py` holds the wellness half). Athlete ids come in both real forms, `i12345`
and the older all-numeric `2049151`; `rate_limit_per_s` is off by default.
"""

# Reference: docs/upstream.md, "Intervals.icu".

import base64
import itertools
import re
import threading
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Callable
from zoneinfo import ZoneInfo

from .core import FakeService, Request, Response, SlidingWindow, json_body, json_response
from .intervals_wellness import WELLNESS_PUTS, WellnessMixin

FIRST_ACTIVITY_NUMBER = 47602392  # real activity ids look like i47602392
MAX_NAME_LENGTH = 80  # longer names are refused with 422 "Name is too long"
# How the cap counts: Java's String.length (UTF-16 units, the likeliest), characters, or UTF-8 bytes.
NAME_LENGTH_UNITS = {
    "utf16": lambda name: len(name.encode("utf-16-le")) // 2,
    "codepoints": len,
    "utf8": lambda name: len(name.encode("utf-8")),
}
READ_ONLY_FIELDS = frozenset({"id", "icu_athlete_id", "source", "created", "start_date"})
ATHLETE_ID = re.compile(r"i?\d+")  # i12345, or an older all-numeric id such as 2049151
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A subset of the spec's sport enum; an unknown value fails JSON binding upstream with a 400.
SPORT_TYPES = frozenset(
    "Ride Run Swim WeightTraining Workout Walk Hike TrailRun VirtualRide VirtualRun VirtualRow "
    "Rowing Elliptical StairStepper Yoga Pilates Crossfit HighIntensityIntervalTraining "
    "RockClimbing NordicSki AlpineSki Snowboard Tennis Soccer Golf Kayaking Canoeing "
    "StandUpPaddling OpenWaterSwim MountainBikeRide GravelRide EBikeRide Transition Other".split()
)
PATH = r"/api/v1/athlete/(?P<athlete>[^/]+)"


class IntervalsFake(WellnessMixin, FakeService):
    name = "intervals"

    def __init__(
        self,
        *,
        rate_limit_per_s: int | None = None,
        bulk_upsert: bool = True,
        name_length_unit: str = "utf16",
        wellness_put: str = "partial",
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        """rate_limit_per_s: answer 429 once more than this many requests arrive within 1 s.
        bulk_upsert: False makes /manual/bulk always create, as it might for personal API keys
            (the upsert is documented only for activities "created by the same OAuth application").
        name_length_unit: how names are measured against MAX_NAME_LENGTH (a key of NAME_LENGTH_UNITS).
        wellness_put: "partial" (a wellness PUT changes only the fields sent) or "replace" (fields not sent
            are cleared); see `intervals_wellness.py`."""
        super().__init__()
        if name_length_unit not in NAME_LENGTH_UNITS:
            raise ValueError(f"name_length_unit is one of {', '.join(NAME_LENGTH_UNITS)}")
        if wellness_put not in WELLNESS_PUTS:
            raise ValueError(f"wellness_put is one of {', '.join(WELLNESS_PUTS)}")
        self.rate_limit_per_s = rate_limit_per_s
        self.bulk_upsert = bulk_upsert
        self.name_length_unit = name_length_unit
        self.wellness_put = wellness_put
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic
        self.athletes: dict[str, dict] = {}
        self._activity_numbers = itertools.count(FIRST_ACTIVITY_NUMBER)
        self._window = SlidingWindow()
        self._current = threading.local()
        self._add_routes()

    def _add_routes(self) -> None:
        for_athlete, as_owner = self._for_athlete, self._as_owner
        self.route("GET", PATH, for_athlete(self._profile))
        self.route("POST", PATH + r"/activities/manual", for_athlete(self._create_manual))
        self.route("POST", PATH + r"/activities/manual/bulk", for_athlete(self._create_bulk))
        self.route("GET", PATH + r"/activities", for_athlete(self._list_activities))
        self._add_wellness_routes(PATH)
        activity = r"/api/v1/activity/(?P<activity_id>[^/]+)"
        self.route("GET", activity, as_owner(self._get_activity))
        self.route("PUT", activity, as_owner(self._update_activity))
        self.route("DELETE", activity, as_owner(self._delete_activity))

    # --- state ----------------------------------------------------------------------------------
    def add_athlete(
        self, api_key: str, athlete_id: str = "i12345", timezone: str = "Europe/Berlin", name: str = "Demo Athlete"
    ) -> dict:
        athlete = {
            "id": athlete_id,
            "api_key": api_key,
            "name": name,
            "timezone": timezone,
            "activities": {},
            "wellness": {},
            "custom_items": [],
        }
        with self.lock:
            self.athletes[athlete_id] = athlete
        return athlete

    def activities(self, athlete_id: str) -> list[dict]:
        """Every stored activity of the athlete, in creation order."""
        with self.lock:
            return list(self.athletes[athlete_id]["activities"].values())

    def activities_by_external_id(self, athlete_id: str) -> dict[str, dict]:
        """external_id -> activity (the latest created wins if a client made duplicates)."""
        return {a["external_id"]: a for a in self.activities(athlete_id) if a.get("external_id")}

    # --- requests: auth, rate limit, error shapes -----------------------------------------------
    def handle(self, request: Request) -> Response:
        self._current.path = request.path  # Spring-style errors quote the path
        return super().handle(request)

    def _dispatch(self, request: Request) -> Response:
        if self._is_rate_limited():
            return json_response({"status": 429, "error": "Too many requests"}, 429, {"Retry-After": "1"})
        return super()._dispatch(request)

    def _is_rate_limited(self) -> bool:
        return not self._window.admit(self.rate_limit_per_s, self.monotonic())

    def error_response(self, status: int, message: str) -> Response:
        if (status, message) in ((404, "Not Found"), (405, "Method Not Allowed"), (400, "Bad Request")):
            return self._spring_error(status, message)
        return json_response({"status": status, "error": message}, status)

    def _spring_error(self, status: int, error: str) -> Response:
        timestamp = self.clock().astimezone(UTC).isoformat(timespec="milliseconds")
        path = getattr(self._current, "path", "")
        body = {"timestamp": timestamp, "status": status, "error": error, "path": path}
        return json_response(body, status)

    def _authenticate(self, request: Request) -> dict | None:
        scheme, _, encoded = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # bad base64 (binascii.Error) or bad UTF-8
            return None
        if username != "API_KEY":
            return None
        return next((a for a in self.athletes.values() if a["api_key"] == password), None)

    def _as_owner(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        def with_owner(request: Request, **params) -> Response:
            with self.lock:
                owner = self._authenticate(request)
                if owner is None:
                    # The real 401 body is unconfirmed; this is the app-error shape.
                    return self.error_response(401, "Unauthorized")
                return handler(request, owner, **params)

        return with_owner

    def _for_athlete(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        def with_athlete(request: Request, owner: dict, athlete: str, **params) -> Response:
            if athlete in ("0", owner["id"]):  # 0 means "the key's owner"
                return handler(request, owner, **params)
            if ATHLETE_ID.fullmatch(athlete):
                return self.error_response(403, "Access denied")
            return self.error_response(404, "Not Found")

        return self._as_owner(with_athlete)

    # --- athlete and activities -----------------------------------------------------------------
    def _profile(self, request: Request, athlete: dict) -> Response:
        profile = {key: athlete[key] for key in ("id", "name", "timezone")}
        return json_response({**profile, "locale": "en", "measurement_preference": "meters"})

    def _create_manual(self, request: Request, athlete: dict) -> Response:
        fields = json_body(request)
        problem = self._activity_problem(fields)
        if problem:
            return self.error_response(*problem)
        return json_response(self._create_activity(athlete, fields))

    def _create_bulk(self, request: Request, athlete: dict) -> Response:
        items = json_body(request)
        if not isinstance(items, list):
            return self.error_response(400, "Bad Request")
        for item in items:
            problem = self._activity_problem(item)
            if problem:  # nothing is written when one item is invalid
                return self.error_response(*problem)
        return json_response([self._upsert_activity(athlete, item) for item in items])

    def _upsert_activity(self, athlete: dict, fields: dict) -> dict:
        external_id = fields.get("external_id")
        existing = None
        if external_id and self.bulk_upsert:
            existing = next((a for a in athlete["activities"].values() if a.get("external_id") == external_id), None)
        if existing is None:
            return self._create_activity(athlete, fields)
        self._apply_changes(athlete, existing, fields, clear_on_minus_one=False)
        return existing

    def _create_activity(self, athlete: dict, fields: dict) -> dict:
        activity_id = f"i{next(self._activity_numbers)}"
        activity = {key: value for key, value in fields.items() if key not in READ_ONLY_FIELDS}
        activity.update(id=activity_id, icu_athlete_id=athlete["id"], source="MANUAL")
        activity["created"] = self._stamp()
        activity["start_date"] = _utc_start(activity["start_date_local"], athlete["timezone"])
        athlete["activities"][activity_id] = activity
        return activity

    def _apply_changes(self, athlete: dict, activity: dict, fields: dict, clear_on_minus_one: bool) -> None:
        for key, value in fields.items():
            if key in READ_ONLY_FIELDS:
                continue
            # PUT clears most numeric fields when sent -1.
            is_clear = clear_on_minus_one and value == -1 and type(value) is int
            activity[key] = None if is_clear else value
        if fields.get("start_date_local"):
            activity["start_date"] = _utc_start(activity["start_date_local"], athlete["timezone"])

    def _find_activity(self, owner: dict, activity_id: str) -> tuple[dict | None, Response | None]:
        for athlete in self.athletes.values():
            if activity_id in athlete["activities"]:
                if athlete is not owner:
                    return None, self.error_response(403, "Access denied")
                return athlete["activities"][activity_id], None
        return None, self.error_response(404, "Activity not found")

    def _get_activity(self, request: Request, owner: dict, activity_id: str) -> Response:
        activity, error = self._find_activity(owner, activity_id)
        return error or json_response(activity)

    def _update_activity(self, request: Request, owner: dict, activity_id: str) -> Response:
        activity, error = self._find_activity(owner, activity_id)
        if error:
            return error
        fields = json_body(request)
        problem = self._activity_problem(fields, partial=True)
        if problem:
            return self.error_response(*problem)
        self._apply_changes(owner, activity, fields, clear_on_minus_one=True)
        return json_response(activity)

    def _delete_activity(self, request: Request, owner: dict, activity_id: str) -> Response:
        activity, error = self._find_activity(owner, activity_id)
        if error:
            return error
        del owner["activities"][activity_id]
        return json_response({"icu_athlete_id": owner["id"], "id": activity_id})

    def _list_activities(self, request: Request, athlete: dict) -> Response:
        query = request.query
        now_local = self.clock().astimezone(ZoneInfo(athlete["timezone"])).replace(tzinfo=None)
        try:
            oldest = _local_bound(query["oldest"], end_of_day=False)
            newest = _local_bound(query["newest"], end_of_day=True) if query.get("newest") else now_local
            limit = int(query["limit"]) if query.get("limit") else None
        except (KeyError, ValueError):  # oldest is required; Spring rejects a missing parameter
            return self.error_response(400, "Bad Request")
        chosen = [
            a
            for a in athlete["activities"].values()
            if oldest <= datetime.fromisoformat(a["start_date_local"]) <= newest
        ]
        chosen.sort(key=lambda a: (a["start_date_local"], int(a["id"][1:])), reverse=True)
        return json_response([_only_fields(a, query.get("fields")) for a in chosen[:limit]])

    def _activity_problem(self, fields, partial: bool = False) -> tuple[int, str] | None:
        problem = _activity_problem(fields, partial)
        name = fields.get("name") if isinstance(fields, dict) else None
        if problem is None and isinstance(name, str):
            if NAME_LENGTH_UNITS[self.name_length_unit](name) > MAX_NAME_LENGTH:
                return 422, "Name is too long"
        return problem

    def _stamp(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- validation and helpers ---------------------------------------------------------------------
def _activity_problem(fields, partial: bool = False) -> tuple[int, str] | None:
    """(status, message) when the activity would be refused, else None."""
    if not isinstance(fields, dict):
        return 400, "Bad Request"
    if not partial and not fields.get("type"):
        return 422, "type is required"
    if "type" in fields and fields["type"] not in SPORT_TYPES:
        return 400, "Bad Request"
    if not partial and not fields.get("start_date_local"):
        return 422, "start_date_local is required"
    if "start_date_local" in fields and not _is_naive_local(fields["start_date_local"]):
        return 422, "start_date_local must be local time without an offset, e.g. 2024-01-15T06:00:00"
    return None


def _is_naive_local(value) -> bool:
    try:
        return isinstance(value, str) and "T" in value and datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


def _local_bound(value: str, end_of_day: bool) -> datetime:
    """`oldest`/`newest` are local dates or date-times; a bare `newest` date covers its whole day."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        raise ValueError("local date-time expected")
    if end_of_day and DAY.fullmatch(value):
        moment = datetime.combine(moment.date(), clock_time.max)
    return moment


def _utc_start(start_date_local: str, timezone: str) -> str:
    local = datetime.fromisoformat(start_date_local).replace(tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _only_fields(activity: dict, fields: str | None) -> dict:
    """The `fields` parameter: keep only the named fields and drop nulls."""
    if not fields:
        return activity
    wanted = {name.strip() for name in fields.split(",")}
    return {k: v for k, v in activity.items() if k in wanted and v is not None}
