"""The Withings page: connect through OAuth, notification subscription, and a manual sync.

Views authorize, parse and queue; the only upstream call is the OAuth code exchange in `callback`
(Withings codes live 30 seconds, so it cannot wait for a worker).
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fitsync import account_meta, deliveries, history_runs, unreadable
from fitsync.dashboard.actions import already_running, start_once
from fitsync.errors import PermanentError, UpstreamError
from fitsync.imports import ImportBlocked
from fitsync.models import ConnectedAccount, Provider, SyncItem, SyncRun
from fitsync.run_counts import with_counts

from . import auth, jobs, subscriptions
from .account_meta import Subscription, WithingsMeta
from .forms import HistoryForm
from .tasks import MANUAL_SYNC_DAYS

log = logging.getLogger("fitsync.withings")
NOTHING_SAVED = "Nothing was connected; please start again."
CALLBACK_PROBLEMS = {
    "denied": "You did not allow fitsync to read your Withings measurements.",
    "state": "This Withings sign-in does not match the one started here (it was already used, started in "
    "another browser, or is older than 15 minutes).",
    "no_code": "Withings sent no authorization code.",
}


def _account(user) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(owner=user, provider=Provider.WITHINGS).first()


def connect(request):
    account = _account(request.user)
    unreadable.check(account)
    return render(request, "withings/account_connect.html", _page_context(request, account, HistoryForm()))


def _page_context(request, account: ConnectedAccount | None, history_form: HistoryForm) -> dict:
    imports = SyncRun.objects.filter(account=account, trigger=SyncRun.Trigger.BACKFILL).order_by("-pk")[:1]
    last_import = next(iter(with_counts(imports)), None) if account else None  # counted from its items
    return {
        "configured": auth.is_configured(),
        "callback_url": auth.callback_url(),
        "account": account,
        "subscription": _subscription(account),
        "site_url_problem": subscriptions.site_url_problem(),
        "notification_url": subscriptions.shown_url(),
        "items": SyncItem.objects.filter(account=account).order_by("-occurred_at")[:10] if account else [],
        "days": MANUAL_SYNC_DAYS,
        "deliveries": deliveries.recent(request.user, Provider.WITHINGS) if account else [],
        "history_form": history_form,
        "last_import": last_import,
    }


def _subscription(account: ConnectedAccount | None) -> Subscription:
    return account_meta.read(account, WithingsMeta).subscription or Subscription()


@require_POST
def start(request):
    if not auth.is_configured():
        messages.error(request, "Set WITHINGS_CLIENT_ID and WITHINGS_CLIENT_SECRET first.")
        return redirect("withings:connect")
    return redirect(auth.authorize_url(request.session))


@login_not_required
def callback(request):
    if request.method == "HEAD":
        return HttpResponse(status=200)  # the Withings dashboard probes the callback before saving it
    if not request.user.is_authenticated:
        return redirect("login")
    problem = _callback_problem(request)
    if problem:
        messages.error(request, f"{CALLBACK_PROBLEMS[problem]} {NOTHING_SAVED}")
        return redirect("withings:connect")
    unreadable.forget(_account(request.user))  # replaced by the new tokens; left in place, loading would fail
    try:
        connection = auth.connect(request.user, request.GET["code"])
    except UpstreamError as exc:
        log.warning("withings code exchange failed: %s", exc.message)
        messages.error(request, _exchange_problem(exc))
        return redirect("withings:connect")
    jobs.queue("subscribe", connection.account.pk)
    jobs.queue("fetch_new", connection.account.pk, SyncRun.Trigger.MANUAL.value)  # catch up now, also after a re-auth
    verb = "connected" if connection.created else "reconnected"
    messages.success(request, f"Withings {verb} ({connection.account.display_name}). Subscribing to new weigh-ins…")
    return redirect("dashboard:overview")


def _callback_problem(request) -> str:
    state_ok = auth.take_state(request.session, request.GET.get("state", ""))  # spent even on errors
    if request.GET.get("error"):
        return "denied"
    if not state_ok:
        return "state"
    return "" if request.GET.get("code") else "no_code"


def _exchange_problem(exc: UpstreamError) -> str:
    if isinstance(exc, PermanentError):
        return (
            "Withings did not accept the authorization code: it expired (codes are valid for 30 seconds) "
            f"or was already used ({exc.message}). {NOTHING_SAVED}"
        )
    return f"Withings could not complete the sign-in ({exc.message}). {NOTHING_SAVED}"


@require_POST
def subscribe(request):
    account = _account(request.user)
    if account is None or not account.is_connected:
        messages.error(request, "Connect Withings first.")
        return redirect("withings:connect")
    jobs.queue("subscribe", account.pk)
    messages.success(request, "Asking Withings to send new weigh-ins to fitsync…")
    return redirect("withings:connect")


@require_POST
def sync_recent(request):
    account = _account(request.user)
    if account is None or not account.is_connected:
        messages.error(request, "Connect Withings first.")
        return redirect("withings:connect")
    run, started = start_once(
        SyncRun.Trigger.MANUAL,
        account,
        SyncRun.EVERY_ROUTE,
        lambda run: jobs.queue("fetch_window", account.pk, run.pk, MANUAL_SYNC_DAYS),
    )
    if started:
        messages.success(request, f"Fetching the last {MANUAL_SYNC_DAYS} days of Withings measurements…")
    else:
        messages.info(request, already_running("A Withings sync", run))
    return redirect("withings:connect")


@require_POST
def import_history(request):
    """Import the weigh-ins of a range of days, or all of them, through every route from Withings: a run
    per route, whose page shows its progress."""
    account = _account(request.user)
    if account is None or not account.is_connected:
        messages.error(request, "Connect Withings first.")
        return redirect("withings:connect")
    form = HistoryForm(request.POST)
    if not form.is_valid():
        return render(request, "withings/account_connect.html", _page_context(request, account, form), status=400)
    since, until = form.span()
    try:
        runs = history_runs.start(account, since=since, until=until, lift_cap=form.cleaned_data["lift_cap"])
    except ImportBlocked as exc:
        messages.error(request, str(exc))
        return redirect("withings:connect")
    return history_runs.answer(
        request, runs, "withings:connect", started="Weight history import", running="A Withings history import"
    )
