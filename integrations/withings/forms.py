"""The Withings page's history import: a range of days, or everything Withings holds."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

# Withings sold its first connected scale in 2009: nothing is older.
HISTORY_STARTS = date(2009, 1, 1)


def day_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", "min": HISTORY_STARTS.isoformat()})


class HistoryForm(forms.Form):
    since = forms.DateField(label="From", required=False, widget=day_input(), help_text="Empty: your whole history.")
    until = forms.DateField(label="To", required=False, widget=day_input(), help_text="Empty: today.")
    lift_cap = forms.BooleanField(
        label="Upload everything at once (beyond the safety cap)",
        required=False,
        help_text="Otherwise the first few go out and the rest wait, held, until you upload them.",
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The first day comes after the last one.")
        return data

    def span(self) -> tuple[datetime | None, datetime | None]:
        """(since, until) as whole local days; None for the whole history, or up to now."""
        data = self.cleaned_data
        since = _start_of(max(data["since"], HISTORY_STARTS)) if data["since"] else None
        until = _start_of(data["until"] + timedelta(days=1)) if data["until"] else None
        return since, until


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
