"""What a run caused: its own counters (what it wrote itself, an import in bulk) plus the outcome of every
item it queued, read from those items (`SyncItem.run`) and their latest attempt. So "Updated 0 / Failed 0"
cannot stand beside items of the run that updated or failed a minute later.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery

from .item_states import ItemStatus
from .models import SyncAttempt, SyncItem, SyncRun

WRITES = ("created", "updated", "deleted")


@dataclass
class RunCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    held: int = 0
    failed: int = 0
    queued: int = 0  # items of the run still pending or running: the run has not settled

    def add(self, outcome: str, number: int) -> None:
        setattr(self, outcome, getattr(self, outcome) + number)


def outcome_of(status: str, last_action: str | None) -> str | None:
    """The counter an item of a run adds to; None for a synced item whose copy did not change."""
    if status in (ItemStatus.PENDING, ItemStatus.RUNNING):
        return "queued"
    if status == ItemStatus.SYNCED:
        return last_action if last_action in WRITES else None
    return str(status)  # skipped, held, failed


def counts_for(runs: Iterable[SyncRun]) -> dict[int, RunCounts]:
    """Counts per run, for a page of runs in one grouped query."""
    runs = list(runs)
    counts = {run.pk: own_counts(run) for run in runs}
    latest = SyncAttempt.objects.filter(item=OuterRef("pk")).order_by("-started_at", "-pk").values("outcome")[:1]
    rows = (
        SyncItem.objects.filter(run_id__in=list(counts))
        .annotate(last_action=Subquery(latest))
        .values("run_id", "status", "last_action")
        .annotate(number=Count("pk"))
    )
    for row in rows:
        outcome = outcome_of(row["status"], row["last_action"])
        if outcome:
            counts[row["run_id"]].add(outcome, row["number"])
    return counts


def own_counts(run: SyncRun) -> RunCounts:
    names = ("created", "updated", "deleted", "skipped", "held", "failed")
    return RunCounts(**{name: getattr(run, name) for name in names})


def with_counts(runs: Iterable[SyncRun]) -> list[SyncRun]:
    """The runs, each with `.counts` set for the templates."""
    runs = list(runs)
    counts = counts_for(runs)
    for run in runs:
        run.counts = counts[run.pk]
    return runs
