"""After migrations: make sure the periodic schedules exist (idempotent, keeps their next run).
Before a schedule is saved: refuse arguments django-q2's scheduler could not read back.
When a worker process starts: beat once, so /health needs no wait for the first scheduled beat."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.db.models.signals import post_migrate, pre_save
from django.dispatch import receiver
from django.utils import timezone

CORE_SCHEDULES = [
    ("fitsync: dispatch due items", "fitsync.tasks.dispatch", 1),
    ("fitsync: worker heartbeat", "fitsync.tasks.heartbeat", 1),
    ("fitsync: send alerts", "fitsync.tasks.send_alerts", settings.FITSYNC_ALERT_CHECK_MINUTES),
]


def ensure_schedules() -> None:
    from django_q.models import Schedule

    from .routes import SCHEDULES

    for name, func, minutes in CORE_SCHEDULES + list(SCHEDULES):
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
            create_defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
                "next_run": timezone.now(),
            },
        )


@receiver(post_migrate)
def _schedules_after_migrate(sender, **kwargs):
    if sender.name == "fitsync":
        ensure_schedules()


def beat_at_worker_start(sender, **kwargs):
    from .tasks import heartbeat

    try:
        heartbeat()
    except DatabaseError as error:  # the scheduled beat tries again; a worker that crashes here would respawn
        logging.getLogger(__name__).warning("no heartbeat at worker start: %s", error)


def refuse_unreadable_schedule(sender, instance, **kwargs):
    from .jobs import unreadable

    reason = unreadable(instance)
    if reason:
        raise ValueError(f"schedule {instance.name or instance.func}: {reason}; pass plain ints and strings")


def _connect_receivers():
    from django_q.models import Schedule
    from django_q.signals import post_spawn

    pre_save.connect(refuse_unreadable_schedule, sender=Schedule, dispatch_uid="fitsync_readable_schedule")
    post_spawn.connect(beat_at_worker_start, dispatch_uid="fitsync_beat_at_worker_start")


_connect_receivers()
