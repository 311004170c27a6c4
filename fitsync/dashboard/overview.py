"""The overview page and its "Sync now" buttons."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import route_settings
from ..alerts import check_worker_soon
from ..models import ConnectedAccount, SyncRun
from ..run_counts import with_counts
from . import actions, checklist, status
from .controls import route_or_404
from .timeline import timeline

RECENT_RUNS = 5


@require_GET
def overview(request):
    check_worker_soon()  # also where no monitor polls /health
    cards = status.service_cards(request.user)
    panels = status.route_panels(cards, status.item_counts(cards))
    states = route_settings.states_of_request(request)
    for panel in panels:
        panel.on, panel.paused = states[panel.name]
    runs = with_counts(
        SyncRun.objects.filter(owner=request.user).select_related("account").order_by("-started_at")[:RECENT_RUNS]
    )
    context = {"cards": cards, "panels": panels, "alerts": status.alerts(cards, panels), "runs": runs}
    on = {name for name, (is_on, _) in states.items() if is_on}
    context["checklist_route"], context["checklist"] = checklist.checklist(request.user, cards, on)
    context["timeline"] = timeline(request.user)
    return render(request, "fitsync/overview.html", context)


@require_POST
def sync_now(request, route: str):
    route = route_or_404(route)
    account = ConnectedAccount.objects.filter(owner=request.user, provider=route.source_provider).first()
    if not route.sync_now_task or account is None or not account.is_connected:
        messages.error(request, f"{route.label} cannot be synced now: connect both services first.")
        return redirect("dashboard:overview")
    run, started = actions.sync_now(route, account)
    if started:
        messages.success(request, f"{route.label}: sync started (run #{run.pk}).")
    else:
        messages.info(request, actions.already_running(f"Sync now for {route.label}", run))
    return redirect("dashboard:run", pk=run.pk)
