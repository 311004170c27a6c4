"""The list of each route's items, the item detail page, and the per-item and bulk actions."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .. import route_settings
from ..errors import provider_label
from ..models import ConnectedAccount, ItemStatus, SyncItem
from ..routes import ROUTES
from . import actions
from .forms import ItemFilterForm
from .summary import exercise_lines, flatten, list_heading, snapshot_of, summarize

PAGE_SIZE = 25
LIST_COLUMNS = (
    "pk",
    "route",
    "source_id",
    "status",
    "attempts",
    "title",
    "occurred_at",
    "snapshot",
    "destination_id",
    "last_error",
    "account_id",
)
ATTEMPTS_SHOWN = 50
FEW_MATCHES = 2000


def items_of(user):
    return SyncItem.objects.filter(account__owner=user)


def route_items(user, route: str):
    """The route's items through its source account, so the (account, route, -occurred_at) index orders them."""
    source = ConnectedAccount.objects.filter(owner=user, provider=ROUTES[route].source_provider).values("pk")
    return SyncItem.objects.filter(account_id=Subquery(source[:1]), route=route)


@require_GET
def item_list(request, route: str):
    form = ItemFilterForm(request.GET or None)
    items = form.apply(route_items(request.user, route)).only(*LIST_COLUMNS)
    page = paginate(items, form.is_search).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    source, destination = ROUTES[route].source_role, ROUTES[route].destination_role
    context = {
        "heading": list_heading(ROUTES[route], route_settings.on_for_request(request)),
        "things": source.heading.lower(),  # "weights": the buttons' word, the same on every route from the source
        "route": route,
        "form": form,
        "page": page,
        "rows": [(item, summarize(item, request.profile.weight_unit)) for item in page],
        "query": query.urlencode(),
        "title_label": source.title_label,
        "fact_labels": list(source.facts({})),
        "holds_back": destination.max_uploads_per_run is not None,  # held items wait for "Upload held"
    }
    # Filters that do not parse are shown with their error; the list is unfiltered but the answer says 400.
    return render(request, "fitsync/item_list.html", context, status=400 if form.errors else 200)


def paginate(items, is_search: bool) -> Paginator:
    """Newest first. pk ascending breaks ties in the date index's own order (rowid), so nothing is sorted.

    A search with few matches fetches them by key from the (account, route, title) index and sorts those
    few instead: walking the date index would read every row (and its snapshot) to find them.
    """
    newest_first = ("-occurred_at", "pk")
    paginator = Paginator(items.order_by(*newest_first), PAGE_SIZE)
    if is_search and paginator.count <= FEW_MATCHES:
        paginator.object_list = items.filter(pk__in=items.values("pk")).order_by(*newest_first)
    return paginator


@require_GET
def item_detail(request, pk: int):
    item = get_object_or_404(items_of(request.user).select_related("account"), pk=pk)
    snapshot, route = snapshot_of(item), ROUTES.get(item.route)
    attempts = list(item.attempt_log.order_by("-started_at")[:ATTEMPTS_SHOWN])
    context = {
        "item": item,
        "summary": summarize(item, request.profile.weight_unit),
        "route_label": route.label if route else item.route,
        "destination_label": provider_label(route.destination_provider) if route else "the destination",
        "sent_summary": route.destination_role.sent_summary(item) if route and item.sent else None,
        "waiting": is_waiting(item, attempts),
        "exercises": exercise_lines(snapshot, request.profile.weight_unit),
        "source_rows": flatten({k: v for k, v in snapshot.items() if k != "exercises"}),
        "sent_rows": flatten(item.sent),
        "attempts": attempts,
        "list_url": reverse("dashboard:items", args=[item.route]) if item.route in ROUTES else "",
        "can_skip": item.status in actions.SKIPPABLE,
    }
    return render(request, "fitsync/item_detail.html", context)


def is_waiting(item, attempts: list) -> bool:
    """Pending because its last attempt was told to wait (for a time the destination named, or for an
    account or a route the user has to fix), not because it failed: its note is no error."""
    return item.status == ItemStatus.PENDING and bool(attempts) and attempts[0].outcome == "waiting"


ITEM_ACTIONS = {
    "resync": (actions.resync_chosen, "Resync queued."),
    "force-resync": (actions.force_resync_chosen, "Force resync queued: the destination copy will be replaced."),
    "skip": (actions.skip, "Item skipped."),
}
NOTHING_DONE = "Nothing to do: the item is already queued or syncing right now."


@require_POST
def item_action(request, pk: int, action: str):
    if action not in ITEM_ACTIONS:
        raise Http404("No such action")
    items = items_of(request.user).filter(pk=pk)
    if not items.exists():
        raise Http404("No such item")
    run, done_message = ITEM_ACTIONS[action]
    messages.success(request, done_message if run(items) else NOTHING_DONE)
    return redirect("dashboard:item", pk=pk)


@require_POST
def bulk_resync_failed(request):
    queued = actions.resync_failed(routed(request, items_of(request.user)))
    messages.success(request, f"{queued} failed item(s) queued for another try.")
    return redirect(back(request))


@require_POST
def bulk_upload_held(request):
    queued = actions.upload_held(routed(request, items_of(request.user)))
    messages.success(request, f"{queued} held item(s) queued for upload.")
    return redirect(back(request))


def back(request) -> str:
    """The page the button was on, when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("dashboard:overview")


def routed(request, items):
    route = request.POST.get("route", "")
    return items.filter(route=route) if route in ROUTES else items
