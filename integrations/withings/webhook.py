"""POST /webhooks/withings/<token>/: Withings' data-update notifications.

Withings signs nothing; the unguessable token in the URL is the proof, checked before parsing.
It wants a 2xx within 2 s, and repeated failed deliveries remove the subscription, so every POST
with a valid token gets a 200. A notification only says "something changed": what we do is one
incremental fetch from the account's `lastupdate` cursor, which reads whatever changed whatever the
notification said. So a body we cannot fully read (another encoding, extra or missing fields, too
large) still queues that fetch; only a readable notification for another appli or user is ignored. The
notification's startdate/enddate, when readable, go with it: the fetch also reads that window by measurement
date, where a deleted weigh-in shows as missing (`fetch.py`).
See docs/upstream.md, "Withings".
"""

import logging
import time

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from fitsync import deliveries
from fitsync.crypto import digest
from fitsync.models import ConnectedAccount, InboundEvent, Provider, SyncRun

from . import jobs
from .notification import Notification, read_notification

log = logging.getLogger("fitsync.webhooks")
unsupported = logging.getLogger("fitsync.webhooks.unsupported")
WEIGHT_APPLI = 1
# Copies of one notification within a minute (Withings' own retry comes after 10 s) are one event,
# as long as no fetch finished in between: the key holds the account's last success time, which
# every finished fetch moves. So a later change (an edit keeps startdate/enddate; some notifications carry no dates
# at all) still fetches once the previous fetch is done; an extra fetch is one cheap getmeas.
DEDUPE_BUCKET_SECONDS = 60


def answer(status: int, text: str = "") -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain")
    response._has_been_logged = True  # Django's request log would print the path, token included
    return response


@csrf_exempt
@login_not_required
def receive(request, token: str):
    account = ConnectedAccount.objects.filter(provider=Provider.WITHINGS, webhook_digest=digest(token)).first()
    if account is None:
        log.info("withings webhook: unknown token")
        reason = "The URL's token is not this instance's (an old subscription, or a guess)."
        deliveries.record(Provider.WITHINGS, deliveries.Outcome.REFUSED, 404, reason=reason)
        return answer(404)
    if request.method in ("HEAD", "GET"):
        return answer(200)  # Withings probes the URL with HEAD before subscribing it
    if request.method != "POST":
        log.info("withings webhook for account %s: method %s refused", account.pk, request.method)
        reason = f"Method {request.method[:10]} is not a notification."
        deliveries.record(Provider.WITHINGS, deliveries.Outcome.REFUSED, 405, account_id=account.pk, reason=reason)
        return answer(405)
    notification = read_notification(request)
    if is_for_someone_else(account, notification):
        unsupported.info(
            "withings account %s: ignored appli %s for user %s", account.pk, notification.appli, notification.userid
        )
        reason = "A notification for another kind of data or another Withings user."
        deliveries.record(Provider.WITHINGS, deliveries.Outcome.IGNORED, 200, account_id=account.pk, reason=reason)
        return answer(200, "ignored")
    if notification.problem:
        log.info("withings webhook for account %s: %s; fetching anyway", account.pk, notification.problem)
    return answer(200, accept(account, notification))


def is_for_someone_else(account: ConnectedAccount, notification: Notification) -> bool:
    """True only when the notification clearly names another appli or another user."""
    other_appli = notification.appli is not None and notification.appli != WEIGHT_APPLI
    other_user = notification.userid is not None and str(notification.userid) != account.external_user_id
    return other_appli or other_user


def dedupe_key(account: ConnectedAccount, notification: Notification) -> str:
    """Identical notifications in the same minute and before the next finished fetch share a key;
    missing fields are written as "-"."""
    parts = (notification.userid, notification.appli, notification.startdate, notification.enddate)
    fields = ":".join("-" if part is None else str(part) for part in parts)
    minute = int(time.time() // DEDUPE_BUCKET_SECONDS)
    fetched = account.last_success_at.isoformat() if account.last_success_at else "-"
    return f"withings:{account.pk}:{fields}:{fetched}:{minute}"


def accept(account: ConnectedAccount, notification: Notification) -> str:
    """Record the event and queue one fetch for the account, both in one short transaction."""
    with transaction.atomic():
        key = dedupe_key(account, notification)
        if not InboundEvent.record(Provider.WITHINGS, account.pk, key, notification.body):
            reason = "A copy of a notification already fetched for."
            deliveries.record(
                Provider.WITHINGS, deliveries.Outcome.DUPLICATE, 200, account_id=account.pk, reason=reason
            )
            return "duplicate"
        jobs.queue("fetch_new", account.pk, SyncRun.Trigger.WEBHOOK.value, notification.startdate, notification.enddate)
        reason = f"Fetching what changed{' (' + notification.problem + ')' if notification.problem else ''}."
        deliveries.record(Provider.WITHINGS, deliveries.Outcome.ACCEPTED, 200, account_id=account.pk, reason=reason)
    return "ok"
