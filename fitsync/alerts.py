"""Alerts: each problem is sent once, reminded once after FITSYNC_ALERT_REMINDER_HOURS, and followed by one
last message when it is over; through Apprise, to the URLs each user sets on /alerts/.

The worker checks every FITSYNC_ALERT_CHECK_MINUTES (`fitsync.tasks.send_alerts`). A silent worker cannot
report its own silence, so the web process checks the heartbeat too (`check_worker_soon`, on /health,
which container healthchecks and uptime monitors poll, and on the overview), sending from a thread so no
request waits on a notification service. Every send is claimed by a conditional UPDATE first: two checkers
never send the same message, and a failed send is released to be tried on the next check.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import apprise
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .alert_checks import WORKER_KEY, Problem, problems_of, worker_problems
from .models import AlertSettings, AlertState

log = logging.getLogger("fitsync.alerts")
SEND_TIMEOUT_SECONDS = 10
WEB_CHECK_EVERY_SECONDS = 60
_web_check_lock = threading.Lock()
_last_web_check: float | None = None


@dataclass
class Message:
    title: str
    body: str
    kind: str = "warning"
    undo: dict = field(default_factory=dict)  # the claimed AlertState's previous times, restored on failure
    state_pk: int | None = None


def send(urls: list[str], title: str, body: str, kind: str = "info") -> str:
    """Send one notification to every URL; "" when all took it, else why not (never the URLs: they hold tokens)."""
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=[], service_timeout=SEND_TIMEOUT_SECONDS))
    for number, url in enumerate(urls, start=1):
        if not notifier.add(url):
            return f"URL {number} is not one Apprise understands."
    if not urls:
        return "No Apprise URL is set."
    problems: list[str] = []
    delivered = notifier.notify(
        body=body, title=title, notify_type=kind, log_level=logging.WARNING,
        log_callback=lambda entry, _service: problems.append(entry.message),
    )  # fmt: skip
    return "" if delivered else " ".join(problems) or "The notification could not be delivered."


def check(owner, urls: list[str], problems: list[Problem], now: datetime, covers=lambda key: True) -> list[Message]:
    """Claim the messages `owner` is due, for the problems found now; open alerts whose key `covers`
    accepts and that are no longer found are over."""
    found = {problem.key for problem in problems}
    messages = []
    for state in AlertState.objects.filter(owner=owner, resolved_at__isnull=True):
        if covers(state.key) and state.key not in found:
            messages += claim_recovery(state, now)
    for problem in problems:
        messages += claim_problem(owner, problem, now)
    return messages


def claim_problem(owner, problem: Problem, now: datetime) -> list[Message]:
    state, _ = AlertState.objects.get_or_create(owner=owner, key=problem.key, defaults={"opened_at": now})
    if state.resolved_at is not None:  # the same problem again: a new alert
        fresh = dict(resolved_at=None, opened_at=now, last_sent_at=None, reminded_at=None)
        if not AlertState.objects.filter(pk=state.pk, resolved_at=state.resolved_at).update(**fresh):
            return []
        state.resolved_at, state.opened_at, state.last_sent_at, state.reminded_at = None, now, None, None
    if state.message != problem.text:  # e.g. more failed items: the recovery message quotes the latest
        AlertState.objects.filter(pk=state.pk).update(message=problem.text)
    if state.last_sent_at is None:
        return claim(state, "warning", f"fitsync: {problem.text}", body_of(problem.text), last_sent_at=now)
    reminder_due = state.last_sent_at + timedelta(hours=settings.FITSYNC_ALERT_REMINDER_HOURS)
    if state.reminded_at is None and now >= reminder_due:
        body = f"Still not solved since {state.opened_at:%Y-%m-%d %H:%M} UTC. {body_of(problem.text)}"
        return claim(state, "warning", f"fitsync (reminder): {problem.text}", body, reminded_at=now)
    return []


def claim_recovery(state: AlertState, now: datetime) -> list[Message]:
    if state.last_sent_at is None:  # never reached the user: close it quietly
        AlertState.objects.filter(pk=state.pk, resolved_at__isnull=True).update(resolved_at=now)
        return []
    body = f"Back to normal: {state.message}"
    return claim(state, "success", f"fitsync: solved: {state.message}", body, resolved_at=now)


def claim(state: AlertState, kind: str, title: str, body: str, **times) -> list[Message]:
    """Move the state's times if nobody else moved them first; the message to send when we won."""
    before = {name: getattr(state, name) for name in times}
    if not AlertState.objects.filter(pk=state.pk, **before).update(**times):
        return []
    return [Message(title, body, kind, undo={"after": times, "before": before}, state_pk=state.pk)]


def body_of(text: str) -> str:
    return f"{text}\nOpen fitsync to see more: {settings.SITE_URL}/"


def deliver(urls: list[str], messages: list[Message]) -> int:
    """Send the claimed messages. At the first failure the endpoint is taken to be down: that message and
    the rest are released for the next check, rather than each waiting out its own timeout."""
    for sent, message in enumerate(messages):
        error = send(urls, message.title, message.body, message.kind)
        if error:
            log.warning("alert %r not delivered: %s", message.title, error)
            for unsent in messages[sent:]:
                release(unsent)
            return sent
    return len(messages)


def release(message: Message) -> None:
    AlertState.objects.filter(pk=message.state_pk, **message.undo["after"]).update(**message.undo["before"])


def check_everyone(now: datetime | None = None, only_worker: bool = False) -> int:
    """Check every user who set alert URLs and send what is due; how many messages went out."""
    now = now or timezone.now()
    sent = 0
    for alert_settings in AlertSettings.objects.select_related("owner"):
        urls = alert_settings.urls
        if not urls:
            continue
        owner = alert_settings.owner
        try:
            if only_worker:
                messages = check(owner, urls, worker_problems(now), now, covers=lambda key: key == WORKER_KEY)
            else:
                messages = check(owner, urls, problems_of(owner, now), now)
            sent += deliver(urls, messages)
        except Exception:  # one user's broken settings stop nobody else's alerts
            log.exception("alerts for user %s failed", owner.pk)
    return sent


def check_worker_soon() -> None:
    """From the web process, at most once a minute: tell users the worker went silent (or came back).
    Never raises: the page that calls it answers the same whatever happens here."""
    try:
        if web_check_due() and AlertSettings.objects.exists():
            threading.Thread(target=check_worker_in_thread, name="fitsync-alerts", daemon=True).start()
    except Exception:
        log.exception("could not start the worker check")


def web_check_due() -> bool:
    """True at most once a minute per process, asking nothing of the database or the cache (the overview
    and /health call this on every request). Several processes may each check: sends are claimed anyway."""
    global _last_web_check
    with _web_check_lock:
        now = time.monotonic()
        if _last_web_check is not None and now - _last_web_check < WEB_CHECK_EVERY_SECONDS:
            return False
        _last_web_check = now
        return True


def check_worker_in_thread() -> None:
    try:
        check_everyone(only_worker=True)
    except Exception:
        log.exception("the web process's worker check failed")
    finally:
        connection.close()  # this thread's own connection
