"""The alerts page: where a user's alerts go (Apprise URLs) and a button that sends a test."""

import apprise
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import alerts
from ..models import AlertSettings, AlertState

URLS_HELP = "One a line, e.g. mailto://user:password@example.com or ntfys://ntfy.sh/your-topic."


class AlertSettingsForm(forms.Form):
    apprise_urls = forms.CharField(
        label="Apprise URLs", required=False, help_text=URLS_HELP, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip

    def clean_apprise_urls(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["apprise_urls"].splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            if not apprise.Apprise().add(line):  # the URL is not repeated: it may hold a token
                raise forms.ValidationError(f"Line {number} is not a URL Apprise understands.")
        return "\n".join(lines)


@require_http_methods(["GET", "POST"])
def alert_settings(request):
    saved = AlertSettings.objects.filter(owner=request.user).first() or AlertSettings(owner=request.user)
    form = AlertSettingsForm(request.POST or None, initial={"apprise_urls": saved.apprise_urls})
    if request.method == "POST" and form.is_valid():
        saved.apprise_urls = form.cleaned_data["apprise_urls"]
        saved.save()
        messages.success(request, "Alert settings saved." if saved.urls else "Alerts are off: no URL is set.")
        return redirect("dashboard:alerts")
    open_alerts = AlertState.objects.filter(owner=request.user, resolved_at__isnull=True, last_sent_at__isnull=False)
    context = {"form": form, "has_urls": bool(saved.urls), "open_alerts": open_alerts.order_by("opened_at")}
    return render(request, "fitsync/alert_settings.html", context)


@require_POST
def send_test(request):
    """Send a test to the saved URLs while the user waits: the one upstream call a page makes on purpose."""
    saved = AlertSettings.objects.filter(owner=request.user).first()
    urls = saved.urls if saved else []
    body = "This is a test from fitsync. Alerts about your sync will arrive here."
    error = alerts.send(urls, "fitsync: test alert", body) if urls else "Save an Apprise URL first."
    if error:
        messages.error(request, f"The test was not delivered: {error}")
    else:
        messages.success(request, f"Test alert sent to {len(urls)} URL(s).")
    return redirect("dashboard:alerts")
