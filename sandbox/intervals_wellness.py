"""The wellness half of the Intervals.icu fake: a record per athlete and local day, the athlete's custom
wellness fields, and locked days.

What it answers, as the OpenAPI document and the developer's forum posts describe it (docs/upstream.md,
"Intervals.icu"): `GET /wellness/{day}` (a day without data is an empty record), `GET /wellness?oldest=&newest=`,
`PUT /wellness/{day}`, `PUT /wellness` (the day in the body's `id`), `PUT /wellness-bulk` (an array, answered
200 without a body) and `GET /custom-item` (custom wellness fields are `INPUT_FIELD` items whose `content.code`
names a top-level field of the record).

The switch `wellness_put` is what a PUT does with the fields it is not sent, unconfirmed in practice:
"partial" (default, as the OpenAPI text says: "Only fields provided are changed") keeps them; "replace"
clears them (the fields Intervals.icu computes itself, fitness and load, stay). Under both, a number sent
as -1 clears its field, and a field that is neither in the Wellness schema nor one of the athlete's custom
wellness fields is dropped. A locked record (`locked: true`) is written like any other: the lock keeps
Intervals.icu's own device syncs off an athlete's entries, and whether the API honours it is unconfirmed, so
the fake does not and a client has to look before it writes.
"""

import itertools
import re
from datetime import date

from .core import Request, Response, json_body, json_response

WELLNESS_PUTS = ("partial", "replace")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CLEAR = -1  # "To 'unset' numeric fields send -1"
# Computed by Intervals.icu: kept by a replacing PUT, never taken from a request.
COMPUTED_FIELDS = frozenset("ctl atl rampRate ctlLoad atlLoad sportInfo updated menstrualPhasePredicted".split())
# The OpenAPI Wellness schema's fields an athlete or an integration may write.
WRITABLE_FIELDS = frozenset(
    "weight restingHR hrv hrvSDNN menstrualPhase kcalConsumed sleepSecs sleepScore sleepQuality avgSleepingHR "
    "soreness fatigue stress mood motivation injury spO2 systolic diastolic hydration hydrationVolume readiness "
    "baevskySI bloodGlucose lactate bodyFat abdomen vo2max comments steps respiration locked tempWeight "
    "tempRestingHR".split()
)
CUSTOM_FIELD_TYPES = ("numeric", "text", "select")
FIRST_CUSTOM_ITEM_ID = 7001


class WellnessMixin:
    """Expects `lock`, `athletes`, `wellness_put`, `route`, `_for_athlete`, `_stamp` and `error_response`."""

    _custom_item_ids = itertools.count(FIRST_CUSTOM_ITEM_ID)

    def _add_wellness_routes(self, path: str) -> None:
        for_athlete = self._for_athlete
        self.route("GET", path + r"/custom-item", for_athlete(self._custom_items))
        self.route("GET", path + r"/wellness/(?P<day>[^/]+)", for_athlete(self._get_wellness))
        self.route("PUT", path + r"/wellness/(?P<day>[^/]+)", for_athlete(self._put_wellness))
        self.route("GET", path + r"/wellness", for_athlete(self._list_wellness))
        self.route("PUT", path + r"/wellness", for_athlete(self._put_wellness_by_body))
        self.route("PUT", path + r"/wellness-bulk", for_athlete(self._put_wellness_bulk))

    # --- state, as the athlete makes it in the web app ----------------------------------------------
    def add_custom_item(
        self, athlete_id: str, code: str, *, item_type: str = "INPUT_FIELD", field_type: str = "numeric", name: str = ""
    ) -> dict:
        """A custom field the athlete defined: INPUT_FIELD is a wellness field, ACTIVITY_FIELD an activity's."""
        if field_type not in CUSTOM_FIELD_TYPES:
            raise ValueError(f"field_type is one of {', '.join(CUSTOM_FIELD_TYPES)}")
        content = {"code": code, "name": name or code, "type": field_type}
        item = {
            "id": next(self._custom_item_ids),
            "athlete_id": athlete_id,
            "type": item_type,
            "visibility": "PRIVATE",
            "name": name or code,
            "content": content,
        }
        with self.lock:
            self.athletes[athlete_id]["custom_items"].append(item)
        return item

    def set_wellness(self, athlete_id: str, day: str, **fields) -> dict:
        """What the athlete types into the day's wellness dialog (comments, restingHR, locked...)."""
        with self.lock:
            record = self.athletes[athlete_id]["wellness"].setdefault(day, {"id": day})
            record.update(fields, updated=self._stamp())
            return dict(record)

    def wellness(self, athlete_id: str) -> dict[str, dict]:
        """Every stored wellness record of the athlete by day, as copies."""
        with self.lock:
            return {day: dict(record) for day, record in self.athletes[athlete_id]["wellness"].items()}

    # --- requests -------------------------------------------------------------------------------
    def _custom_items(self, request: Request, athlete: dict) -> Response:
        return json_response(athlete["custom_items"])

    def _get_wellness(self, request: Request, athlete: dict, day: str) -> Response:
        if not is_day(day):
            return self.error_response(400, "Bad Request")
        # A day without data answers an empty record, not a 404 (a choice: upstream unconfirmed).
        return json_response(athlete["wellness"].get(day, {"id": day}))

    def _list_wellness(self, request: Request, athlete: dict) -> Response:
        oldest, newest = request.query.get("oldest", "0001-01-01"), request.query.get("newest", "9999-12-31")
        if not (is_day(oldest) and is_day(newest)):
            return self.error_response(400, "Bad Request")
        days = sorted(day for day in athlete["wellness"] if oldest <= day <= newest)
        return json_response([athlete["wellness"][day] for day in days])

    def _put_wellness(self, request: Request, athlete: dict, day: str) -> Response:
        fields = json_body(request)
        if not is_day(day) or not isinstance(fields, dict):
            return self.error_response(400, "Bad Request")
        return json_response(self._write_wellness(athlete, day, fields))

    def _put_wellness_by_body(self, request: Request, athlete: dict) -> Response:
        fields = json_body(request)
        if not isinstance(fields, dict) or not is_day(str(fields.get("id"))):
            return self.error_response(400, "Bad Request")
        return json_response(self._write_wellness(athlete, fields["id"], fields))

    def _put_wellness_bulk(self, request: Request, athlete: dict) -> Response:
        records = json_body(request)
        if not isinstance(records, list) or not all(isinstance(r, dict) and is_day(str(r.get("id"))) for r in records):
            return self.error_response(400, "Bad Request")
        for record in records:
            self._write_wellness(athlete, record["id"], record)
        return Response(200)

    def _write_wellness(self, athlete: dict, day: str, fields: dict) -> dict:
        writable = WRITABLE_FIELDS | custom_wellness_codes(athlete["custom_items"])
        sent = {name: None if is_clear(value) else value for name, value in fields.items() if name in writable}
        old = athlete["wellness"].get(day, {"id": day})
        kept = old if self.wellness_put == "partial" else {k: v for k, v in old.items() if k in COMPUTED_FIELDS}
        record = {**kept, "id": day, **sent, "updated": self._stamp()}
        athlete["wellness"][day] = record
        return record


def custom_wellness_codes(custom_items: list[dict]) -> frozenset[str]:
    return frozenset(item["content"]["code"] for item in custom_items if item["type"] == "INPUT_FIELD")


def is_clear(value) -> bool:
    return type(value) in (int, float) and value == CLEAR


def is_day(value: str) -> bool:
    if not DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
