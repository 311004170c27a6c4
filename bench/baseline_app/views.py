"""The seed tools' webhook: fetch the workout from Hevy and write it to Intervals.icu inside the request.

This is what the original Lambda does (S1 in docs/upstream-apis.md): check the Authorization value,
GET /v1/workouts/{id}, map it, POST it to Intervals.icu, then answer. It uses fitsync's mapping so both
sides send the same activity, plain `requests` (no pacing, no retries) and no database.
"""

import hmac
import json
import threading

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.hevy.mapping import workout_from_hevy
from integrations.intervals.mapping import activity_from_workout

WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef"
HEVY_KEY, INTERVALS_KEY, ATHLETE, TIMEZONE = "bench-hevy-key", "bench-baseline-key", "i2", "Europe/Berlin"
_local = threading.local()


def session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


@csrf_exempt
@login_not_required
@require_POST
def inline_hevy(request):
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), WEBHOOK_SECRET.encode()):
        return JsonResponse({"error": "unauthorized"}, status=401)
    workout_id = json.loads(request.body)["payload"]["workoutId"]
    raw = session().get(f"{settings.HEVY_API_URL}/v1/workouts/{workout_id}", headers={"api-key": HEVY_KEY}, timeout=10)
    raw.raise_for_status()
    data = raw.json()
    activity = activity_from_workout(workout_from_hevy(data.get("workout", data)), TIMEZONE)
    session().post(
        f"{settings.INTERVALS_API_URL}/api/v1/athlete/{ATHLETE}/activities/manual/bulk",
        json=[activity],
        auth=("API_KEY", INTERVALS_KEY),
        timeout=10,
    ).raise_for_status()
    return JsonResponse({"ok": True})
