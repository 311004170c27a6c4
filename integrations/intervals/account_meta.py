"""The non-secret Intervals.icu data kept in `ConnectedAccount.meta`, read and written via `fitsync.account_meta`."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IntervalsMeta:
    timezone: str = ""  # the athlete's, from the profile: the day a workout lands on
    timezone_checked_at: datetime | None = None
