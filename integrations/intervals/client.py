"""Intervals.icu API: the endpoints fitsync calls, with a personal API key (HTTP Basic, user API_KEY).

Bulk upload only creates: its upsert on external_id is documented for OAuth applications, and fitsync
uses a personal key, so a known activity is changed with PUT and removed with DELETE by its id.
"""

# Reference: https://intervals.icu/api-docs.html (see docs/upstream.md, "Intervals.icu")

import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from fitsync import http
from fitsync.errors import AuthExpired, PermanentError
from fitsync.throttle import pacer

from .mapping import shorten_names

PROVIDER = "intervals"
ATHLETE_ID = re.compile(r"i?\d{1,12}")
KEY_OWNER = "0"  # the athlete path segment that means "whoever owns this key"
LISTED_FIELDS = "id,external_id,start_date_local,name"


@dataclass(frozen=True)
class Athlete:
    id: str
    name: str
    timezone: str


def normalize_athlete_id(raw: str) -> str | None:
    """`i12345` or `12345` as typed (they are two different athletes); `I12345` -> `i12345`; else None."""
    cleaned = (raw or "").strip()
    cleaned = "i" + cleaned[1:] if cleaned[:1] == "I" else cleaned
    return cleaned if ATHLETE_ID.fullmatch(cleaned) else None


# Intervals.icu allows about 10 requests/s with a short burst (docs/upstream.md): after a lull, the slots of
# the last eighth of a second go at once, so no second holds more than 1.125 x the paced rate (8/s: 9).
BURST_SECONDS = 0.125


class IntervalsClient:
    def __init__(self, athlete_id: str, api_key: str, base_url: str | None = None):
        self.athlete_id = athlete_id
        self.auth = ("API_KEY", api_key)
        self.base_url = (base_url or settings.INTERVALS_API_URL).rstrip("/") + "/api/v1"

    def _call(self, method: str, path: str, **kwargs):
        return http.json_of(self._send(method, path, **kwargs), PROVIDER)

    def _send(self, method: str, path: str, **kwargs):
        pace = pacer(PROVIDER, settings.INTERVALS_REQUESTS_PER_SECOND, burst=BURST_SECONDS)
        try:
            return pace.send(lambda: http.request(PROVIDER, method, self.base_url + path, auth=self.auth, **kwargs))
        except PermanentError as exc:
            if exc.status == 403:  # a valid key for another athlete: the user has to fix the connection
                raise AuthExpired(str(exc), provider=PROVIDER, status=403) from exc
            raise

    def athlete(self) -> Athlete:
        """GET /athlete/{id}: the profile, and the check that the id and key belong together."""
        data = self._call("GET", f"/athlete/{self.athlete_id}") or {}
        return Athlete(str(data.get("id") or self.athlete_id), data.get("name") or "", data.get("timezone") or "")

    def key_owner(self) -> Athlete:
        """GET /athlete/0: the athlete who owns the key, with the id exactly as Intervals.icu spells it."""
        data = self._call("GET", f"/athlete/{KEY_OWNER}") or {}
        if not data.get("id"):
            raise PermanentError("Intervals.icu answered the profile without an athlete id", provider=PROVIDER)
        return Athlete(str(data["id"]), data.get("name") or "", data.get("timezone") or "")

    def create_activities(self, activities: list[dict]) -> list[dict]:
        """POST /athlete/{id}/activities/manual/bulk, only ever for activities not yet in Intervals.icu."""
        saved = self._with_fitting_names(
            activities,
            lambda: self._call("POST", f"/athlete/{self.athlete_id}/activities/manual/bulk", json=activities),
        )
        if not isinstance(saved, list):
            raise PermanentError("Intervals.icu answered the bulk upload without a list", provider=PROVIDER)
        return saved

    def update_activity(self, activity_id: str, fields: dict) -> dict:
        """PUT /activity/{id}: a partial update; fields not sent keep their values."""
        saved = self._with_fitting_names([fields], lambda: self._call("PUT", f"/activity/{activity_id}", json=fields))
        return saved if isinstance(saved, dict) else {"id": activity_id}

    def delete_activity(self, activity_id: str) -> None:
        """DELETE /activity/{id}."""
        self._call("DELETE", f"/activity/{activity_id}")

    def activities_between(self, oldest: date, newest: date) -> list[dict]:
        """GET /athlete/{id}/activities for local dates oldest..newest (both whole days): id and external_id."""
        params = {"oldest": oldest.isoformat(), "newest": newest.isoformat(), "fields": LISTED_FIELDS}
        listed = self._call("GET", f"/athlete/{self.athlete_id}/activities", params=params)
        return [a for a in listed if isinstance(a, dict) and a.get("id")] if isinstance(listed, list) else []

    def custom_items(self) -> list[dict]:
        """GET /athlete/{id}/custom-item: the athlete's charts and custom fields (wellness ones are INPUT_FIELD)."""
        items = self._call("GET", f"/athlete/{self.athlete_id}/custom-item")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def wellness_day(self, day: date) -> dict:
        """GET /athlete/{id}/wellness/{day}: the day's record (custom fields at its top level)."""
        record = self._call("GET", f"/athlete/{self.athlete_id}/wellness/{day.isoformat()}")
        return record if isinstance(record, dict) else {}

    def wellness_days(self, oldest: date, newest: date) -> dict[str, dict]:
        """GET /athlete/{id}/wellness for local days oldest..newest (both included): day -> record."""
        params = {"oldest": oldest.isoformat(), "newest": newest.isoformat()}
        listed = self._call("GET", f"/athlete/{self.athlete_id}/wellness", params=params)
        records = listed if isinstance(listed, list) else []
        return {str(r["id"]): r for r in records if isinstance(r, dict) and r.get("id")}

    def put_wellness_day(self, day: date, record: dict) -> None:
        """PUT /athlete/{id}/wellness/{day}."""
        self._call("PUT", f"/athlete/{self.athlete_id}/wellness/{day.isoformat()}", json=record)

    def put_wellness_days(self, records: list[dict]) -> None:
        """PUT /athlete/{id}/wellness-bulk: records whose `id` is their day; answered 200 without a body."""
        self._send("PUT", f"/athlete/{self.athlete_id}/wellness-bulk", json=records)

    def _with_fitting_names(self, activities: list[dict], send):
        """Send; if Intervals.icu still finds a name too long, shorten the names in place and send once more."""
        try:
            return send()
        except PermanentError as exc:
            if exc.status != 422 or "too long" not in str(exc).lower():
                raise
            if not any(shorten_names(activities)):
                raise
            return send()
