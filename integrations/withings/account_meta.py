"""The non-secret Withings data kept in `ConnectedAccount.meta` (timezone, subscription, height)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from fitsync import account_meta


@dataclass(frozen=True)
class Subscription:
    state: str = "missing"  # "active" (Withings will notify us), "missing" (not subscribed) or "error"
    message: str = ""
    callback_url_shown: str = ""
    checked_at: datetime | None = None
    # True once a subscription worked: an error after it is a dropped subscription (and an alert), where an
    # instance Withings cannot reach (no public HTTPS) never had one to lose.
    was_active: bool = False


@dataclass(frozen=True)
class WithingsMeta:
    timezone: str = ""  # the user's, as Withings sends it with the measures
    subscription: Subscription | None = None
    height_m: str | None = None  # the newest height Withings holds (Decimal text), for BMI
    height_at: int = 0  # when that height was measured (epoch seconds)
    height_asked: bool = False  # Withings was asked for a height once, found or not: do not ask again

    @property
    def knows_height(self) -> bool:
        return self.height_asked or self.height_m is not None


def set_subscription(account, state: str, message: str, callback_url_shown: str) -> Subscription:
    previous = account_meta.read(account, WithingsMeta).subscription
    was_active = state == "active" or bool(previous and previous.was_active)
    subscription = Subscription(state, message, callback_url_shown, timezone.now(), was_active)
    account_meta.write(account, WithingsMeta, subscription=subscription)
    return subscription
