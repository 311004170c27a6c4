"""Non-secret Withings state kept in `ConnectedAccount.meta` (timezone, subscription, height)."""

from django.utils import timezone

from fitsync.models import ConnectedAccount


def update_meta(account: ConnectedAccount, **changes) -> dict:
    """Merge `changes` into the account's meta and return the stored meta."""
    return account.merge_meta(**changes)


def set_subscription(account: ConnectedAccount, state: str, message: str, callback_url_shown: str) -> dict:
    """state: "active" (Withings will notify us), "missing" (not subscribed) or "error". `was_active` stays
    true once a subscription worked: an error after it is a dropped subscription (and an alert), where an
    instance Withings cannot reach (no public HTTPS) never had one to lose."""
    previous = account.meta.get("subscription") or {}
    subscription = {
        "state": state,
        "was_active": state == "active" or bool(previous.get("was_active")),
        "message": message,
        "callback_url_shown": callback_url_shown,
        "checked_at": timezone.now().isoformat(),
    }
    return update_meta(account, subscription=subscription)
