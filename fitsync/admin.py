"""Admin for every model. Secrets are never displayed: credentials show only whether a value is set.
django-q2's schedules are shown read-only: a schedule names any importable callable, so adding or editing
one through the admin would let an admin account run arbitrary code in the workers."""

from django.contrib import admin, messages
from django.db.models import BooleanField, Case, Q, Value, When
from django_q.admin import ScheduleAdmin
from django_q.models import Schedule

from .dashboard import actions
from .models import (
    AccountEvent,
    AlertSettings,
    AlertState,
    ConnectedAccount,
    Credential,
    Delivery,
    Heartbeat,
    InboundEvent,
    Profile,
    RouteSetting,
    SyncAttempt,
    SyncItem,
    SyncRun,
)

SHOWN_SECRETS = ("api_key", "access_token", "refresh_token", "session_blob", "webhook_secret")


def is_set(field: str) -> Case:
    """True when the encrypted column holds anything; computed in SQL so nothing is decrypted."""
    empty = Q(**{field: ""}) | Q(**{f"{field}__isnull": True})
    return Case(When(empty, then=Value(False)), default=Value(True), output_field=BooleanField())


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin):
    list_display = ("owner", "provider", "display_name", "status", "last_success_at", "last_error_at")
    list_filter = ("provider", "status")
    search_fields = ("owner__username", "display_name", "external_user_id")
    list_select_related = ("owner",)
    exclude = ("webhook_digest",)  # not a secret, but of no use to a person
    readonly_fields = ("created_at", "updated_at")


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ("account", "has_api_key", "has_access_token", "has_refresh_token", "expires_at", "version")
    exclude = Credential.SECRET_FIELDS
    readonly_fields = (
        "account",
        "has_api_key",
        "has_access_token",
        "has_refresh_token",
        "has_session_blob",
        "has_webhook_secret",
        "expires_at",
        "scope",
        "version",
        "lease_owner",
        "lease_expires_at",
    )
    search_fields = ("account__owner__username",)
    list_filter = ("account__provider",)

    def get_queryset(self, request):
        # Never decrypt secrets: defer them and answer "set?" from the raw column in the same query.
        annotations = {f"{name}_is_set": is_set(name) for name in SHOWN_SECRETS}
        queryset = super().get_queryset(request).defer(*Credential.SECRET_FIELDS).annotate(**annotations)
        return queryset.select_related("account__owner")

    @admin.display(boolean=True, description="API key")
    def has_api_key(self, obj):
        return obj.api_key_is_set

    @admin.display(boolean=True, description="access token")
    def has_access_token(self, obj):
        return obj.access_token_is_set

    @admin.display(boolean=True, description="refresh token")
    def has_refresh_token(self, obj):
        return obj.refresh_token_is_set

    @admin.display(boolean=True, description="session")
    def has_session_blob(self, obj):
        return obj.session_blob_is_set

    @admin.display(boolean=True, description="webhook secret")
    def has_webhook_secret(self, obj):
        return obj.webhook_secret_is_set

    def has_add_permission(self, request):
        return False  # credentials are written only by the connect flows


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("source", "received_at", "dedupe_key", "account")
    list_filter = ("source",)
    search_fields = ("dedupe_key",)
    list_select_related = ("account__owner",)
    date_hierarchy = "received_at"


class SyncAttemptInline(admin.TabularInline):
    model = SyncAttempt
    extra = 0
    readonly_fields = ("started_at", "finished_at", "outcome", "error")
    can_delete = False
    ordering = ("-started_at",)


class RequeueActions:
    actions = ("resync", "force_resync")

    @admin.action(description="Resync")
    def resync(self, request, queryset):
        self._requeued(request, actions.resync_chosen(self._items(queryset)))

    @admin.action(description="Force resync (replace the destination copy)")
    def force_resync(self, request, queryset):
        self._requeued(request, actions.force_resync_chosen(self._items(queryset)))

    def _items(self, queryset):
        return SyncItem.objects.filter(pk__in=queryset.values("pk"))

    def _requeued(self, request, queued: int):
        self.message_user(request, f"{queued} item(s) queued.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("provider", "received_at", "outcome", "status_code", "reason", "account")
    list_filter = ("provider", "outcome", "status_code")
    search_fields = ("reason",)
    list_select_related = ("account__owner",)
    raw_id_fields = ("item",)


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ("account", "at", "kind", "message")
    list_filter = ("kind",)
    search_fields = ("message",)
    list_select_related = ("account__owner",)


@admin.register(SyncItem)
class SyncItemAdmin(RequeueActions, admin.ModelAdmin):
    list_display = ("title", "route", "source_id", "status", "attempts", "occurred_at", "destination_id", "last_error")
    list_filter = ("route", "status", "operation", "force", "lift_cap")
    search_fields = ("title", "source_id", "destination_id")
    list_select_related = ("account",)
    date_hierarchy = "occurred_at"
    inlines = (SyncAttemptInline,)
    readonly_fields = ("created_at", "updated_at", "queued_at", "lease_owner", "lease_expires_at")
    raw_id_fields = ("run",)


@admin.register(SyncAttempt)
class SyncAttemptAdmin(admin.ModelAdmin):
    list_display = ("item", "started_at", "finished_at", "outcome", "error")
    list_filter = ("outcome",)
    search_fields = ("item__title", "item__source_id", "error")
    list_select_related = ("item",)
    raw_id_fields = ("item",)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "trigger",
        "route",
        "account",
        "started_at",
        "finished_at",
        "created",
        "updated",
        "deleted",
        "skipped",
        "held",
        "failed",
        "done",
        "total",
    )
    list_filter = ("trigger", "route")
    list_select_related = ("account__owner",)
    search_fields = ("error", "route")
    date_hierarchy = "started_at"


@admin.register(RouteSetting)
class RouteSettingAdmin(admin.ModelAdmin):
    list_display = ("owner", "route", "enabled", "paused_at")
    list_filter = ("route", "enabled")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "time_zone", "weight_unit")
    search_fields = ("user__username",)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beat_at")


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    """Whether a user set alert URLs, never the URLs: they carry the services' tokens."""

    list_display = ("owner", "has_urls", "updated_at")
    exclude = ("apprise_urls",)
    readonly_fields = ("owner", "has_urls", "updated_at")
    search_fields = ("owner__username",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("apprise_urls").annotate(urls_are_set=is_set("apprise_urls"))

    @admin.display(boolean=True, description="Alert URLs set")
    def has_urls(self, obj):
        return obj.urls_are_set


@admin.register(AlertState)
class AlertStateAdmin(admin.ModelAdmin):
    list_display = ("owner", "key", "message", "opened_at", "last_sent_at", "reminded_at", "resolved_at")
    list_filter = ("resolved_at",)
    list_select_related = ("owner",)
    search_fields = ("owner__username", "key", "message")


class ReadOnlyScheduleAdmin(ScheduleAdmin):
    """The periodic jobs, viewable; they are written on migrate (fitsync/signals.py), never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(Schedule)  # django_q.admin, imported above, registered its editable one
admin.site.register(Schedule, ReadOnlyScheduleAdmin)
