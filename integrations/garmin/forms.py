"""The Garmin connect forms: sign-in (the password goes to one login job, never to the database) and MFA."""

from django import forms


class ConnectForm(forms.Form):
    email = forms.EmailField(
        label="Garmin email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="Garmin password",
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}, render_value=False),
    )


class MfaForm(forms.Form):
    code = forms.RegexField(
        label="Security code",
        regex=r"^\d{4,8}$",
        max_length=8,
        error_messages={"invalid": "Enter the digits of the code Garmin sent you."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()
