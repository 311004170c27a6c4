"""Admin for every model. Secrets are never displayed: credentials show only whether a value is set."""

from django.contrib import admin, messages

from . import sync
from .models import ConnectedAccount, Credential, Heartbeat, InboundEvent, ItemStatus, SyncAttempt, SyncItem, SyncRun


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin):
    list_display = ("owner", "provider", "display_name", "status", "last_success_at", "last_error_at")
    list_filter = ("provider", "status")
    search_fields = ("owner__username", "display_name", "external_user_id")
    readonly_fields = ("created_at", "updated_at", "webhook_digest")


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ("account", "has_api_key", "has_access_token", "has_refresh_token", "expires_at", "version")
    exclude = Credential.SECRET_FIELDS
    readonly_fields = ("account", "has_api_key", "has_access_token", "has_refresh_token", "has_session_blob",
                       "has_webhook_secret", "expires_at", "scope", "version", "lease_owner", "lease_expires_at")

    def get_queryset(self, request):
        # Never decrypt secrets for a list page: defer them and answer "set?" from the raw column.
        return super().get_queryset(request).defer(*Credential.SECRET_FIELDS).select_related("account__owner")

    def _is_set(self, obj, field) -> bool:
        return bool(Credential.objects.filter(pk=obj.pk).exclude(**{field: ""}).exclude(**{f"{field}__isnull": True}).exists())

    @admin.display(boolean=True, description="API key")
    def has_api_key(self, obj):
        return self._is_set(obj, "api_key")

    @admin.display(boolean=True, description="access token")
    def has_access_token(self, obj):
        return self._is_set(obj, "access_token")

    @admin.display(boolean=True, description="refresh token")
    def has_refresh_token(self, obj):
        return self._is_set(obj, "refresh_token")

    @admin.display(boolean=True, description="session")
    def has_session_blob(self, obj):
        return self._is_set(obj, "session_blob")

    @admin.display(boolean=True, description="webhook secret")
    def has_webhook_secret(self, obj):
        return self._is_set(obj, "webhook_secret")

    def has_add_permission(self, request):
        return False  # credentials are written only by the connect flows


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("source", "received_at", "dedupe_key", "outcome", "account")
    list_filter = ("source", "outcome")
    search_fields = ("dedupe_key",)
    date_hierarchy = "received_at"


class SyncAttemptInline(admin.TabularInline):
    model = SyncAttempt
    extra = 0
    readonly_fields = ("started_at", "finished_at", "outcome", "error")
    can_delete = False


@admin.register(SyncItem)
class SyncItemAdmin(admin.ModelAdmin):
    list_display = ("title", "route", "source_id", "status", "attempts", "occurred_at", "destination_id", "last_error")
    list_filter = ("route", "status", "operation")
    search_fields = ("title", "source_id", "destination_id")
    list_select_related = ("account",)
    inlines = [SyncAttemptInline]
    actions = ["resync", "force_resync"]

    @admin.action(description="Resync")
    def resync(self, request, queryset):
        self._requeue(request, queryset, force=False)

    @admin.action(description="Force resync (replace the destination copy)")
    def force_resync(self, request, queryset):
        self._requeue(request, queryset, force=True)

    def _requeue(self, request, queryset, force: bool):
        ids = list(queryset.exclude(status=ItemStatus.RUNNING).values_list("pk", flat=True))
        SyncItem.objects.filter(pk__in=ids).update(status=ItemStatus.PENDING, attempts=0, force=force, lift_cap=True)
        queued = sync.enqueue(ids)
        self.message_user(request, f"{queued} item(s) queued.", messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "trigger", "route", "account", "started_at", "finished_at", "created", "updated",
                    "deleted", "skipped", "held", "failed")
    list_filter = ("trigger", "route")
    date_hierarchy = "started_at"


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beat_at")
