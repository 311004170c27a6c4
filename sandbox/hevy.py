"""A faithful fake of the Hevy public API (v1) and of Hevy's webhook sender.

State is a set of users keyed by API key, each with workouts and an events log. Errors speak
Hevy's dialect: JSON `{"error": "..."}`, except the 401, which is the bare text `InvalidApiKey`.
Options cover the spots where upstream behaviour is unconfirmed, so clients can be tested on each
variant: `wrap_single`, `legacy_supersets_key`, `collapse_events`, `page_past_end`,
`webhook_ids`, `since_format`, `deleted_at` and `rate_limit`.
"""

# Reference: docs/upstream-apis.md section 1 (Hevy public API v1) and section 6 (fake-server checklist).

import copy
import math
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Callable

import requests

from .core import FakeService, Request, Response, json_response, text_response
from .hevy_templates import CUSTOM_TEMPLATES, builtin_templates

DEFAULT_PAGE_SIZE = 5
MAX_PAGE_SIZE = 10
MAX_TEMPLATE_PAGE_SIZE = 100  # /v1/exercise_templates allows larger pages than the workout lists
EPOCH = "1970-01-01T00:00:00Z"  # the spec's default for `since`
SET_FIELDS = ("weight_kg", "reps", "distance_meters", "duration_seconds", "rpe", "custom_metric")


@dataclass
class WebhookAttempt:
    """One delivery attempt of a webhook event; re-sends of one event share its `event_id`."""

    number: int
    event_id: str
    workout_id: str
    status: int | None
    error: str | None
    elapsed: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class HevyFake(FakeService):
    name = "hevy"

    def __init__(
        self,
        *,
        wrap_single: bool = False,
        legacy_supersets_key: bool = False,
        collapse_events: bool = True,
        page_past_end: str = "404",
        webhook_ids: str = "per_event",
        since_format: str = "any",
        deleted_at: bool = True,
        rate_limit: float | None = None,
        retry_after: bool = True,
        clock: Callable[[], datetime] | None = None,
    ):
        """Options, for behaviour upstream does not pin down (section 1.2):

        wrap_single: GET /v1/workouts/{id} answers `{"workout": {...}}` instead of the bare object.
        legacy_supersets_key: exercises carry the spec's `supersets_id`, not the live `superset_id`.
        collapse_events: /events lists each workout once, at its latest change (a "changes since"
            query); False lists every recorded change, each with the workout as it was then.
        page_past_end: "404" answers `{"error": "Page not found"}` past page_count (as the
            body-measurements endpoint declares); "empty" answers 200 with an empty list.
        webhook_ids: what the webhook body's top-level `id` identifies, which Hevy does not document:
            "per_event" a new id per saved workout (re-sends share it), "stable" one id for the
            subscription, the same in every delivery.
        since_format: "any" reads any ISO 8601 `since` (with `+00:00` too); "z" refuses with 400
            anything but UTC with `Z`, the only form in Hevy's spec and live timestamps.
        deleted_at: False lists "deleted" events without their `deleted_at`.
        rate_limit: requests/s allowed per API key (a token bucket holding one second's worth), unknown
            upstream and unpublished, so hidden: above it the answer is 429, with a Retry-After in whole
            seconds when `retry_after` is True and without one otherwise. None: no limit.
        """
        super().__init__()
        self.wrap_single = wrap_single
        self.legacy_supersets_key = legacy_supersets_key
        self.collapse_events = collapse_events
        self.page_past_end = page_past_end
        self.webhook_ids = webhook_ids
        self.since_format = since_format
        self.deleted_at = deleted_at
        self.rate_limit = rate_limit
        self.retry_after = retry_after
        self._buckets: dict[str, tuple[float, float]] = {}  # api key -> (tokens, at)
        self.subscription_id = str(uuid.uuid4())
        self.clock = clock or (lambda: datetime.now(UTC))
        self.users: dict[str, dict] = {}
        self.webhook_attempts: list[WebhookAttempt] = []
        self.route("GET", r"/v1/user/info", self._authed(self._user_info))
        self.route("GET", r"/v1/workouts", self._authed(self._list_workouts))
        self.route("GET", r"/v1/workouts/count", self._authed(self._count_workouts))
        self.route("GET", r"/v1/workouts/events", self._authed(self._list_events))
        self.route("GET", r"/v1/workouts/(?P<workout_id>[^/]+)", self._authed(self._get_workout))
        self.route("GET", r"/v1/exercise_templates", self._authed(self._list_templates))

    # --- state ----------------------------------------------------------------------------------
    def add_user(self, api_key: str, name: str = "demo_lifter", user_id: str | None = None) -> dict:
        user = {
            "api_key": api_key,
            "id": user_id or str(uuid.uuid4()),
            "name": name,
            "url": f"https://hevy.com/user/{name}",
            "workouts": {},
            "events": [],
            "custom_templates": copy.deepcopy(list(CUSTOM_TEMPLATES)),
        }
        with self.lock:
            self.users[api_key] = user
        return user

    def add_workout(self, api_key: str, workout: dict) -> dict:
        """Store a workout (missing fields filled in) and record its "updated" event."""
        with self.lock:
            stored = normalize_workout(workout, self.clock())
            user = self.users[api_key]
            user["workouts"][stored["id"]] = stored
            user["events"].append({"type": "updated", "workout": copy.deepcopy(stored)})
            return copy.deepcopy(stored)

    def add_workouts(self, api_key: str, workouts: list[dict]) -> list[dict]:
        return [self.add_workout(api_key, workout) for workout in workouts]

    def add_custom_template(self, api_key: str, title: str, kind: str = "weight_reps", muscle: str = "other") -> dict:
        """A custom exercise as the app creates one: a UUID id, `is_custom` true."""
        template = {
            "id": str(uuid.uuid4()),
            "title": title,
            "type": kind,
            "primary_muscle_group": muscle,
            "secondary_muscle_groups": [],
            "equipment_category": "other",
            "is_custom": True,
        }
        with self.lock:
            self.users[api_key]["custom_templates"].append(template)
        return dict(template)

    def update_workout(self, api_key: str, workout_id: str, **changes) -> dict:
        """Edit a workout as the app would: apply `changes`, bump updated_at, record the event."""
        with self.lock:
            user = self.users[api_key]
            current = user["workouts"][workout_id]
            changes["updated_at"] = _stamp(self._later_than(current["updated_at"]))
            stored = normalize_workout({**current, **changes, "id": workout_id}, self.clock())
            user["workouts"][workout_id] = stored
            user["events"].append({"type": "updated", "workout": copy.deepcopy(stored)})
            return copy.deepcopy(stored)

    def delete_workout(self, api_key: str, workout_id: str) -> dict:
        with self.lock:
            user = self.users[api_key]
            current = user["workouts"].pop(workout_id)
            deleted_at = _stamp(self._later_than(current["updated_at"]))
            event = {"type": "deleted", "id": workout_id, "deleted_at": deleted_at}
            user["events"].append(event)
            return dict(event)

    def _later_than(self, stamp: str) -> datetime:
        # Events are ordered by time, so a change must never land before the state it changes.
        return max(self.clock(), parse_time(stamp) + timedelta(milliseconds=1))

    # --- requests -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        response.headers.setdefault("Access-Control-Allow-Origin", "*")  # observed live (1.1)
        return response

    def error_response(self, status: int, message: str) -> Response:
        if status == 401:
            # Hevy's one non-JSON error: a bare string served as HTML (section 1.1, observed).
            return text_response("InvalidApiKey", 401, content_type="text/html")
        return json_response({"error": message}, status)

    def _authed(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        def with_user(request: Request, **params) -> Response:
            with self.lock:
                user = self.users.get(request.header("api-key") or "")
                if user is None:
                    return self.error_response(401, "InvalidApiKey")
                wait = self._take_token(user["api_key"])
                if wait:
                    return self._too_many_requests(wait)
                return handler(request, user, **params)

        return with_user

    def _take_token(self, api_key: str) -> float:
        """0 when the request may go through, else the seconds until it could."""
        if not self.rate_limit:
            return 0.0
        now, capacity = time.monotonic(), max(1.0, self.rate_limit)
        tokens, at = self._buckets.get(api_key, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * self.rate_limit)
        if tokens < 1:
            self._buckets[api_key] = (tokens, now)
            return (1 - tokens) / self.rate_limit
        self._buckets[api_key] = (tokens - 1, now)
        return 0.0

    def _too_many_requests(self, wait: float) -> Response:
        response = self.error_response(429, "Too Many Requests")
        if self.retry_after:
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    def _user_info(self, request: Request, user: dict) -> Response:
        return json_response({"data": {"id": user["id"], "name": user["name"], "url": user["url"]}})

    def _list_workouts(self, request: Request, user: dict) -> Response:
        # Newest first, as community clients report; the spec does not state an order (1.2).
        workouts = sorted(user["workouts"].values(), key=lambda w: parse_time(w["start_time"]), reverse=True)
        return self._page(request, "workouts", workouts, self._serialize)

    def _count_workouts(self, request: Request, user: dict) -> Response:
        return json_response({"workout_count": len(user["workouts"])})

    def _get_workout(self, request: Request, user: dict, workout_id: str) -> Response:
        workout = user["workouts"].get(workout_id)
        if workout is None:
            return self.error_response(404, "Workout not found")
        body = self._serialize(workout)
        return json_response({"workout": body} if self.wrap_single else body)

    def _list_templates(self, request: Request, user: dict) -> Response:
        # Hevy's built-in templates first, then the user's own (order unconfirmed: nothing relies on it).
        templates = builtin_templates() + user["custom_templates"]
        return self._page(request, "exercise_templates", templates, dict, max_size=MAX_TEMPLATE_PAGE_SIZE)

    def _list_events(self, request: Request, user: dict) -> Response:
        raw = request.query.get("since") or EPOCH
        try:
            since = parse_time(raw)
        except ValueError:
            return self.error_response(400, "Invalid since")
        if self.since_format == "z" and not raw.endswith("Z"):
            return self.error_response(400, "Invalid since")
        events = [e for e in self._events_newest_first(user) if _event_time(e) > since]
        return self._page(request, "events", events, self._serialize_event)

    def _events_newest_first(self, user: dict) -> list[dict]:
        ordered = list(enumerate(user["events"]))
        if self.collapse_events:
            latest = {_event_workout_id(event): (i, event) for i, event in ordered}
            ordered = sorted(latest.values(), key=lambda pair: pair[0])
        ordered.sort(key=lambda pair: (_event_time(pair[1]), pair[0]), reverse=True)
        return [event for _, event in ordered]

    def _page(self, request: Request, key: str, items: list, serialize, max_size: int = MAX_PAGE_SIZE) -> Response:
        """One page of `items`; only that page is serialized (a copy of a year of history per request
        would serialize concurrent readers behind the lock)."""
        page = _positive_int(request.query.get("page"), default=1)
        size = _positive_int(request.query.get("pageSize"), default=DEFAULT_PAGE_SIZE)
        if page is None:
            return self.error_response(400, "Invalid page")
        if size is None or size > max_size:
            return self.error_response(400, "Invalid page size")
        page_count = math.ceil(len(items) / size)
        if page > max(page_count, 1) and self.page_past_end == "404":
            return self.error_response(404, "Page not found")
        chunk = [serialize(item) for item in items[(page - 1) * size : page * size]]
        return json_response({"page": page, "page_count": page_count, key: chunk})

    def _serialize(self, workout: dict) -> dict:
        body = copy.deepcopy(workout)
        if self.legacy_supersets_key:
            exercises = body["exercises"]
            body["exercises"] = [_rename_key(e, "superset_id", "supersets_id") for e in exercises]
        return body

    def _serialize_event(self, event: dict) -> dict:
        if event["type"] == "updated":
            return {"type": "updated", "workout": self._serialize(event["workout"])}
        return dict(event) if self.deleted_at else {k: v for k, v in event.items() if k != "deleted_at"}

    # --- webhooks -------------------------------------------------------------------------------
    def emit_webhook(
        self,
        url: str,
        authorization: str | None,
        workout_id: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> list[WebhookAttempt]:
        """POST Hevy's webhook body to `url`; re-send the same event up to `retries` more times.

        A delivery fails on a non-2xx answer, a connection error, or no answer within `timeout`
        seconds (Hevy expects 200 within about 5 s, section 1.4). The wait before re-send n is
        `backoff * 2**(n-1)` seconds; Hevy's real count and backoff are unconfirmed.
        """
        body = self.webhook_body(workout_id)
        headers = {"Authorization": authorization} if authorization is not None else {}
        attempts: list[WebhookAttempt] = []
        for number in range(1, retries + 2):
            attempt = _deliver(url, headers, body, timeout, number, workout_id)
            attempts.append(attempt)
            with self.lock:
                self.webhook_attempts.append(attempt)
            if attempt.ok:
                break
            if number <= retries and backoff:
                time.sleep(backoff * 2 ** (number - 1))
        return attempts

    def webhook_body(self, workout_id: str) -> dict:
        """The body of a new webhook event for `workout_id` (its re-sends repeat it unchanged)."""
        event_id = self.subscription_id if self.webhook_ids == "stable" else str(uuid.uuid4())
        return {"id": event_id, "payload": {"workoutId": workout_id}}

    def emit_webhook_in_background(
        self, url: str, authorization: str | None, workout_id: str, **options
    ) -> threading.Thread:
        """Like `emit_webhook`, on a daemon thread; attempts land in `self.webhook_attempts`."""
        thread = threading.Thread(
            target=self.emit_webhook,
            args=(url, authorization, workout_id),
            kwargs=options,
            daemon=True,
        )
        thread.start()
        return thread


def _deliver(url: str, headers: dict, body: dict, timeout: float, number: int, workout_id: str) -> WebhookAttempt:
    started = time.monotonic()
    status, error = None, None
    try:
        status = requests.post(url, json=body, headers=headers, timeout=timeout).status_code
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - started
    return WebhookAttempt(number, body["id"], workout_id, status, error, elapsed)


# --- workout JSON -------------------------------------------------------------------------------
def normalize_workout(workout: dict, now: datetime) -> dict:
    """A workout in the exact shape and key order of the spec (1.3), missing fields filled in."""
    start = workout.get("start_time") or now - timedelta(hours=1)
    end = workout.get("end_time") or parse_time_any(start) + timedelta(hours=1)
    return {
        "id": workout.get("id") or str(uuid.uuid4()),
        "title": workout.get("title", "Workout"),
        "routine_id": workout.get("routine_id"),
        "description": workout.get("description"),
        "start_time": _as_workout_time(start),
        "end_time": _as_workout_time(end),
        "updated_at": workout.get("updated_at") or _stamp(now),
        "created_at": workout.get("created_at") or _stamp(now),
        "exercises": [_exercise(i, e) for i, e in enumerate(workout.get("exercises") or [])],
    }


def _exercise(position: int, exercise: dict) -> dict:
    # The spec calls it supersets_id, the live API superset_id (1.3); accept either on the way in.
    superset = exercise.get("superset_id", exercise.get("supersets_id"))
    return {
        "index": exercise.get("index", position),
        "title": exercise.get("title", ""),
        "notes": exercise.get("notes"),
        "exercise_template_id": exercise.get("exercise_template_id", "00000000"),
        "superset_id": superset,
        "sets": [_set(i, s) for i, s in enumerate(exercise.get("sets") or [])],
    }


def _set(position: int, row: dict) -> dict:
    fields = {name: row.get(name) for name in SET_FIELDS}
    return {"index": row.get("index", position), "type": row.get("type", "normal"), **fields}


def _rename_key(mapping: dict, old: str, new: str) -> dict:
    return {(new if key == old else key): value for key, value in mapping.items()}


def _event_workout_id(event: dict) -> str:
    return event["workout"]["id"] if event["type"] == "updated" else event["id"]


def _event_time(event: dict) -> datetime:
    stamp = event["workout"]["updated_at"] if event["type"] == "updated" else event["deleted_at"]
    return parse_time(stamp)


def _positive_int(raw: str | None, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None


def parse_time(stamp: str) -> datetime:
    """Parse both of Hevy's forms (`...+00:00` and `...788Z`); naive input is taken as UTC."""
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_time_any(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else parse_time(value)


def _as_workout_time(value: str | datetime) -> str:
    """start_time/end_time: strings are kept as given, datetimes get Hevy's `+00:00` form."""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def _stamp(moment: datetime) -> str:
    """created_at/updated_at/deleted_at in Hevy's live form: milliseconds and `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
