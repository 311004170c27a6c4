"""The Garmin connect forms: sign-in (the password goes to one login job, never to the database), MFA, and
the token file made on a desktop (checked here for shape, then by a job against Garmin)."""

from django import forms

from .client import token_file


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


class SecretTextarea(forms.Textarea):
    """A textarea that never writes what was pasted back into the page (it holds a refresh token)."""

    def format_value(self, value):
        return None


class TokenFileForm(forms.Form):
    tokens = forms.CharField(
        label="Token file (garmin_tokens.json)",
        widget=SecretTextarea(
            attrs={
                "rows": 6,
                "spellcheck": "false",
                "autocomplete": "off",
                "placeholder": '{"di_token": "eyJ...", "di_refresh_token": "...", "di_client_id": "..."}',
            }
        ),
        error_messages={"required": "Paste the contents of the token file, or choose the file."},
    )

    def clean_tokens(self) -> str:
        try:
            return token_file(self.cleaned_data["tokens"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
