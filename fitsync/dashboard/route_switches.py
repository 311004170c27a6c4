"""A route's own switches: turning an optional route on or off, and its options page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import route_settings
from ..errors import UpstreamError, provider_label
from ..models import ConnectedAccount
from .confirm import Question, ask, is_confirmed
from .controls import route_or_404


@require_POST
def turn_on(request, route: str):
    route = route_or_404(route)
    route_settings.turn(request.user, route, on=True)
    source = provider_label(route.source_provider)
    messages.success(request, f"{route.label} is on: new data from {source} syncs from now on.")
    return redirect("dashboard:overview")


@require_POST
def turn_off(request, route: str):
    route = route_or_404(route)
    if not is_confirmed(request):
        consequence = (
            f"New data stops syncing on {route.label}; what it already wrote stays, and items waiting "
            "for it stay waiting until you turn it on again."
        )
        question = Question(f"Turn off {route.label}?", consequence, "Turn off", reverse("dashboard:overview"))
        return ask(request, question)
    route_settings.turn(request.user, route, on=False)
    messages.success(request, f"{route.label} is off.")
    return redirect("dashboard:overview")


def written(owner, route) -> dict:
    """What the route writes for this user ({"fields": [...]}), or why that cannot be told now ({"error": ...})."""
    account = ConnectedAccount.objects.filter(owner=owner, provider=route.destination_provider).first()
    label = provider_label(route.destination_provider)
    if account is None or not account.is_connected:
        return {"error": f"Connect {label} to see what this route writes there."}
    try:
        return {"fields": route.destination_role.fields_written(account), "label": label}
    except UpstreamError as exc:
        return {"error": f"Could not ask {label} what it holds: {exc}"}


@require_http_methods(["GET", "POST"])
def options(request, route: str):
    route = route_or_404(route)
    form_class = route_settings.options_form(route)
    if form_class is None:
        return redirect("dashboard:overview")
    stored = route_settings.options_of(request.user.pk, route.name)
    form = form_class(request.POST or None, initial=stored)
    if request.method == "POST" and form.is_valid():
        route_settings.save_options(request.user, route, form.cleaned_data)
        messages.success(request, f"Options of {route.label} saved.")
        return redirect("dashboard:overview")
    context = {"route": route, "form": form, "written": written(request.user, route)}
    return render(request, "fitsync/route_options.html", context, status=400 if form.errors else 200)
