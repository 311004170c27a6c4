"""The filter form of the Workouts and Weights lists (GET; every field optional)."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from ..models import ItemStatus


class ItemFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *ItemStatus.choices], required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label="Title contains", required=False, max_length=100, widget=forms.TextInput(attrs={"type": "search"})
    )

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
        return items


def start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
