"""The login lockout's two pieces of our own on top of django-axes (configured in settings).

Failures count per username and per client address (AXES_LOCKOUT_PARAMETERS). Axes' own reset on a
successful login deletes every row matching either parameter, so a login as one user from an address
would wipe the guesses made from it against every other user: here a success clears only its own
username-and-address pair. The lockout page says when the pause ends, worked out from the same rows.
"""

from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .security import client_ip

LOCKOUT_STATUS = 429


class PairResetHandler(AxesDatabaseHandler):
    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count


def _group_ends_at(filters: dict, limit: int, since: datetime, cool_off) -> datetime | None:
    """When this group (one username, or one address) drops below the limit, or None if it is not locked.

    Each row counts until cool_off after its last failure, so the newest rows that together reach the
    limit keep the lock, until the oldest of them expires.
    """
    rows = AccessAttempt.objects.filter(**filters, attempt_time__gte=since).order_by("-attempt_time")
    total = 0
    for attempt_time, failures in rows.values_list("attempt_time", "failures_since_start"):
        total += failures
        if total >= limit:
            return attempt_time + cool_off
    return None


def lockout_state(request: HttpRequest, credentials: dict | None = None) -> dict:
    """What is paused (the account, the address or both) and until when."""
    username = get_client_username(request, credentials) or ""
    address = getattr(request, "axes_ip_address", None) or client_ip(request)
    cool_off, limit, now = get_cool_off(request), get_failure_limit(request, credentials), timezone.now()
    state = {"username": username, "account_locked": False, "address_locked": False, "ends_at": None}
    for filters in get_client_parameters(username, address, "", request, credentials):
        ends_at = _group_ends_at(filters, limit, now - cool_off, cool_off)
        if ends_at is None:
            continue
        state["account_locked" if "username" in filters else "address_locked"] = True
        state["ends_at"] = max(ends_at, state["ends_at"] or ends_at)
    return state


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    context = lockout_state(request, credentials)
    context["ends_at"] = _next_minute(context["ends_at"] or timezone.now() + get_cool_off(request))
    return render(request, "registration/locked_out.html", context, status=LOCKOUT_STATUS)


def _next_minute(moment: datetime) -> datetime:
    """The page shows hours and minutes: round up, so "try again at 14:16" is never too early."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)
