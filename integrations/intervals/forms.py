from django import forms

from .client import normalize_athlete_id


class ConnectForm(forms.Form):
    athlete_id = forms.CharField(
        label="Athlete id (optional)",
        max_length=20,
        strip=True,
        required=False,
        help_text="Read from your key when left empty. If you type it: as on intervals.icu/settings, "
        "e.g. i12345 or 2049151.",
    )
    api_key = forms.CharField(
        label="API key",
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="intervals.icu/settings → Developer Settings → API key.",
    )

    def clean_athlete_id(self) -> str:
        if not self.cleaned_data["athlete_id"]:
            return ""
        athlete_id = normalize_athlete_id(self.cleaned_data["athlete_id"])
        if athlete_id is None:
            raise forms.ValidationError("The athlete id looks like i12345 or 2049151; or leave it empty.")
        return athlete_id
