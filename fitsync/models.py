"""fitsync's own tables: the source of truth for accounts, secrets, inbound events and sync state.

django-q2 only wakes workers up; everything a job needs to resume lives here. State transitions
that race (claiming an item, taking a refresh lease) are conditional UPDATEs, not locks, so they
work the same on SQLite and PostgreSQL.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from .crypto import EncryptedTextField
from .item_states import ItemQuerySet, ItemStatus
from .providers import Provider

__all__ = ["ItemStatus", "Provider"]  # re-exported: callers import them with the models

PAYLOAD_LIMIT = 4096  # bytes of an inbound payload kept for the dashboard


class AccountStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authentication"
    DISABLED = "disabled", "Disconnected"  # by the user: tokens wiped, history kept


class ConnectedAccount(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accounts")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    external_user_id = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.CONNECTED)
    status_message = models.TextField(blank=True, help_text="What the user has to do, in plain words.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Non-secret per-service data: timezone, subscription state, login cooldown ... declared per service and
    # read/written through fitsync/account_meta.py.
    meta = models.JSONField(default=dict, blank=True)
    # Watermark of an incremental feed (Hevy events `since`, Withings `lastupdate`); moves forward
    # only after a successful read.
    cursor = models.CharField(max_length=100, blank=True)
    # sha256 of the secret that authenticates this account's inbound webhooks (URL token or header).
    webhook_digest = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "provider"], name="one_account_per_provider")]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} account of {self.owner}"

    @property
    def is_connected(self) -> bool:
        return self.status == AccountStatus.CONNECTED

    def mark_success(self) -> None:
        now = timezone.now()
        ConnectedAccount.objects.filter(pk=self.pk).update(last_success_at=now, updated_at=now)
        self.last_success_at = now

    def mark_error(self, message: str) -> None:
        now = timezone.now()
        ConnectedAccount.objects.filter(pk=self.pk).update(last_error=message[:500], last_error_at=now, updated_at=now)
        self.last_error, self.last_error_at = message[:500], now

    def mark_needs_reauth(self, message: str) -> None:
        """The upstream rejected our credentials: stop using them until the user reconnects."""
        now = timezone.now()
        fields = dict(status=AccountStatus.NEEDS_REAUTH, status_message=message[:500], last_error=message[:500])
        ConnectedAccount.objects.filter(pk=self.pk).update(last_error_at=now, updated_at=now, **fields)
        for key, value in fields.items():
            setattr(self, key, value)

    def merge_meta(self, **changes) -> dict:
        """Merge `changes` into the stored meta and return it. Jobs and views write different keys of the
        same JSON, so the row is re-read inside the write (row-locked on PostgreSQL; SQLite's IMMEDIATE
        transactions serialize writers)."""
        with transaction.atomic():
            stored = ConnectedAccount.objects.select_for_update().values_list("meta", flat=True).get(pk=self.pk)
            self.meta = {**stored, **changes}
            ConnectedAccount.objects.filter(pk=self.pk).update(meta=self.meta, updated_at=timezone.now())
        return self.meta

    def mark_connected(self) -> None:
        fields = dict(status=AccountStatus.CONNECTED, status_message="")
        ConnectedAccount.objects.filter(pk=self.pk).update(updated_at=timezone.now(), **fields)
        for key, value in fields.items():
            setattr(self, key, value)


class Credential(models.Model):
    """An account's secrets, all encrypted at rest, plus the lease for single-flight refresh."""

    account = models.OneToOneField(ConnectedAccount, on_delete=models.CASCADE, related_name="credential")
    api_key = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=200, blank=True)
    session_blob = EncryptedTextField(blank=True, help_text="Opaque session state, e.g. Garmin's token JSON.")
    pending_blob = EncryptedTextField(blank=True, help_text="Short-lived state, e.g. a Garmin MFA login.")
    pending_expires_at = models.DateTimeField(null=True, blank=True)
    webhook_secret = EncryptedTextField(blank=True)
    version = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("api_key", "access_token", "refresh_token", "session_blob", "pending_blob", "webhook_secret")

    def __str__(self) -> str:
        return f"Credential #{self.pk} of {self.account}"

    def __repr__(self) -> str:
        return f"<Credential #{self.pk} account={self.account_id} version={self.version}>"

    def claim_lease(self, owner: str, seconds: int = 60) -> bool:
        """Take the refresh lease if it is free or expired; True only for the winner."""
        now = timezone.now()
        free = Q(lease_owner="") | Q(lease_expires_at__lt=now)
        won = Credential.objects.filter(Q(pk=self.pk) & free).update(
            lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds)
        )
        return won == 1

    def release_lease(self, owner: str) -> None:
        Credential.objects.filter(pk=self.pk, lease_owner=owner).update(lease_owner="", lease_expires_at=None)

    def save_as_lease_owner(self, owner: str, **fields) -> bool:
        """Write refreshed secrets only if we still hold the lease; bumps the version."""
        for name, value in fields.items():
            setattr(self, name, value)
        updated = Credential.objects.filter(pk=self.pk, lease_owner=owner).update(
            version=F("version") + 1, lease_owner="", lease_expires_at=None, updated_at=timezone.now(), **fields
        )
        return updated == 1


class InboundEvent(models.Model):
    source = models.CharField(max_length=20, choices=Provider.choices)
    account = models.ForeignKey(ConnectedAccount, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    payload = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.source} event {self.dedupe_key}"

    @staticmethod
    def bounded(payload: bytes | str) -> str:
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        return text[:PAYLOAD_LIMIT].replace("\x00", "\ufffd")  # PostgreSQL text holds no NUL

    @classmethod
    def record(cls, source: str, account_id: int, dedupe_key: str, payload: bytes | str) -> bool:
        """Store a webhook's event unless its dedupe key was seen before; True when it is new."""
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction goes on after a duplicate
                cls.objects.create(
                    source=source, account_id=account_id, dedupe_key=dedupe_key[:200], payload=cls.bounded(payload)
                )
        except IntegrityError:
            return False
        return True


class SyncItem(models.Model):
    """One source object (a Hevy workout, a Withings measure group) on its way to a destination."""

    class Operation(models.TextChoices):
        UPSERT = "upsert", "Create or update"
        DELETE = "delete", "Delete"

    account = models.ForeignKey(ConnectedAccount, on_delete=models.CASCADE, related_name="items")
    route = models.CharField(max_length=40)
    source_id = models.CharField(max_length=100)
    operation = models.CharField(max_length=10, choices=Operation.choices, default=Operation.UPSERT)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    destination_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    rerun = models.BooleanField(default=False, help_text="New source data arrived while running.")
    force = models.BooleanField(default=False, help_text="Replace the destination copy on the next run.")
    lift_cap = models.BooleanField(default=False, help_text="Upload even beyond the per-run safety cap.")
    last_error = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text="Normalized source data.")
    sent = models.JSONField(default=dict, blank=True, help_text="What was last sent to the destination.")
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "route", "source_id"], name="one_item_per_source_object")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="item_due"),
            models.Index(fields=["account", "route", "-occurred_at"], name="item_history"),
            models.Index(fields=["route", "status"], name="item_route_status"),
            # Title search on the dashboard: LIKE '%q%' is checked in the index, not in rows carrying snapshots.
            models.Index(fields=["account", "route", "title"], name="item_title_search"),
        ]

    def __str__(self) -> str:
        return f"{self.route} {self.source_id} ({self.status})"


class SyncAttempt(models.Model):
    item = models.ForeignKey(SyncItem, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["item", "-started_at"], name="attempt_by_item")]

    def __str__(self) -> str:
        return f"attempt on {self.item_id}: {self.outcome}"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        BACKFILL = "backfill", "Backfill"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    account = models.ForeignKey(ConnectedAccount, null=True, blank=True, on_delete=models.SET_NULL)
    route = models.CharField(max_length=40, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0, help_text="Expected items, for progress.")
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # A run whose job fetches from a source (not per item) is resumed by the dispatcher: `task` is that
    # job's dotted path (it takes the run id alone), `params` what it reads, `retry_at` when it is due.
    task = models.CharField(max_length=100, blank=True)
    params = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} run #{self.pk}"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    def bump(self, **counts: int) -> None:
        """Add to counters atomically (several workers may report into one run)."""
        SyncRun.objects.filter(pk=self.pk).update(**{k: F(k) + v for k, v in counts.items() if v})

    def finish(self, error: str = "") -> None:
        self.finished_at, self.error, self.retry_at = timezone.now(), error[:1000], None
        SyncRun.objects.filter(pk=self.pk).update(finished_at=self.finished_at, error=self.error, retry_at=None)

    def start_attempt(self, lease_seconds: int) -> int:
        """Count an attempt and keep the run due after `lease_seconds`, so a killed worker's run is resumed."""
        self.attempts += 1
        self.retry_at = timezone.now() + timedelta(seconds=lease_seconds)
        SyncRun.objects.filter(pk=self.pk).update(attempts=self.attempts, retry_at=self.retry_at)
        return self.attempts

    def retry_later(self, seconds: float, error: str) -> None:
        """Unfinished, with the reason shown, until the dispatcher resumes it at `retry_at`."""
        self.retry_at, self.error = timezone.now() + timedelta(seconds=seconds), error[:1000]
        SyncRun.objects.filter(pk=self.pk).update(retry_at=self.retry_at, error=self.error)


class RoutePause(models.Model):
    """A route the user paused: its items keep being recorded and wait; nothing is written until resumed."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="route_pauses")
    route = models.CharField(max_length=40)
    paused_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "route"], name="one_pause_per_route")]

    def __str__(self) -> str:
        return f"{self.route} paused for {self.owner}"

    @classmethod
    def is_paused(cls, owner_id: int, route: str) -> bool:
        return cls.objects.filter(owner_id=owner_id, route=route).exists()


class Heartbeat(models.Model):
    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
