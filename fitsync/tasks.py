"""django-q2 entry points: primitive ids in, a short summary out. The logic lives in `sync`."""

from django.utils import timezone

from . import sync
from .models import Heartbeat

WORKER_HEARTBEAT = "worker"


def sync_item(item_id: int) -> str:
    """Sync one item (safe to run twice)."""
    return sync.run_item(item_id)


def dispatch() -> str:
    """Every minute: re-queue due items and expired leases, resume due runs."""
    items = sync.dispatch_due()
    return f"queued {items} items, resumed {sync.dispatch_due_runs()} runs"


def heartbeat() -> str:
    """Every minute: prove a worker is alive (read by /health)."""
    Heartbeat.objects.update_or_create(name=WORKER_HEARTBEAT, defaults={"beat_at": timezone.now()})
    return "alive"
