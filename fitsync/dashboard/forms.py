"""The filter form of the Workouts and Weights lists (GET; every field optional)."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from ..models import ItemStatus

# A day's bounds are computed in the server's zone; near date.min/date.max that leaves datetime's range.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
OUT_OF_RANGE = f"Pick a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}."


def day_field(label: str) -> forms.DateField:
    validators = [MinValueValidator(EARLIEST, OUT_OF_RANGE), MaxValueValidator(LATEST, OUT_OF_RANGE)]
    widget = forms.DateInput(attrs={"type": "date", "min": EARLIEST.isoformat(), "max": LATEST.isoformat()})
    return forms.DateField(label=label, required=False, validators=validators, widget=widget)


class ItemFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *ItemStatus.choices], required=False)
    since = day_field("From")
    until = day_field("To")
    q = forms.CharField(
        label="Title contains", required=False, max_length=100, widget=forms.TextInput(attrs={"type": "search"})
    )
    # The items a run queued ("N queued → see items" on the run's page); kept across filtering as hidden.
    run = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    @property
    def is_search(self) -> bool:
        return self.is_valid() and bool(self.cleaned_data["q"])

    def apply(self, items):
        """The items narrowed by the valid filters; an invalid form filters nothing."""
        if not self.is_valid():
            return items
        data = self.cleaned_data
        if data["status"]:
            items = items.filter(status=data["status"])
        # Whole local days, as datetime bounds so the (account, route, -occurred_at) index serves them.
        if data["since"]:
            items = items.filter(occurred_at__gte=start_of(data["since"]))
        if data["until"]:
            items = items.filter(occurred_at__lt=start_of(data["until"] + timedelta(days=1)))
        if data["q"]:
            items = items.filter(title__icontains=data["q"])
        if data["run"]:
            items = items.filter(run_id=data["run"])
        return items


def start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
