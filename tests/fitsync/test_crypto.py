import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection

from fitsync import crypto
from fitsync.models import Credential

pytestmark = pytest.mark.django_db
PLANTED = "planted-secret-7f3a9c"


def raw_row(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM fitsync_credential WHERE id = %s", [pk])
        return repr(cursor.fetchone())


def test_it_stores_no_plaintext(make_account):
    account = make_account("hevy", api_key=PLANTED, access_token=PLANTED + "-a", webhook_secret=PLANTED + "-w")
    row = raw_row(account.credential.pk)
    assert PLANTED not in row
    assert "fernet:" in row
    assert Credential.objects.get(pk=account.credential.pk).api_key == PLANTED


def test_it_raises_on_a_tampered_value(make_account):
    account = make_account("hevy", api_key=PLANTED)
    stored = crypto.encrypt(PLANTED)
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE fitsync_credential SET api_key = %s WHERE id = %s", [tampered, account.credential.pk])
    with pytest.raises(InvalidToken):
        Credential.objects.get(pk=account.credential.pk)


def test_it_rotates_to_the_newest_key(make_account, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    account = make_account("hevy", api_key=PLANTED, refresh_token=PLANTED + "-r")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    from django.core.management import call_command

    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: every row must still decrypt
    credential = Credential.objects.get(pk=account.credential.pk)
    assert (credential.api_key, credential.refresh_token) == (PLANTED, PLANTED + "-r")


def test_it_keeps_secrets_out_of_str_and_repr(make_account):
    credential = make_account("hevy", api_key=PLANTED).credential
    assert PLANTED not in str(credential) and PLANTED not in repr(credential)
