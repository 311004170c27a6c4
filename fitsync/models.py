"""fitsync's own tables: the source of truth for accounts, secrets, inbound events and sync state.

django-q2 only wakes workers up; everything a job needs to resume lives here. State transitions
that race (claiming an item, taking a refresh lease) are conditional UPDATEs, not locks, so they
work the same on SQLite and PostgreSQL.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from .crypto import EncryptedTextField
from .item_states import ItemQuerySet, ItemStatus
from .providers import Provider
from .zones import is_time_zone

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
    # When the source last handed us data: an accepted webhook delivery, a record read, an import's page.
    last_received_at = models.DateTimeField(null=True, blank=True)
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

    @property
    def has_current_problem(self) -> bool:
        """True while the last error is newer than the last success (or the account must be reconnected);
        an older one is history."""
        if self.status == AccountStatus.NEEDS_REAUTH:
            return True
        if not self.last_error:
            return False
        return not self.last_success_at or not self.last_error_at or self.last_error_at > self.last_success_at

    def mark_success(self, *, received: bool = False) -> None:
        """A sync, poll or import worked; `received`: it also brought data from this account's service."""
        now = timezone.now()
        fields = {"last_success_at": now, **({"last_received_at": now} if received else {})}
        ConnectedAccount.objects.filter(pk=self.pk).update(updated_at=now, **fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def mark_received(self) -> None:
        """Stamped at most once a minute: every webhook calls this inside its short transaction."""
        now = timezone.now()
        stale = Q(last_received_at__isnull=True) | Q(last_received_at__lt=now - timedelta(minutes=1))
        ConnectedAccount.objects.filter(stale, pk=self.pk).update(last_received_at=now)
        self.last_received_at = now

    def mark_error(self, message: str, *, logged: bool = True) -> None:
        """`logged=False` when the failure already has its own record (an item's attempt)."""
        now = timezone.now()
        ConnectedAccount.objects.filter(pk=self.pk).update(last_error=message[:500], last_error_at=now, updated_at=now)
        self.last_error, self.last_error_at = message[:500], now
        if logged:
            AccountEvent.note(self, AccountEvent.Kind.ERROR, message)

    def mark_needs_reauth(self, message: str) -> None:
        """The upstream rejected our credentials: stop using them until the user reconnects."""
        now = timezone.now()
        fields = dict(status=AccountStatus.NEEDS_REAUTH, status_message=message[:500], last_error=message[:500])
        ConnectedAccount.objects.filter(pk=self.pk).update(last_error_at=now, updated_at=now, **fields)
        for key, value in fields.items():
            setattr(self, key, value)
        AccountEvent.note(self, AccountEvent.Kind.NEEDS_REAUTH, message)

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
        AccountEvent.note(self, AccountEvent.Kind.CONNECTED, "")


class AccountEvent(models.Model):
    """What happened to an account, for the overview's timeline: errors, lost access, (re)connections.

    Bounded: only the newest KEEP per account are kept, so a failing feed cannot grow the table.
    """

    KEEP = 50

    class Kind(models.TextChoices):
        ERROR = "error", "Error"
        NEEDS_REAUTH = "needs_reauth", "Access lost"
        CONNECTED = "connected", "Connected"

    account = models.ForeignKey(ConnectedAccount, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-at"], name="account_event_recent")]

    def __str__(self) -> str:
        return f"{self.kind} of account {self.account_id} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def note(cls, account: ConnectedAccount, kind: str, message: str) -> None:
        cls.objects.create(account_id=account.pk, kind=kind, message=message[:500])
        newest = cls.objects.filter(account_id=account.pk).order_by("-pk").values_list("pk", flat=True)
        oldest_dropped = list(newest[cls.KEEP : cls.KEEP + 1])
        if oldest_dropped:
            cls.objects.filter(account_id=account.pk, pk__lte=oldest_dropped[0]).delete()


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
    # The run that last queued the item (a fetch, a "Sync now", an import): its page counts the outcome.
    run = models.ForeignKey("SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
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
            # "Last synced" of a route on the overview: the top of this index, whatever wrote the copy.
            models.Index(fields=["account", "route", "-synced_at"], name="item_last_synced"),
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
        indexes = [
            models.Index(fields=["item", "-started_at"], name="attempt_by_item"),
            models.Index(fields=["-finished_at"], name="attempt_recent"),  # the overview's timeline
        ]

    def __str__(self) -> str:
        return f"attempt on {self.item_id}: {self.outcome}"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        BACKFILL = "backfill", "Backfill"

    # The route of a source's fetch (a notification's, a window's, Sync now's): it feeds every route from
    # the source, so the run is the source account's and its items carry their routes. A history import
    # is a run per route (`fitsync/history_runs.py`).
    EVERY_ROUTE = ""

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

    def save(self, *args, **kwargs):
        if self._state.adding and self.route == self.EVERY_ROUTE and self.account_id is not None:
            # A source's run feeds the owner's routes from it that are on now: noted, so the run's page
            # names those, not a route turned on or off since.
            from .routes import routes_from  # the table imports roles, which import nothing of this module

            chosen = dict(RouteSetting.objects.filter(owner_id=self.account.owner_id).values_list("route", "enabled"))
            on = [route.name for route in routes_from(self.account.provider) if route.is_on(chosen.get(route.name))]
            self.params = {**self.params, "routes": on}
        super().save(*args, **kwargs)

    def routes(self) -> list:
        """The routes this run concerns: its own, or the routes from its source that were on when it began."""
        from .routes import ROUTES, routes_from  # the table imports roles, which import nothing of this module

        if self.route in ROUTES:
            return [ROUTES[self.route]]
        if self.route == self.EVERY_ROUTE and self.account_id is not None:
            if "routes" in self.params:
                return [ROUTES[name] for name in self.params["routes"] if name in ROUTES]
            return routes_from(self.account.provider)  # a run from before the routes were noted
        return []

    @property
    def route_labels(self) -> str:
        """What the dashboard calls the run's routes; an unknown route's name as it is."""
        return " · ".join(route.label for route in self.routes()) or self.route or "–"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    def bump(self, **counts: int) -> None:
        """Add to counters atomically (several workers may report into one run)."""
        SyncRun.objects.filter(pk=self.pk).update(**{k: F(k) + v for k, v in counts.items() if v})

    def finish(self, error: str = "") -> None:
        self.finished_at, self.error, self.retry_at = timezone.now(), error[:1000], None
        SyncRun.objects.filter(pk=self.pk).update(finished_at=self.finished_at, error=self.error, retry_at=None)
        self.credit_accounts()

    def credit_accounts(self) -> None:
        """A run that finished without error, or wrote copies itself (an import writes in bulk, not through
        the engine; its error may only list the items that failed), is a success of the accounts it used:
        their "Last success" must say so. A run that failed before writing credits nothing."""
        if self.account_id is None:
            return
        counts = SyncRun.objects.filter(pk=self.pk).values("created", "updated", "deleted", "done").first() or {}
        wrote = counts.get("created", 0) + counts.get("updated", 0) + counts.get("deleted", 0)
        if self.error and not wrote:
            return
        self.account.mark_success(received=bool(counts.get("done") or wrote))
        destination = self.destination_account() if wrote else None
        if destination is not None:
            destination.mark_success()

    def destination_account(self) -> "ConnectedAccount | None":
        from .routes import ROUTES  # the table imports roles, which import nothing of this module

        route = ROUTES.get(self.route)
        if route is None or self.owner_id is None:
            return None
        return ConnectedAccount.objects.filter(owner_id=self.owner_id, provider=route.destination_provider).first()

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


class Delivery(models.Model):
    """One webhook delivery as its sender saw it: accepted, a duplicate, ignored, or refused and why.

    Never a secret: no header, no URL token, no body; `reason` is our own words. Bounded per service and
    account (KEEP rows each), so a flood of refused deliveries cannot evict an account's own log.
    """

    KEEP = 100

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate"
        IGNORED = "ignored", "Ignored"
        REFUSED = "refused", "Refused"

    provider = models.CharField(max_length=20, choices=Provider.choices)
    account = models.ForeignKey(ConnectedAccount, null=True, blank=True, on_delete=models.CASCADE)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    item = models.ForeignKey(SyncItem, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["provider", "account", "-received_at"], name="delivery_recent")]

    def __str__(self) -> str:
        return f"{self.provider} delivery {self.outcome} ({self.status_code})"


class RouteSetting(models.Model):
    """A user's choices for one route: on or off (an optional route starts off), paused, and its options.

    A paused route keeps recording its items, which wait; a route turned off records nothing new. The
    options are what the route's options form (`Route.options_form`) cleaned; `fitsync.route_settings`
    reads them with the form's defaults beneath."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="route_settings")
    route = models.CharField(max_length=40)
    enabled = models.BooleanField(null=True, blank=True, help_text="Empty: the route's default")
    paused_at = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "route"], name="one_setting_per_route")]

    def __str__(self) -> str:
        return f"{self.route} for {self.owner}"


class Heartbeat(models.Model):
    WORKER = "worker"  # the name a worker beats under (fitsync.tasks.heartbeat)

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class AlertSettings(models.Model):
    """Where a user's alerts go: Apprise URLs, one a line (they carry tokens, so they are encrypted)."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings")
    apprise_urls = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alert settings of {self.owner}"

    @property
    def urls(self) -> list[str]:
        return [line.strip() for line in self.apprise_urls.splitlines() if line.strip()]


class AlertState(models.Model):
    """One problem of one user (`key` names it, e.g. "reauth:12"): open while `resolved_at` is empty.

    Every send is claimed first by a conditional UPDATE of these times, so two checkers never both send."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_states")
    key = models.CharField(max_length=100)
    message = models.TextField(blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="one_alert_state_per_problem")]

    def __str__(self) -> str:
        return f"alert {self.key} of {self.owner}"


def validate_time_zone(name: str) -> None:
    if not is_time_zone(name):
        raise ValidationError(f"{name!r} is not a time zone name such as Europe/Berlin.")


class WeightUnit(models.TextChoices):
    KG = "kg", "Kilograms (kg)"
    LB = "lb", "Pounds (lb)"


class Profile(models.Model):
    """How one person reads the dashboard: their clock and their unit of weight."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    # An IANA name; blank until chosen, then taken once from a connected service or the browser.
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    weight_unit = models.CharField(max_length=2, choices=WeightUnit.choices, default=WeightUnit.KG)

    def __str__(self) -> str:
        return f"Profile of {self.user}"
