"""The non-secret Hevy data kept in `ConnectedAccount.meta`, read and written through `fitsync.account_meta`."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FeedFailures:
    """Consecutive failed polls of the events feed, since the first of them."""

    count: int = 0
    since: datetime | None = None


@dataclass(frozen=True)
class HevyMeta:
    webhook_url: str = ""  # the URL the user pastes into Hevy's webhook settings
    events_feed_failures: FeedFailures | None = None  # None while the feed answers
