"""Intervals.icu API: the endpoints fitsync calls, with a personal API key (HTTP Basic, user API_KEY)."""

# Reference: https://intervals.icu/api-docs.html (see /work/shared/docs/upstream-apis.md section 2)

import re
from dataclasses import dataclass

from django.conf import settings

from fitsync import http
from fitsync.errors import AuthExpired, PermanentError, RateLimited
from fitsync.throttle import Throttle

PROVIDER = "intervals"
ATHLETE_ID = re.compile(r"[iI]?(\d{1,12})")
_throttle: Throttle | None = None


@dataclass(frozen=True)
class Athlete:
    id: str
    name: str
    timezone: str


def normalize_athlete_id(raw: str) -> str | None:
    """`i12345`, `I12345` or `12345` -> `i12345`; anything else -> None."""
    match = ATHLETE_ID.fullmatch((raw or "").strip())
    return f"i{match.group(1)}" if match else None


def throttle() -> Throttle:
    global _throttle
    if _throttle is None or _throttle.per_second != settings.INTERVALS_REQUESTS_PER_SECOND:
        _throttle = Throttle(settings.INTERVALS_REQUESTS_PER_SECOND, service=PROVIDER)
    return _throttle


class IntervalsClient:
    def __init__(self, athlete_id: str, api_key: str, base_url: str | None = None):
        self.athlete_id = athlete_id
        self.auth = ("API_KEY", api_key)
        self.base_url = (base_url or settings.INTERVALS_API_URL).rstrip("/") + "/api/v1"

    def _call(self, method: str, path: str, **kwargs):
        throttle().wait()
        try:
            response = http.request(PROVIDER, method, self.base_url + path, auth=self.auth, **kwargs)
        except RateLimited as exc:
            throttle().pause(exc.retry_after or 1.0)
            raise
        except PermanentError as exc:
            if exc.status == 403:  # a valid key for another athlete: the user has to fix the connection
                raise AuthExpired(str(exc), provider=PROVIDER, status=403) from exc
            raise
        return http.json_of(response, PROVIDER)

    def athlete(self) -> Athlete:
        """GET /athlete/{id}: the profile, and the check that the id and key belong together."""
        data = self._call("GET", f"/athlete/{self.athlete_id}") or {}
        return Athlete(str(data.get("id") or self.athlete_id), data.get("name") or "", data.get("timezone") or "")

    def upsert_activities(self, activities: list[dict]) -> list[dict]:
        """POST /athlete/{id}/activities/manual/bulk: create, or update the one with the same external_id."""
        saved = self._call("POST", f"/athlete/{self.athlete_id}/activities/manual/bulk", json=activities)
        if not isinstance(saved, list):
            raise PermanentError("Intervals.icu answered the bulk upload without a list", provider=PROVIDER)
        return saved

    def delete_activity(self, activity_id: str) -> None:
        """DELETE /activity/{id}."""
        self._call("DELETE", f"/activity/{activity_id}")
