"""The life of a sync item, and the only code that writes `SyncItem.status`.

    (new) --upsert--> pending --claim--> running --succeed--> synced | skipped | held
                        ^                   |  \\--fail--> pending again (will retry) | failed (gave up)
                        |                   \\--release--> pending (waiting for an account or a time, no attempt spent)
                        +--requeue-- synced | skipped | held | failed        any but running --skip--> skipped
    (new) or any but running --record_imported--> synced | skipped | held | failed  (an import writing itself)

Every transition is one conditional UPDATE: the row decides, not a read before it, so two workers (or a
worker and a click) racing for an item cannot both win. `update(status=...)` anywhere else raises.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    HELD = "held", "Held"


ACTIVE = (ItemStatus.PENDING, ItemStatus.RUNNING)
NOT_RUNNING = ~Q(status=ItemStatus.RUNNING)


def due(now) -> Q:
    """Pending and due, or running with an expired lease (its worker died)."""
    return Q(status=ItemStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=ItemStatus.RUNNING, lease_expires_at__lt=now
    )


class ItemQuerySet(models.QuerySet):
    def update(self, **fields):
        if "status" in fields:
            raise TypeError("SyncItem.status changes only through the transitions in fitsync/item_states.py")
        return super().update(**fields)

    def _move(self, **fields) -> int:
        if "updated_at" not in fields:
            fields["updated_at"] = timezone.now()
        return super().update(**fields)

    def owned(self, pk: int, owner: str) -> "ItemQuerySet":
        """The item while `owner` holds its lease: a worker whose lease was taken over writes nothing."""
        return self.filter(pk=pk, lease_owner=owner)

    # --- the source side ---------------------------------------------------------------------------
    def upsert(self, account_id: int, route: str, source_id: str, **fields) -> tuple[int, bool]:
        """Create the item as pending, or mark an existing one for another run: (item id, created).

        What happens to an existing item is decided by its row inside the UPDATE: on PostgreSQL a worker
        may claim or record the item in between, and a stale "pending" would break its lease (or a stale
        "running" would set `rerun` on an item that already finished, and the new data would wait for the
        poll). A running item stays running with `rerun` set; a held one stays held unless a status is
        given (held or skipped, say, by the source's own rules). The item belongs to the run given as
        `run_id` (its page counts the outcome), or to none: new source data is a new cause. Call inside a
        transaction.
        """
        now = timezone.now()
        fields.setdefault("run_id", None)
        given = fields.pop("status", None)
        status = given or ItemStatus.PENDING
        item, created = self.get_or_create(
            account_id=account_id,
            route=route,
            source_id=source_id,
            defaults={**fields, "status": status, "next_attempt_at": now},
        )
        if created:
            return item.pk, True
        stays = Q(status__in=[ItemStatus.RUNNING] if given else [ItemStatus.RUNNING, ItemStatus.HELD])
        self.filter(pk=item.pk)._move(
            **fields,
            rerun=Case(When(status=ItemStatus.RUNNING, then=Value(True)), default=F("rerun")),
            status=Case(When(stays, then=F("status")), default=Value(status)),
            next_attempt_at=Case(When(stays, then=F("next_attempt_at")), default=Value(now)),
        )
        return item.pk, False

    # --- the engine --------------------------------------------------------------------------------
    def claim(self, item_id: int, owner: str):
        """Take the item's lease if it is due and free (or its lease expired); None if someone else has it."""
        # Two looks: `now` is read before the UPDATE waits for the write lock, and a resync committed during
        # that wait sets next_attempt_at just past it; the job sent for that resync must not miss the item.
        for _ in range(2):
            now = timezone.now()
            lease_until = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
            won = self.filter(Q(pk=item_id) & due(now))._move(
                updated_at=now,
                status=ItemStatus.RUNNING,
                lease_owner=owner,
                lease_expires_at=lease_until,
                queued_at=None,
                rerun=False,
            )
            if won:
                return self.select_related("account", "account__owner").get(pk=item_id)
        # Not ours to run: drop the queued mark (unless a job is running it), or the next click and the
        # dispatcher would take this job as still coming and the item would wait until the mark went stale.
        self.filter(pk=item_id).exclude(status=ItemStatus.RUNNING).update(queued_at=None)
        return None

    def succeed(self, status: str, **fields) -> int:
        """Done (synced, skipped or held): pending again if new source data came in meanwhile (`rerun`)."""
        return self._move(
            status=Case(When(rerun=True, then=Value(ItemStatus.PENDING)), default=Value(status)),
            attempts=F("attempts") + 1,
            lease_owner="",
            lease_expires_at=None,
            force=False,
            rerun=False,  # SET reads the old row, so the Case above still saw rerun=True
            next_attempt_at=timezone.now(),
            **fields,
        )

    def fail(self, *, gives_up: bool, attempts: int, message: str, retry_at) -> int:
        """An attempt failed: due again at `retry_at`, or failed for good."""
        return self._move(
            status=ItemStatus.FAILED if gives_up else ItemStatus.PENDING,
            attempts=attempts,
            last_error=message[:500],
            next_attempt_at=retry_at,
            lease_owner="",
            lease_expires_at=None,
        )

    def release(self, message: str, until=None) -> int:
        """Back to pending without spending an attempt: it waits for an account the user has to fix, or,
        given `until`, for that time (due then, and not before: the dispatcher reads `next_attempt_at`)."""
        fields = {"next_attempt_at": until} if until is not None else {}
        return self._move(
            status=ItemStatus.PENDING, last_error=message[:500], lease_owner="", lease_expires_at=None, **fields
        )

    # --- an import, writing in bulk itself (fitsync/imports.py) --------------------------------------
    def record_imported(self, account_id: int, route: str, outcomes: dict[str, dict]) -> None:
        """What an import wrote: source id -> the item's fields, a `status` among them (synced, skipped, held, failed).

        The new items go in as one INSERT (an item a webhook created meanwhile keeps its own row, and is
        settled like the known ones); a known item is settled unless a job holds its lease, which records
        its own outcome. Call inside a transaction.
        """
        mine = self.filter(account_id=account_id, route=route)
        known = set(mine.filter(source_id__in=list(outcomes)).values_list("source_id", flat=True))
        fresh = [
            self.model(account_id=account_id, route=route, source_id=source_id, **fields)
            for source_id, fields in outcomes.items()
            if source_id not in known
        ]
        self.bulk_create(fresh, ignore_conflicts=True)
        for source_id in known:
            mine.filter(source_id=source_id).settle_imported(**outcomes[source_id])

    def settle_imported(self, status: str, **fields) -> int:
        """An import wrote these items itself: its outcome, unless a job holds an item's lease."""
        return self.filter(NOT_RUNNING)._move(status=status, **fields)

    # --- the user ----------------------------------------------------------------------------------
    def requeue(self, *, force: bool = False, lift_cap: bool = False) -> list[int]:
        """Pending and due now with a fresh set of attempts; running items are left to their job."""
        ids = list(self.filter(NOT_RUNNING).values_list("pk", flat=True))
        changes = {"status": ItemStatus.PENDING, "attempts": 0, "next_attempt_at": timezone.now()}
        if force:
            changes["force"] = True  # explicitly replace the destination copy on the next run
        if lift_cap:
            changes["lift_cap"] = True
        self.model.objects.filter(pk__in=ids).filter(NOT_RUNNING)._move(**changes)
        return ids

    def skip(self, reason: str) -> int:
        """Stop trying: the item stays skipped until new source data or a resync arrives."""
        return self.filter(NOT_RUNNING)._move(status=ItemStatus.SKIPPED, last_error=reason[:500])
