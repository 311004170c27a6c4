"""The route's option: which weigh-ins of a day its wellness record shows, picked field by field.

"first" by default: the morning weigh-in, before food and training, is the one comparable from day to day,
and the day's value then stays put as later weigh-ins come in. "last" follows the latest weigh-in, "average"
takes every one of the day. Each field is picked on its own: a day whose first weigh-in has no body fat
takes the body fat of the next one that has it.
"""

from django import forms

from fitsync import route_settings
from fitsync.roles import SyncContext

PICKS = ("first", "last", "average")
DEFAULT_PICK = "first"


class WellnessOptionsForm(forms.Form):
    pick = forms.ChoiceField(
        label="Several weigh-ins in a day",
        choices=[
            ("first", "The first of the day (the morning weigh-in)"),
            ("last", "The last of the day"),
            ("average", "The average of the day"),
        ],
        initial=DEFAULT_PICK,
        widget=forms.RadioSelect,
        help_text="Weight and body fat are each picked on their own.",
    )


def pick_for(context: SyncContext) -> str:
    """The user's pick for this route (the default for an unknown one)."""
    pick = route_settings.options_of(context.destination.owner_id, context.route).get("pick")
    return pick if pick in PICKS else DEFAULT_PICK
