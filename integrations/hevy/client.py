"""Hevy public API v1: one method per endpoint fitsync calls, parsed into records at the edge."""

# Reference: https://api.hevyapp.com/docs (see docs/upstream.md, Hevy)

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from fitsync import http
from fitsync.errors import NotFound
from fitsync.records import Workout
from fitsync.throttle import MAX_WAIT, pacer

from .mapping import parse_time, workout_from_hevy

PROVIDER = "hevy"
MAX_PAGE_SIZE = 10  # the API answers 400 "Invalid page size" above this
MAX_TEMPLATE_PAGE_SIZE = 100  # /v1/exercise_templates allows larger pages (spec: "Max 100")
START_PER_SECOND = 4.0  # twice what a community client paces at (0.5 s per call); probed upward from here


@dataclass(frozen=True)
class HevyUser:
    id: str
    name: str
    url: str


@dataclass(frozen=True)
class WorkoutPage:
    page: int
    page_count: int
    workouts: list[Workout]


@dataclass(frozen=True)
class WorkoutEvent:
    """An entry of /v1/workouts/events: `workout` is set for "updated", None for "deleted".

    `at` is None for a deletion that came without `deleted_at`."""

    kind: str
    workout_id: str
    at: datetime | None
    workout: Workout | None = None


@dataclass(frozen=True)
class ExerciseTemplate:
    """An entry of /v1/exercise_templates: Hevy's built-in exercises and the user's own (`is_custom`)."""

    id: str
    title: str
    type: str
    primary_muscle_group: str
    secondary_muscle_groups: tuple[str, ...]
    is_custom: bool


@dataclass(frozen=True)
class EventPage:
    page: int
    page_count: int
    events: list[WorkoutEvent]


class HevyClient:
    def __init__(self, api_key: str, base_url: str | None = None, *, max_wait: float = MAX_WAIT):
        """`max_wait`: seconds a call may wait for the pacer before it raises RateLimited instead (a page
        answers sooner than a job needs to)."""
        self.api_key = api_key
        self.base_url = (base_url or settings.HEVY_API_URL).rstrip("/")
        self.max_wait = max_wait

    def _get(self, path: str, **params):
        headers = {"api-key": self.api_key, "Accept": "application/json"}
        url = self.base_url + path
        # No published limit: the instance's pacer starts slowly and adapts to 429s.
        pace = pacer(PROVIDER, settings.HEVY_REQUESTS_PER_SECOND, START_PER_SECOND, self.max_wait)
        response = pace.send(lambda: http.request(PROVIDER, "GET", url, params=params or None, headers=headers))
        return http.json_of(response, PROVIDER)

    def user_info(self) -> HevyUser:
        """GET /v1/user/info: also the check that an API key works."""
        data = (self._get("/v1/user/info") or {}).get("data") or {}
        return HevyUser(str(data.get("id") or ""), data.get("name") or "", data.get("url") or "")

    def workout(self, workout_id: str) -> Workout:
        """GET /v1/workouts/{id}; raises NotFound when Hevy has no such workout (any more)."""
        return workout_from_hevy(self._get(f"/v1/workouts/{workout_id}"))

    def workouts_page(self, page: int, page_size: int = MAX_PAGE_SIZE) -> WorkoutPage:
        """GET /v1/workouts (newest first). A page past the end is empty, whether Hevy says 404 or not."""
        try:
            data = self._get("/v1/workouts", page=page, pageSize=page_size)
        except NotFound:
            if page == 1:
                raise
            return WorkoutPage(page, page - 1, [])
        workouts = [workout_from_hevy(w) for w in data.get("workouts") or []]
        return WorkoutPage(int(data.get("page") or page), int(data.get("page_count") or 0), workouts)

    def workout_count(self) -> int:
        """GET /v1/workouts/count: how many workouts the account holds now."""
        return int(self._get("/v1/workouts/count").get("workout_count") or 0)

    def exercise_templates(self) -> list[ExerciseTemplate]:
        """GET /v1/exercise_templates, every page: Hevy's exercises and the user's custom ones."""
        templates, page, page_count = [], 1, 1
        while page <= page_count:
            try:
                data = self._get("/v1/exercise_templates", page=page, pageSize=MAX_TEMPLATE_PAGE_SIZE)
            except NotFound:
                if page == 1:
                    raise
                break  # a page past the end, however Hevy answers it
            templates += [t for t in map(_template_from_hevy, data.get("exercise_templates") or []) if t]
            page_count = int(data.get("page_count") or 0)
            page += 1
        return templates

    def events_page(self, since: str, page: int, page_size: int = MAX_PAGE_SIZE) -> EventPage:
        """GET /v1/workouts/events?since= (newest first): what changed or was deleted after `since`."""
        try:
            data = self._get("/v1/workouts/events", since=since, page=page, pageSize=page_size)
        except NotFound:
            if page == 1:
                raise
            return EventPage(page, page - 1, [])
        events = [event for event in map(_event_from_hevy, data.get("events") or []) if event]
        return EventPage(int(data.get("page") or page), int(data.get("page_count") or 0), events)


def _template_from_hevy(data: dict) -> ExerciseTemplate | None:
    if not isinstance(data, dict) or not data.get("id"):
        return None  # a template without an id cannot be matched to a workout's exercise
    return ExerciseTemplate(
        id=str(data["id"]),
        title=(data.get("title") or "").strip(),
        type=data.get("type") or "",
        primary_muscle_group=data.get("primary_muscle_group") or "",
        secondary_muscle_groups=tuple(data.get("secondary_muscle_groups") or ()),
        is_custom=bool(data.get("is_custom")),
    )


def _event_from_hevy(data: dict) -> WorkoutEvent | None:
    if data.get("type") == "updated" and isinstance(data.get("workout"), dict):
        workout = workout_from_hevy(data["workout"])
        return WorkoutEvent("updated", workout.source_id, workout.updated_at or workout.end, workout)
    if data.get("type") == "deleted" and data.get("id"):
        return WorkoutEvent("deleted", str(data["id"]), _time_or_none(data.get("deleted_at")))
    return None  # an event type fitsync does not know: skipped rather than failing the whole poll


def _time_or_none(stamp) -> datetime | None:
    try:
        return parse_time(stamp) if isinstance(stamp, str) and stamp else None
    except ValueError:
        return None
