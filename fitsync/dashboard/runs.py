"""Sync runs: the list, one run, and the small progress partial that htmx polls while a run is going."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from ..models import SyncRun
from ..run_counts import with_counts

PAGE_SIZE = 50
POLL_SECONDS = 2


def runs_of(user):
    return SyncRun.objects.filter(owner=user).select_related("account")


@require_GET
def run_list(request):
    page = Paginator(runs_of(request.user).order_by("-started_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_counts(page.object_list)
    return render(request, "fitsync/run_list.html", {"page": page, "query": ""})


def progress_context(run: SyncRun) -> dict:
    """The run with its counts; while items it queued are unsettled, the page keeps polling and links to
    them, on each route the run concerns."""
    with_counts([run])
    settled = bool(run.finished_at) and not run.counts.queued
    items_links = [
        (route.label, reverse("dashboard:items", args=[route.name]) + f"?run={run.pk}") for route in run.routes()
    ]
    return {"run": run, "settled": settled, "items_links": items_links, "poll_seconds": POLL_SECONDS}


@require_GET
def run_detail(request, pk: int):
    run = get_object_or_404(runs_of(request.user), pk=pk)
    return render(request, "fitsync/run_detail.html", progress_context(run))


@require_GET
def run_progress(request, pk: int):
    """The progress block alone; once the run and its items have settled it comes back without the polling
    trigger."""
    run = get_object_or_404(runs_of(request.user), pk=pk)
    return render(request, "fitsync/_run_progress.html", progress_context(run))
