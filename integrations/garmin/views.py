"""The Garmin page: sign-in form, login progress, MFA step and the 429 countdown.

Views only read and write our tables and queue the login job: Garmin's login takes 10-20 s and must
never run inside a web request.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fitsync import account_meta, unreadable
from fitsync.models import ConnectedAccount, Provider

from . import auth
from .account_meta import GarminMeta
from .forms import ConnectForm, MfaForm, TokenFileForm
from .keepalive import sign_in_age
from .login_state import cooldown_until, describe, login_state, wipe_expired_handovers

POLL_SECONDS = 2


def _account(user) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(owner=user, provider=Provider.GARMIN).first()


def _context(account: ConnectedAccount | None, **extra) -> dict:
    until = cooldown_until(account)
    return {
        "account": account,
        "login": login_state(account),
        "cooldown_until": until,
        "cooldown_text": describe(until - timezone.now()) if until else "",
        "poll_seconds": POLL_SECONDS,
        "token_form": TokenFileForm(),
        "sign_in": sign_in_age(account),
        **extra,
    }


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def connect(request):
    account = _account(request.user)
    if account is not None:
        wipe_expired_handovers(account.pk)
    unreadable.check(account)
    if request.method == "POST":
        form = ConnectForm(request.POST)
        if form.is_valid():
            unreadable.forget(account)  # replaced by the new sign-in; left in place, loading would fail
            try:
                auth.start_login(request.user, form.cleaned_data["email"], form.cleaned_data["password"])
            except auth.LoginRefused as refused:
                messages.error(request, str(refused))
            return redirect("garmin:connect")
    else:
        form = ConnectForm(initial={"email": account_meta.read(account, GarminMeta).email})
    return render(request, "garmin/account_connect.html", _context(account, form=form, mfa_form=MfaForm()))


@require_GET
def login_status(request):
    """The progress block alone (htmx polls it); once the login stopped running, the page reloads."""
    account = _account(request.user)
    response = render(request, "garmin/_login_status.html", _context(account))
    if request.htmx and not login_state(account).is_running:
        response["HX-Refresh"] = "true"
    return response


@sensitive_post_parameters("code")
@require_POST
def mfa(request):
    form = MfaForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["code"][0])
        return redirect("garmin:connect")
    try:
        auth.submit_mfa_code(request.user, form.cleaned_data["code"])
    except auth.LoginRefused as refused:
        messages.error(request, str(refused))
    except ConnectedAccount.DoesNotExist:
        messages.error(request, "Start by entering your Garmin email and password.")
    return redirect("garmin:connect")


@sensitive_post_parameters("tokens")
@require_POST
def import_tokens(request):
    """The token file pasted (or read from disk by static/garmin/token_file.js): shape here, Garmin in a job."""
    form = TokenFileForm(request.POST)
    if not form.is_valid():
        account = _account(request.user)
        connect_form = ConnectForm(initial={"email": account_meta.read(account, GarminMeta).email})
        context = _context(account, form=connect_form, mfa_form=MfaForm(), token_form=form)
        return render(request, "garmin/account_connect.html", context, status=400)
    try:
        auth.start_token_import(request.user, form.cleaned_data["tokens"])
    except auth.LoginRefused as refused:
        messages.error(request, str(refused))
    return redirect("garmin:connect")
