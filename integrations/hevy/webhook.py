"""POST /webhooks/hevy/: Hevy's "workout saved" webhook. It only records and queues work.

Hevy sends `{"id": "<event uuid>", "payload": {"workoutId": "<uuid>"}}` with the Authorization value
configured in its developer settings, and re-sends when the answer takes more than a few seconds
(section 1.4), so: authenticate, cap, parse, one short transaction, 200. No upstream call here.
"""

import json
import logging
import re
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from fitsync import crypto, deliveries, route_settings, sync
from fitsync.models import ConnectedAccount, InboundEvent, Provider, SyncItem
from fitsync.routes import routes_from

log = logging.getLogger("fitsync.webhooks.hevy")
unsupported = logging.getLogger("fitsync.webhooks.unsupported")
MAX_BODY_BYTES = 64 * 1024
BEARER = re.compile(r"^bearer\s+", re.IGNORECASE)
SOURCE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")
# Hevy re-sends a delivery it got no quick answer to within seconds to minutes; a pair seen again after
# this is a new delivery (an edit). A redelivery wrongly taken as new costs one GET and no write.
REDELIVERY_WINDOW = timedelta(minutes=10)
clock = timezone.now  # replaced in tests to deliver again later without waiting


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def receive(request):
    if request.method != "POST":  # a probe: say what lives here, without touching anything
        return HttpResponse(
            "fitsync: Hevy webhook endpoint. Hevy POSTs workout events here.\n", content_type="text/plain"
        )
    account_id = authenticated_account_id(request.headers.get("Authorization", ""))
    if account_id is None:
        log.info("Hevy webhook with a missing or unknown Authorization value")
        return refused(None, 401, "unauthorized", "The Authorization value is missing or is not this webhook's secret.")
    body = bounded_body(request)
    if body is None:
        return refused(account_id, 413, "body too large", f"The body is larger than {MAX_BODY_BYTES // 1024} KB.")
    event_id, workout_id = parse_delivery(body)
    if workout_id is None:
        reason = "The body is not a Hevy workout event (JSON with payload.workoutId)."
        return refused(account_id, 400, "expected JSON with payload.workoutId", reason)
    outcome = record_delivery(account_id, event_id, workout_id, body)
    return JsonResponse({"ok": True, "outcome": outcome})


def refused(account_id: int | None, status: int, error: str, reason: str) -> JsonResponse:
    deliveries.record(Provider.HEVY, deliveries.Outcome.REFUSED, status, account_id=account_id, reason=reason)
    return JsonResponse({"error": error}, status=status)


def authenticated_account_id(header: str) -> int | None:
    """The id of the account whose webhook secret was presented, raw or as `Bearer <secret>`; else None.

    The lookup by SHA-256 digest is the check: the secret is random and long, so only its holder can
    present a value with that digest (and the digest, unlike a stored secret, is no use to a reader of
    the database).
    """
    digests = [crypto.digest(value) for value in {header.strip(), BEARER.sub("", header.strip())} - {""}]
    if not digests:
        return None
    accounts = ConnectedAccount.objects.filter(provider=Provider.HEVY, webhook_digest__in=digests)
    return accounts.order_by("pk").values_list("pk", flat=True).first()


def bounded_body(request) -> bytes | None:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)  # not request.body: that would buffer up to 1 MB first
    return None if len(body) > MAX_BODY_BYTES else body


def parse_delivery(body: bytes) -> tuple[str, str | None]:
    """(event id or "", workout id or None when the body is not a Hevy delivery)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: `[[[[...` nested past the limit
        return "", None
    payload = data.get("payload") if isinstance(data, dict) else None
    workout_id = payload.get("workoutId") if isinstance(payload, dict) else None
    if not isinstance(workout_id, str) or not SOURCE_ID.fullmatch(workout_id):
        return "", None
    event_id = data.get("id")
    return (event_id if isinstance(event_id, str) and SOURCE_ID.fullmatch(event_id) else ""), workout_id


def record_delivery(account_id: int, event_id: str, workout_id: str, body: bytes) -> str:
    """Event, pending item and job committed together, in one short transaction."""
    now = clock()
    with transaction.atomic():
        if is_recent_redelivery(account_id, event_id, workout_id, body, now) or not InboundEvent.record(
            Provider.HEVY, account_id, dedupe_key(account_id, event_id, workout_id, body, now), body
        ):
            routes = [route.name for route in routes_from(Provider.HEVY)]
            item = SyncItem.objects.filter(account_id=account_id, route__in=routes, source_id=workout_id)
            log_delivery(account_id, deliveries.Outcome.DUPLICATE, "A copy of a recent delivery.", item_pk(item))
            return "duplicate"
        owner_id = ConnectedAccount.objects.values_list("owner_id", flat=True).get(pk=account_id)
        item_ids = [
            SyncItem.objects.upsert(account_id, route.name, workout_id, operation=SyncItem.Operation.UPSERT)[0]
            for route in route_settings.routes_for(owner_id, Provider.HEVY)
        ]
        sync.enqueue(item_ids)
        log_delivery(account_id, deliveries.Outcome.ACCEPTED, "", item_ids[0] if item_ids else None)
    return "accepted"


def item_pk(items) -> int | None:
    return items.values_list("pk", flat=True).first()


def log_delivery(account_id: int, outcome: str, reason: str, item_id: int | None) -> None:
    deliveries.record(Provider.HEVY, outcome, 200, account_id=account_id, reason=reason, item_id=item_id)


def dedupe_key(account_id: int, event_id: str, workout_id: str, body: bytes, now: datetime) -> str:
    """The same delivery (event id, or the body when there is none) of the same workout, in one window.

    What Hevy's top-level `id` identifies is undocumented (docs/upstream.md): if it were stable per
    subscription, keying on it alone would drop every later workout, so the workout id is part of the
    key. The window lets Hevy deliver the same pair again after an edit: that is a new delivery.
    """
    delivery = event_id or crypto.digest(body.decode("utf-8", "replace"))
    window = int(now.timestamp() // REDELIVERY_WINDOW.total_seconds())
    return f"hevy:{account_id}:{window}:{workout_id}:{delivery}"[:200]  # the column's length


def is_recent_redelivery(account_id: int, event_id: str, workout_id: str, body: bytes, now: datetime) -> bool:
    """The same pair recorded in the previous window, less than one window ago (keys are per window)."""
    previous = dedupe_key(account_id, event_id, workout_id, body, now - REDELIVERY_WINDOW)
    return InboundEvent.objects.filter(dedupe_key=previous, received_at__gt=now - REDELIVERY_WINDOW).exists()
