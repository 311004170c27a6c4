"""The Withings page's history import: a range of days, or everything Withings holds."""

from datetime import UTC, date, datetime, time, timedelta

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

    def window(self) -> tuple[int, int]:
        """(start, end) in epoch seconds: whole local days, the end capped at now."""
        data = self.cleaned_data
        start = _start_of(max(data["since"] or HISTORY_STARTS, HISTORY_STARTS))
        end = _start_of(data["until"] + timedelta(days=1)) if data["until"] else None
        now = int(datetime.now(UTC).timestamp())
        return start, min(end, now) if end else now


def _start_of(day: date) -> int:
    return int(timezone.make_aware(datetime.combine(day, time.min)).timestamp())
