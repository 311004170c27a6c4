"""Core pages: health. The dashboard lives in `fitsync/dashboard/`."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .alerts import check_worker_soon
from .jobs import skipped_schedules
from .models import Heartbeat, ItemStatus, SyncItem
from .tasks import WORKER_HEARTBEAT


@login_not_required
@never_cache
@require_GET
def health(request):
    """Database reachable, backlog, worker heartbeat age; 503 when something needs attention."""
    try:
        connection.ensure_connection()
        backlog = SyncItem.objects.filter(status=ItemStatus.PENDING, next_attempt_at__lte=timezone.now()).count()
        beat = Heartbeat.objects.filter(name=WORKER_HEARTBEAT).values_list("beat_at", flat=True).first()
        skipped = skipped_schedules().count()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": f"unreachable: {exc.__class__.__name__}"}, status=503)
    check_worker_soon()  # a silent worker cannot send its own alert
    age = (timezone.now() - beat).total_seconds() if beat else None
    worker_ok = age is not None and age <= settings.HEARTBEAT_STALE_SECONDS
    body = {
        "status": "ok" if worker_ok else "worker silent",
        "database": "ok",
        "backlog": backlog,
        "worker_heartbeat_age_seconds": round(age, 1) if age is not None else None,
        "skipped_schedules": skipped,
    }
    return JsonResponse(body, status=200 if worker_ok else 503)
