"""The user's switches: disconnect a service, pause and resume a route (with confirmation where it breaks
something at once)."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import route_settings, sync
from ..disconnect import disconnect, disconnect_note
from ..errors import provider_label
from ..models import AccountStatus, ConnectedAccount, ItemStatus, SyncItem
from ..routes import ROUTES, Route
from .confirm import Question, ask, is_confirmed


@require_POST
def disconnect_service(request, provider: str):
    account = ConnectedAccount.objects.filter(owner=request.user, provider=provider).first()
    if account is None or account.status == AccountStatus.DISABLED:
        raise Http404("No connected account for this service")
    label = provider_label(provider)
    if not is_confirmed(request):
        consequence = " ".join(
            part
            for part in (
                f"fitsync deletes the {label} keys and tokens it stores.",
                disconnect_note(provider),
                f"Your sync history stays; items for {label} wait until you connect it again.",
            )
            if part
        )
        return ask(
            request, Question(f"Disconnect {label}?", consequence, f"Disconnect {label}", reverse("dashboard:overview"))
        )
    disconnect(account)
    messages.success(request, f"{label} is disconnected. Its history is kept.")
    return redirect("dashboard:overview")


def route_or_404(name: str) -> Route:
    """The route a button names in its URL. Looked up in the view, not by a URL converter, so an unknown
    name still asks a visitor to log in first and still answers a GET with 405."""
    if name not in ROUTES:
        raise Http404("No such route")
    return ROUTES[name]


@require_POST
def pause_route(request, route: str):
    route = route_or_404(route)
    route_settings.pause(request.user, route)
    messages.success(request, f"{route.label} is paused: new data is recorded and waits; nothing is written.")
    return redirect("dashboard:overview")


@require_POST
def resume_route(request, route: str):
    route = route_or_404(route)
    with transaction.atomic():
        route_settings.resume(request.user, route)
        waiting = SyncItem.objects.filter(account__owner=request.user, route=route.name, status=ItemStatus.PENDING)
        queued = sync.enqueue(list(waiting.values_list("pk", flat=True)), stale_after=0)
    messages.success(request, f"{route.label} is running again; {queued} waiting item(s) queued.")
    return redirect("dashboard:overview")
