"""The Intervals.icu page: connect with athlete id and API key; shows the athlete's timezone."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from fitsync import account_meta, unreadable
from fitsync.models import ConnectedAccount, Provider

from . import auth
from .account_meta import IntervalsMeta
from .forms import ConnectForm


@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def connect(request):
    account = ConnectedAccount.objects.filter(owner=request.user, provider=Provider.INTERVALS).first()
    unreadable.check(account)
    initial = {"athlete_id": account.external_user_id} if account else {}
    form = ConnectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        unreadable.forget(account)  # replaced by the new key; left in place, loading the credential would fail
        try:
            auth.connect(request.user, form.cleaned_data["athlete_id"], form.cleaned_data["api_key"])
        except auth.ConnectError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Intervals.icu is connected.")
            return redirect("intervals:connect")
    checked_at = account_meta.read(account, IntervalsMeta).timezone_checked_at
    return render(
        request, "intervals/account_connect.html", {"account": account, "form": form, "timezone_checked_at": checked_at}
    )
