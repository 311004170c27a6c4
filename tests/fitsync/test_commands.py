from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_ensure_admin_generates_a_password_once(settings):
    settings.FITSYNC_ADMIN_PASSWORD = ""
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = out.getvalue().split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "exists" in again.getvalue() and password not in again.getvalue()


def test_ensure_admin_uses_the_configured_password(settings):
    settings.FITSYNC_ADMIN_USERNAME, settings.FITSYNC_ADMIN_PASSWORD = "root", "a-long-configured-password"
    call_command("ensure_admin", stdout=StringIO())
    user = get_user_model().objects.get(username="root")
    assert user.is_superuser and user.check_password("a-long-configured-password")
