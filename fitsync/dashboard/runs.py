"""Sync runs: the list, one run, and the small progress partial that htmx polls while a run is going."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ..models import SyncRun

PAGE_SIZE = 50
POLL_SECONDS = 2


def runs_of(user):
    return SyncRun.objects.filter(owner=user).select_related("account")


@require_GET
def run_list(request):
    page = Paginator(runs_of(request.user).order_by("-started_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "fitsync/run_list.html", {"page": page, "query": ""})


@require_GET
def run_detail(request, pk: int):
    run = get_object_or_404(runs_of(request.user), pk=pk)
    return render(request, "fitsync/run_detail.html", {"run": run, "poll_seconds": POLL_SECONDS})


@require_GET
def run_progress(request, pk: int):
    """The progress block alone; once the run has finished it comes back without the polling trigger."""
    run = get_object_or_404(runs_of(request.user), pk=pk)
    return render(request, "fitsync/_run_progress.html", {"run": run, "poll_seconds": POLL_SECONDS})
