"""django-q2 entry points: primitive ids in, a short summary out. The logic lives in `sync`."""

from django.utils import timezone

from . import alerts, sync
from .models import Heartbeat

WORKER_HEARTBEAT = Heartbeat.WORKER


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


def send_alerts() -> str:
    """Every few minutes: tell each user what stopped their sync, once, and when it is solved."""
    return f"sent {alerts.check_everyone()} alerts"
