"""R15: login guesses are limited per user and per address, and a success by another user clears none."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
ADMIN_PASSWORD = "a long admin passphrase"
ADA_PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "", ADMIN_PASSWORD)


def guess(client, username, password="wrong", address="198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def log_in_and_out(client, username, password, address="198.51.100.7"):
    response = guess(client, username, password, address)
    client.logout()
    return response


def test_a_login_as_another_user_does_not_clear_failures_against_admin(client, user, admin_user, settings):
    """GIVEN one address that alternates 4 wrong admin passwords with one good login as ada, 4 rounds
    THEN admin's passwords are checked only LOGIN_FAILURE_LIMIT times, and then admin is locked."""
    answers = []
    for _ in range(4):
        answers += [guess(client, "admin").status_code for _ in range(4)]
        answers.append(log_in_and_out(client, "ada", ADA_PASSWORD).status_code)
    wrong_checked = [code for code in answers if code == 200]  # the form shown again: a guess was checked
    assert len(wrong_checked) == settings.AXES_FAILURE_LIMIT - 1
    assert answers[:6] == [200, 200, 200, 200, 302, 429]  # the fifth admin guess reaches the limit
    assert guess(client, "admin", ADMIN_PASSWORD, address="192.0.2.50").status_code == 429


def test_a_success_clears_the_users_own_failures_from_that_address(client, user, settings):
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert guess(client, "ada").status_code == 200
        assert log_in_and_out(client, "ada", ADA_PASSWORD).status_code == 302


def test_guesses_from_many_addresses_against_one_user_lock_that_user(client, user, django_user_model, settings):
    django_user_model.objects.create_user("bob", password="another long passphrase")
    addresses = [f"203.0.113.{n}" for n in range(1, settings.AXES_FAILURE_LIMIT + 1)]
    for address in addresses:
        guess(client, "ada", address=address)
    locked = guess(client, "ada", ADA_PASSWORD, address="192.0.2.99")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert "Logins to the account <strong>ada</strong> are paused" in locked.content.decode()
    # The addresses themselves made one guess each: another user logs in from them.
    assert log_in_and_out(client, "bob", "another long passphrase", address=addresses[0]).status_code == 302


def test_guesses_from_one_address_at_many_users_lock_that_address(client, user, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        guess(client, f"someone{number}")
    locked = guess(client, "ada", ADA_PASSWORD)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Logins from your network address are paused" in page and "account" not in page.split("<h1>")[1]
    assert log_in_and_out(client, "ada", ADA_PASSWORD, address="192.0.2.1").status_code == 302


def test_the_lockout_page_says_when_it_ends_in_the_users_time(client, user, settings):
    settings.TIME_ZONE = "Europe/Paris"
    start = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 14:00 in Paris
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            guess(client, "ada")
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        page = guess(client, "ada", ADA_PASSWORD).content.decode()
    assert 'You can try again at <strong><time datetime="2026-03-02T14:15:00+01:00">14:15 CET</time>' in page
    assert "in 10\xa0minutes" in page
    assert "PT15M" not in page and "manage.py" not in page
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert guess(client, "ada", ADA_PASSWORD).status_code == 429  # retries do not extend the pause
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert guess(client, "ada", ADA_PASSWORD).status_code == 302


def test_the_commands_the_docs_name_lift_a_pause(client, user, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        guess(client, "ada", address=f"203.0.113.{number}")
        guess(client, f"someone{number}")
    assert guess(client, "ada", ADA_PASSWORD).status_code == 429
    call_command("axes_reset_username", "ada", stdout=StringIO())
    assert guess(client, "ada", ADA_PASSWORD).status_code == 429  # the address is still paused
    call_command("axes_reset_ip", "198.51.100.7", stdout=StringIO())
    assert guess(client, "ada", ADA_PASSWORD).status_code == 302
