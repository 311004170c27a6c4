"""Non-secret Withings state kept in `ConnectedAccount.meta` (timezone, subscription, height)."""

from django.utils import timezone

from fitsync.models import ConnectedAccount


def update_meta(account: ConnectedAccount, **changes) -> dict:
    """Merge `changes` into the account's meta and return the stored meta."""
    return account.merge_meta(**changes)


def set_subscription(account: ConnectedAccount, state: str, message: str, callback_url_shown: str) -> dict:
    """state: "active" (Withings will notify us), "missing" (not subscribed) or "error"."""
    subscription = {
        "state": state,
        "message": message,
        "callback_url_shown": callback_url_shown,
        "checked_at": timezone.now().isoformat(),
    }
    return update_meta(account, subscription=subscription)
