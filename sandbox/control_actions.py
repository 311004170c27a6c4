"""What the sandbox control page and its JSON endpoints do to the fakes: plain functions on a Sandbox.

Each returns JSON-ready data; bad input raises `ValueError` (or `KeyError` for an unknown workout),
which the control service turns into a 400 or a message on the page.
"""

import random
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .core import Fault, LedgerEntry
from .hevy import parse_time_any
from .registry import (
    DEMO_EMAIL,
    DEMO_GARMIN_PASSWORD,
    DEMO_HEVY_API_KEY,
    DEMO_INTERVALS_API_KEY,
    DEMO_INTERVALS_ATHLETE,
    DEMO_INTERVALS_NUMERIC_API_KEY,
    DEMO_INTERVALS_NUMERIC_ATHLETE,
    DEMO_TIMEZONE,
    DEMO_WITHINGS_CLIENT_ID,
    DEMO_WITHINGS_CLIENT_SECRET,
    DEMO_WITHINGS_USERID,
    SERVICES,
    Sandbox,
    newest_workout_id,
)
from .withings_measures import WEIGHT, HistoryWalk
from .workouts import generate_workouts

# Fault plans a person can pick on the page: what a flaky upstream really does.
FAULT_KINDS: dict[str, tuple[str, dict]] = {
    "503x3": ("503 Service Unavailable, 3 calls", {"status": 503, "times": 3}),
    "429": ("429 Too Many Requests with Retry-After: 30", {"status": 429, "retry_after": 30}),
    "reset": ("Connection reset, 1 call", {"reset": True}),
    "blackhole": ("No answer at all (blackhole), 1 call", {"blackhole": True}),
}
_fresh = random.Random()  # new demo workouts need fresh ids, not the seeded world's sequence


# --- Hevy ---------------------------------------------------------------------------------------
def set_hevy_webhook(sandbox: Sandbox, url: str | None, authorization: str | None) -> dict:
    """Remember the webhook URL and Authorization value, as Hevy's developer settings do."""
    if url is not None and url.strip():
        if not url.strip().startswith(("http://", "https://")):
            raise ValueError("The webhook URL must start with http:// or https://")
        sandbox.hevy_webhook.url = url.strip()
    if authorization is not None:
        sandbox.hevy_webhook.authorization = authorization.strip()
    return asdict(sandbox.hevy_webhook)


def create_workout(sandbox: Sandbox, now: datetime | None = None) -> dict:
    """A workout that just ended, as if logged in the Hevy app a minute ago."""
    now = now or datetime.now(UTC)
    [workout] = generate_workouts(1, rng=_fresh, end=now, tz=DEMO_TIMEZONE)
    minutes = _fresh.randint(45, 80)
    workout.update(start_time=now - timedelta(minutes=minutes + 1), end_time=now - timedelta(minutes=1))
    for stamp in ("created_at", "updated_at"):
        workout.pop(stamp)  # the fake stamps them with its clock
    return sandbox.hevy.add_workout(DEMO_HEVY_API_KEY, workout)


def emit_hevy(
    sandbox: Sandbox, workout_id: str = "", new: bool = False, wait: bool = True, watch: bool = False
) -> dict:
    """Send Hevy's webhook for a workout (the newest, or a new one) to the configured target; with `watch`,
    the demo user's Garmin watch recorded the new workout too, synced before the webhook goes (the Hevy →
    Garmin Connect route then finds it once its wait for the watch is over)."""
    created = create_workout(sandbox) if new else None
    workout_id = created["id"] if created else workout_id or newest_workout_id(sandbox) or ""
    _hevy_workout(sandbox, workout_id)
    recorded = record_on_watch(sandbox, workout_id)["activity"] if created and watch else None
    target = sandbox.hevy_webhook
    authorization = target.authorization or (sandbox.hevy_secret_lookup() if sandbox.hevy_secret_lookup else "")
    args = (target.url, authorization or None, workout_id)
    result = {"workout_id": workout_id, "created": bool(created), "url": target.url}
    if recorded:
        result["watch_activity"] = recorded
    if not wait:
        sandbox.hevy.emit_webhook_in_background(*args)
        return {**result, "attempts": []}
    attempts = sandbox.hevy.emit_webhook(*args)
    return {**result, "attempts": [asdict(a) for a in attempts]}


def edit_workout(sandbox: Sandbox, workout_id: str = "", title: str = "") -> dict:
    workout = _hevy_workout(sandbox, workout_id or newest_workout_id(sandbox) or "")
    title = title.strip() or f"{workout['title']} (edited)"
    return sandbox.hevy.update_workout(DEMO_HEVY_API_KEY, workout["id"], title=title)


def delete_workout(sandbox: Sandbox, workout_id: str = "") -> dict:
    workout = _hevy_workout(sandbox, workout_id or newest_workout_id(sandbox) or "")
    return sandbox.hevy.delete_workout(DEMO_HEVY_API_KEY, workout["id"])


def record_on_watch(sandbox: Sandbox, workout_id: str = "") -> dict:
    """The demo user's Garmin watch recorded the same session (started 2 minutes before Hevy's, stopped 3
    after) and synced it: a strength activity with heart rate and calories, in the Garmin fake."""
    workout = _hevy_workout(sandbox, workout_id or newest_workout_id(sandbox) or "")
    start = parse_time_any(workout["start_time"]) - timedelta(minutes=2)
    end = parse_time_any(workout["end_time"]) + timedelta(minutes=3)
    calories = round((end - start).total_seconds() / 60 * _fresh.uniform(4.0, 6.0))
    activity = sandbox.garmin.add_watch_activity(DEMO_EMAIL, start, end, calories=calories)
    return {"workout_id": workout["id"], "activity": activity}


def _hevy_workout(sandbox: Sandbox, workout_id: str) -> dict:
    with sandbox.hevy.lock:
        user = sandbox.hevy.users.get(DEMO_HEVY_API_KEY, {"workouts": {}})
        workout = user["workouts"].get(workout_id)
    if workout is None:
        raise KeyError(f"The demo Hevy user has no workout {workout_id!r}")
    return workout


# --- Withings -----------------------------------------------------------------------------------
def step_on_scale(sandbox: Sandbox, weight_kg: str | float | None = None, wait: bool = True) -> dict:
    """A new weigh-in with body composition, near the last one; subscribers are notified."""
    latest = sandbox.withings.latest_weight(DEMO_WITHINGS_USERID) or Decimal("80")
    values = HistoryWalk(_fresh, weight=float(latest)).step()
    if weight_kg not in (None, ""):
        values["weight_kg"] = _kilograms(weight_kg)
    subscribers = [s.callbackurl for s in sandbox.withings.subscriptions.of_user(DEMO_WITHINGS_USERID, 1)]
    result = {"weight_kg": str(values["weight_kg"]), "subscribers": subscribers}
    if not wait:
        threading.Thread(target=_step, args=(sandbox, values), daemon=True).start()
        return result
    before = len(sandbox.withings.deliveries)
    grpid = _step(sandbox, values)
    deliveries = [asdict(d) for d in sandbox.withings.deliveries[before:]]
    return {**result, "grpid": grpid, "deliveries": deliveries}


def delete_latest_weigh_in(sandbox: Sandbox, wait: bool = True) -> dict:
    """The demo user deletes their latest weigh-in in the Withings app; subscribers are notified as the fake's
    `deletion_window` says, and getmeas shows it as `deletion_shape` says."""
    fake = sandbox.withings
    with fake.lock:
        live = [g for g in fake.groups.values() if g.userid == DEMO_WITHINGS_USERID and WEIGHT in g.types()]
    if not live:
        raise KeyError("The demo Withings user has no weigh-in to delete")
    latest = max(live, key=lambda g: (g.date, g.grpid))
    result = {"grpid": latest.grpid, "date": latest.date}
    if not wait:  # a page's form: the page must not hang on a slow receiver
        threading.Thread(target=fake.delete_weigh_in, args=(latest.grpid,), daemon=True).start()
        return result
    return {**result, "deliveries": [asdict(d) for d in fake.delete_weigh_in(latest.grpid)]}


def _step(sandbox: Sandbox, values: dict) -> int:
    return sandbox.withings.step_on_scale(DEMO_WITHINGS_USERID, **values)


def _kilograms(raw: str | float) -> Decimal:
    try:
        weight = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"Not a weight in kg: {raw!r}") from None
    if not Decimal(20) <= weight <= Decimal(300):
        raise ValueError("A weight between 20 and 300 kg, please")
    return weight.quantize(Decimal("0.01"))


# --- faults -------------------------------------------------------------------------------------
def add_fault(sandbox: Sandbox, service: str, kind: str, path: str = "") -> dict:
    if kind not in FAULT_KINDS:
        raise ValueError(f"Unknown fault {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
    fault = _fake(sandbox, service).add_fault(path=path, **FAULT_KINDS[kind][1])
    return {"service": service, "kind": kind, "fault": _fault_json(fault)}


def heal(sandbox: Sandbox, service: str = "") -> dict:
    """Clear the faults of one service, or of every service when `service` is empty or "all"."""
    names = list(SERVICES) if service in ("", "all") else [service]
    for name in names:
        _fake(sandbox, name).clear_faults()
    return {"healed": names}


def pending_faults(sandbox: Sandbox) -> list[dict]:
    rows = []
    for name, fake in sandbox.fakes().items():
        with fake.lock:
            rows += [{"service": name, **_fault_json(f)} for f in fake.faults if f.times > 0]
    return rows


def _fault_json(fault: Fault) -> dict:
    data = asdict(fault)
    data["body"] = data["body"].decode("utf-8", "replace") if data["body"] is not None else None
    return data


def _fake(sandbox: Sandbox, service: str):
    if service not in SERVICES:
        raise ValueError(f"Unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return sandbox.fake(service)


# --- Intervals.icu behaviours upstream leaves unconfirmed (docs/upstream.md) ---------------------
INTERVALS_BULK = {"upsert": "upserts on external_id", "create": "always creates"}
INTERVALS_NAME_UNITS = {"utf16": "UTF-16 units (Java)", "codepoints": "characters", "utf8": "UTF-8 bytes"}
INTERVALS_WELLNESS_PUTS = {"partial": "changes only the fields sent", "replace": "clears the fields not sent"}


def set_intervals_switches(sandbox: Sandbox, bulk: str, name_unit: str, wellness_put: str) -> dict:
    if (
        bulk not in INTERVALS_BULK
        or name_unit not in INTERVALS_NAME_UNITS
        or wellness_put not in INTERVALS_WELLNESS_PUTS
    ):
        bulks, units, puts = (
            ", ".join(INTERVALS_BULK),
            ", ".join(INTERVALS_NAME_UNITS),
            ", ".join(INTERVALS_WELLNESS_PUTS),
        )
        raise ValueError(f"bulk is one of {bulks}; name_unit one of {units}; wellness_put one of {puts}")
    sandbox.intervals.bulk_upsert = bulk == "upsert"
    sandbox.intervals.name_length_unit = name_unit
    sandbox.intervals.wellness_put = wellness_put
    return intervals_switches(sandbox)


def intervals_switches(sandbox: Sandbox) -> dict:
    fake = sandbox.intervals
    return {
        "bulk": "upsert" if fake.bulk_upsert else "create",
        "name_unit": fake.name_length_unit,
        "wellness_put": fake.wellness_put,
    }


# --- inspection ---------------------------------------------------------------------------------
def ledger(sandbox: Sandbox, service: str = "", limit: int = 50) -> dict:
    """The last `limit` calls each fake received, newest first."""
    names = [service] if service else list(SERVICES)
    result = {}
    for name in names:
        with _fake(sandbox, name).lock:
            entries = list(sandbox.fake(name).ledger[-limit:])
        result[name] = [_entry_json(e) for e in reversed(entries)]
    return result


def _entry_json(entry: LedgerEntry) -> dict:
    return {"method": entry.method, "path": entry.path, "query": entry.query, "status": entry.status, "at": entry.at}


def demo_info(sandbox: Sandbox) -> dict:
    """The credentials to type into fitsync's connect pages, and the Garmin MFA code if one waits."""
    return {
        "hevy": {"api_key": DEMO_HEVY_API_KEY, "webhook": asdict(sandbox.hevy_webhook)},
        "intervals": {
            "athlete_id": DEMO_INTERVALS_ATHLETE,
            "api_key": DEMO_INTERVALS_API_KEY,
            "numeric_athlete_id": DEMO_INTERVALS_NUMERIC_ATHLETE,
            "numeric_api_key": DEMO_INTERVALS_NUMERIC_API_KEY,
        },
        "withings": {
            "client_id": DEMO_WITHINGS_CLIENT_ID,
            "client_secret": DEMO_WITHINGS_CLIENT_SECRET,
            "redirect_uris": sandbox.withings_redirect_uris,
            "account": DEMO_EMAIL,
        },
        "garmin": {
            "email": DEMO_EMAIL,
            "password": DEMO_GARMIN_PASSWORD,
            "mfa_code": sandbox.garmin.current_mfa_code(DEMO_EMAIL),
        },
    }


def written(sandbox: Sandbox) -> dict:
    """What fitsync wrote so far: Intervals.icu activities and wellness days (oldest first), Garmin weigh-ins
    and activities of the demo users (the activities a watch recorded included: the page marks them by their
    maker)."""
    # An unseeded sandbox has no demo users: nothing written yet.
    intervals = DEMO_INTERVALS_ATHLETE in sandbox.intervals.athletes
    garmin = DEMO_EMAIL in sandbox.garmin.users
    wellness = sandbox.intervals.wellness(DEMO_INTERVALS_ATHLETE) if intervals else {}
    return {
        "intervals_activities": sandbox.intervals.activities(DEMO_INTERVALS_ATHLETE) if intervals else [],
        "intervals_wellness": [wellness[day] for day in sorted(wellness)],
        "garmin_weigh_ins": sandbox.garmin.weigh_ins(DEMO_EMAIL) if garmin else [],
        "garmin_activities": [_garmin_activity(a) for a in sandbox.garmin.activities(DEMO_EMAIL)] if garmin else [],
    }


def _garmin_activity(activity: dict) -> dict:
    shown = ("activityId", "activityName", "duration", "calories", "averageHR", "manufacturer")
    return {**{key: activity[key] for key in shown}, "start": activity["start"].isoformat()}
