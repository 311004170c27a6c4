"""POST /webhooks/withings/<token>/: Withings' form-encoded notifications.

Withings signs nothing; the unguessable token in the URL is the proof, checked before parsing.
It wants 200 within 2 s, and a 4xx for a well-formed notification counts as a failed delivery
(repeated failures remove the subscription), so anything well-formed gets a 200.
"""

import logging
import time
from urllib.parse import parse_qs

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from fitsync.crypto import digest
from fitsync.models import ConnectedAccount, InboundEvent, Provider

from . import jobs

log = logging.getLogger("fitsync.webhooks")
unsupported = logging.getLogger("fitsync.webhooks.unsupported")
BODY_LIMIT = 4096
WEIGHT_APPLI = 1
# Copies of one notification within a minute (Withings' own retry comes after 10 s) are one event.
# A later edit of the same weigh-in carries the same startdate/enddate and must fetch again, so the
# key includes the minute; an extra fetch costs one cheap incremental getmeas.
DEDUPE_BUCKET_SECONDS = 60


def answer(status: int, text: str = "") -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain")
    response._has_been_logged = True  # Django's request log would print the path, token included
    return response


def parse(body: bytes) -> dict[str, int] | None:
    """userid, appli and (for measure applis) startdate/enddate as ints; None if malformed."""
    try:
        fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
    except (UnicodeDecodeError, ValueError):
        return None
    parsed = _integers(fields, ("userid", "appli"))
    if parsed and parsed["appli"] == WEIGHT_APPLI:  # decided on the number: "01" is appli 1 too
        dates = _integers(fields, ("startdate", "enddate"))
        if dates is None or dates["startdate"] > dates["enddate"]:
            return None
        parsed |= dates
    return parsed


def _integers(fields: dict[str, str], names: tuple[str, ...]) -> dict[str, int] | None:
    """The named fields as ints, or None unless each is 1-20 ASCII digits (str.isdigit takes "١" too)."""
    values = {name: fields.get(name, "").strip() for name in names}
    if not all(v.isascii() and v.isdigit() and len(v) <= 20 for v in values.values()):
        return None
    return {name: int(v) for name, v in values.items()}


def _declared_length(request) -> int:
    value = request.headers.get("Content-Length") or "0"
    return int(value) if value.isdigit() else BODY_LIMIT + 1


@csrf_exempt
@login_not_required
def receive(request, token: str):
    account = ConnectedAccount.objects.filter(provider=Provider.WITHINGS, webhook_digest=digest(token)).first()
    if account is None:
        log.info("withings webhook: unknown token")
        return answer(404)
    if request.method in ("HEAD", "GET"):
        return answer(200)  # Withings probes the URL with HEAD before subscribing it
    if request.method != "POST":
        log.info("withings webhook for account %s: method %s refused", account.pk, request.method)
        return answer(405)
    if _declared_length(request) > BODY_LIMIT or len(request.body) > BODY_LIMIT:
        return answer(400, "too large")
    notification = parse(request.body)
    if notification is None:
        log.info("withings webhook for account %s: malformed notification", account.pk)
        return answer(400, "malformed notification")
    if str(notification["userid"]) != account.external_user_id or notification["appli"] != WEIGHT_APPLI:
        unsupported.info("withings account %s: ignored appli %s for user %s", account.pk,
                         notification["appli"], notification["userid"])
        return answer(200, "ignored")
    return answer(200, accept(account, notification, request.body))


def accept(account: ConnectedAccount, notification: dict[str, int], body: bytes) -> str:
    """Record the event and queue one fetch for the account, both in one short transaction."""
    bucket = int(time.time() // DEDUPE_BUCKET_SECONDS)
    key = "withings:{userid}:{appli}:{startdate}:{enddate}".format(**notification) + f":{bucket}"
    with transaction.atomic():
        if not InboundEvent.record(Provider.WITHINGS, account.pk, key, body):
            return "duplicate"
        jobs.queue("fetch_new", account.pk)
    return "ok"
