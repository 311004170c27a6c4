"""The Hevy page: connect with an API key, the webhook values to paste into Hevy, history import."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from fitsync import deliveries, history_runs, site_url, unreadable
from fitsync.crypto import UnreadableSecret
from fitsync.dashboard.confirm import Question, ask, is_confirmed
from fitsync.imports import ImportBlocked
from fitsync.models import ConnectedAccount, Credential, Provider, SyncRun
from fitsync.run_counts import with_counts

from . import auth
from .forms import ApiKeyForm


@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def connect(request):
    account = ConnectedAccount.objects.filter(owner=request.user, provider=Provider.HEVY).first()
    unreadable.check(account)
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        unreadable.forget(account)  # replaced by the new key; left in place, loading the credential would fail
        try:
            auth.connect(request.user, form.cleaned_data["api_key"])
        except auth.ConnectError as exc:
            form.add_error("api_key", str(exc))
        else:
            messages.success(request, "Hevy is connected. Now paste the webhook values below into Hevy.")
            return redirect("hevy:connect")
    context = page_context(account, form)
    context["deliveries"] = deliveries.recent(request.user, Provider.HEVY) if account else []
    return render(request, "hevy/account_connect.html", context)


def page_context(account: ConnectedAccount | None, form: ApiKeyForm) -> dict:
    secret = ""
    if account is not None:
        try:
            secret = Credential.objects.filter(account=account).values_list("webhook_secret", flat=True).first() or ""
        except UnreadableSecret:  # the account is marked: the page asks for a new key
            secret = ""
    last_backfill = None
    if account is not None:
        runs = SyncRun.objects.filter(account=account, trigger=SyncRun.Trigger.BACKFILL).order_by("-pk")[:1]
        last_backfill = next(iter(with_counts(runs)), None)
    return {
        "account": account,
        "form": form,
        "webhook_url": auth.webhook_url(),
        "site_url_problem": site_url.unreachable_reason(),
        "webhook_secret": secret,
        "last_backfill": last_backfill,
    }


ROTATE_QUESTION = Question(
    "Make a new webhook secret?",
    "The secret configured in Hevy stops working at once: Hevy's deliveries are refused until you paste the "
    "new one into Hevy's developer settings. Edits still arrive through the change feed meanwhile.",
    "Make a new secret",
    reverse_lazy("hevy:connect"),
)


@require_POST
def rotate_secret(request):
    account = ConnectedAccount.objects.filter(owner=request.user, provider=Provider.HEVY).first()
    if account is None:
        messages.error(request, "Connect Hevy first.")
    elif not is_confirmed(request):
        return ask(request, ROTATE_QUESTION)
    else:
        auth.rotate_webhook_secret(account)
        messages.success(request, "New webhook secret made. Paste it into Hevy now: the old one no longer works.")
    return redirect("hevy:connect")


@require_POST
def backfill(request):
    """Start importing the whole Hevy history through every route from Hevy (progress shows on the run)."""
    account = ConnectedAccount.objects.filter(owner=request.user, provider=Provider.HEVY).first()
    if account is None or not account.is_connected:
        messages.error(request, "Connect Hevy before importing your history.")
        return redirect("hevy:connect")
    try:
        runs = history_runs.start(account)
    except ImportBlocked as exc:
        messages.error(request, str(exc))
        return redirect("hevy:connect")
    return history_runs.answer(request, runs, "hevy:connect", started="History import", running="A history import")
