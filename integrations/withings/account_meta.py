"""Non-secret Withings state kept in `ConnectedAccount.meta` (timezone, subscription, height).

Several jobs write different keys of the same JSON, so each write re-reads the row inside a short
transaction (row-locked on PostgreSQL; SQLite's IMMEDIATE transactions serialize writers).
"""

from django.db import transaction
from django.utils import timezone

from fitsync.models import ConnectedAccount


def update_meta(account: ConnectedAccount, **changes) -> dict:
    """Merge `changes` into the account's meta and return the stored meta."""
    with transaction.atomic():
        row = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        meta = {**row.meta, **changes}
        ConnectedAccount.objects.filter(pk=account.pk).update(meta=meta, updated_at=timezone.now())
    account.meta = meta
    return meta


def set_subscription(account: ConnectedAccount, state: str, message: str, callback_url_shown: str) -> dict:
    """state: "active" (Withings will notify us), "missing" (not subscribed) or "error"."""
    subscription = {
        "state": state,
        "message": message,
        "callback_url_shown": callback_url_shown,
        "checked_at": timezone.now().isoformat(),
    }
    return update_meta(account, subscription=subscription)
