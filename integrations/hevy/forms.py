from django import forms


class ApiKeyForm(forms.Form):
    api_key = forms.CharField(
        label="Hevy API key",
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Hevy Pro → hevy.com/settings?developer → API key.",
    )
