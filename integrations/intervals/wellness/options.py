"""The route's option: which weigh-ins of a day its wellness record shows, picked field by field.

"first" by default: the morning weigh-in, before food and training, is the one comparable from day to day,
and the day's value then stays put as later weigh-ins come in. "last" follows the latest weigh-in, "average"
takes every one of the day. Each field is picked on its own: a day whose first weigh-in has no body fat
takes the body fat of the next one that has it.

Until the route has settings of its own, the choice is kept on the Intervals.icu account
(`IntervalsMeta.wellness_pick`); `options_for` is the one place that reads it.
"""

from dataclasses import dataclass

from fitsync import account_meta

from ..account_meta import IntervalsMeta

PICKS = ("first", "last", "average")
DEFAULT_PICK = "first"


@dataclass(frozen=True)
class WellnessOptions:
    pick: str = DEFAULT_PICK  # one of PICKS


def options_for(account) -> WellnessOptions:
    """The route's options for the athlete of this Intervals.icu account (the default for an unknown pick)."""
    pick = account_meta.read(account, IntervalsMeta).wellness_pick
    return WellnessOptions(pick if pick in PICKS else DEFAULT_PICK)
