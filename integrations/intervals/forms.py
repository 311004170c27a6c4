from django import forms

from .client import normalize_athlete_id


class ConnectForm(forms.Form):
    athlete_id = forms.CharField(
        label="Athlete id", max_length=20, strip=True,
        help_text="On intervals.icu/settings, e.g. i12345 (the number alone works too).",
    )
    api_key = forms.CharField(
        label="API key", max_length=200, strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="intervals.icu/settings → Developer Settings → API key.",
    )

    def clean_athlete_id(self) -> str:
        athlete_id = normalize_athlete_id(self.cleaned_data["athlete_id"])
        if athlete_id is None:
            raise forms.ValidationError("The athlete id looks like i12345 (or just the number).")
        return athlete_id
