"""R15: passwords need 12+ characters and pass Django's usual checks, the first admin's included."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from tests.fitsync.test_settings import manage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "password, reason",
    [
        ("Tr0ub4dor&3", "at least 12 characters"),
        ("password1234", "too common"),
        ("804719263518", "entirely numeric"),
        ("ada.lovelace.ada", "too similar"),
    ],
)
def test_weak_passwords_are_refused(password, reason):
    user = get_user_model()(username="ada.lovelace")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert reason in " ".join(refused.value.messages)


def test_the_admin_password_form_applies_the_rules(admin_client, admin_user):
    url = f"/admin/auth/user/{admin_user.pk}/password/"
    short = {"password1": "Sh0rt&sw33t", "password2": "Sh0rt&sw33t"}
    assert "at least 12 characters" in admin_client.post(url, short).content.decode()
    admin_user.refresh_from_db()
    assert not admin_user.check_password("Sh0rt&sw33t")


def test_ensure_admin_refuses_a_weak_password_and_creates_no_one(settings):
    settings.FITSYNC_ADMIN_USERNAME, settings.FITSYNC_ADMIN_PASSWORD = "root", "rootroot"
    with pytest.raises(CommandError, match="FITSYNC_ADMIN_PASSWORD is too weak") as refused:
        call_command("ensure_admin")
    assert "at least 12 characters" in str(refused.value)
    assert not get_user_model().objects.filter(username="root").exists()


def test_ensure_admin_says_why_in_one_message_without_a_traceback(tmp_path):
    env = {"FITSYNC_DATA_DIR": str(tmp_path), "FITSYNC_ADMIN_PASSWORD": "12345678"}
    assert manage("migrate", "--noinput", **env).returncode == 0
    result = manage("ensure_admin", **env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "FITSYNC_ADMIN_PASSWORD is too weak" in result.stderr and "entirely numeric" in result.stderr
