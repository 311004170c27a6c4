"""A credential written under another FIELD_ENCRYPTION_KEYS (as the demo once did) is "reconnect this
service" on its page and its card, never a 500; and nothing is decrypted to find that out."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection

from fitsync import crypto
from fitsync.crypto import UnreadableSecret
from fitsync.errors import AuthExpired
from fitsync.models import AccountStatus, ConnectedAccount, Credential

pytestmark = pytest.mark.django_db
PAGES = {"hevy": "/hevy/", "intervals": "/intervals/", "withings": "/withings/", "garmin": "/garmin/"}
SECRETS = {
    "hevy": {"api_key": "hevy-key", "webhook_secret": "hook"},
    "intervals": {"api_key": "intervals-key"},
    "withings": {"access_token": "a", "refresh_token": "r", "webhook_secret": "url-token"},
    "garmin": {"session_blob": '{"di_token": "t"}'},
}
LABELS = {"hevy": "Hevy", "intervals": "Intervals.icu", "withings": "Withings", "garmin": "Garmin Connect"}


def seal_under_another_key(account: ConnectedAccount, **secrets: str) -> None:
    """Store the secrets as another install would have: encrypted under a key this one does not hold."""
    foreign = Fernet(Fernet.generate_key())
    with connection.cursor() as cursor:
        for name, value in secrets.items():
            stored = crypto.PREFIX + foreign.encrypt(value.encode()).decode()
            cursor.execute(f"UPDATE fitsync_credential SET {name} = %s WHERE account_id = %s", [stored, account.pk])


@pytest.fixture
def foreign_accounts(make_account):
    accounts = {}
    for provider, secrets in SECRETS.items():
        accounts[provider] = make_account(provider, **secrets)
        accounts[provider].meta = {"display_name": provider}
        accounts[provider].save()
        seal_under_another_key(accounts[provider], **secrets)
    return accounts


def status_of(provider: str) -> tuple[str, str]:
    account = ConnectedAccount.objects.get(provider=provider)
    return account.status, account.status_message


@pytest.mark.parametrize("provider", PAGES)
def test_the_service_page_asks_to_reconnect(logged_in, foreign_accounts, provider, settings):
    settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = "client-id", "client-secret"
    response = logged_in.get(PAGES[provider])
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Reconnect {LABELS[provider]}" in page and "FIELD_ENCRYPTION_KEYS" in page
    assert status_of(provider)[0] == AccountStatus.NEEDS_REAUTH


def test_the_cards_ask_to_reconnect_without_decrypting_anything(logged_in, foreign_accounts, monkeypatch):
    monkeypatch.setattr("fitsync.crypto.decrypt", lambda stored: pytest.fail("a secret was decrypted"))
    page = logged_in.get("/").content.decode()
    for label in LABELS.values():
        assert f"Reconnect {label}</a>" in page
    assert "FIELD_ENCRYPTION_KEYS" in page


def test_a_readable_credential_is_left_alone(logged_in, make_account):
    make_account("hevy", api_key="k", webhook_secret="hook-secret")
    page = logged_in.get("/hevy/").content.decode()
    assert "hook-secret" in page and status_of("hevy") == (AccountStatus.CONNECTED, "")


def test_loading_it_raises_an_auth_error_naming_the_service_and_marks_the_account(foreign_accounts):
    with pytest.raises(UnreadableSecret) as caught:
        Credential.objects.get(account=foreign_accounts["intervals"])
    assert isinstance(caught.value, AuthExpired) and isinstance(caught.value, InvalidToken)
    assert caught.value.provider == "intervals" and "Reconnect Intervals.icu" in str(caught.value)
    assert status_of("intervals")[0] == AccountStatus.NEEDS_REAUTH
    assert status_of("hevy")[0] == AccountStatus.CONNECTED  # only the account whose secret failed


def test_the_seal_check_tells_ours_from_foreign_and_garbage(settings):
    ours = crypto.encrypt("x")
    foreign = crypto.PREFIX + Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    assert crypto.is_readable(ours) and not crypto.is_readable(foreign)
    assert not any(map(crypto.is_readable, ["", "fernet:", "fernet:!!", ours[:-8], ours[:-4] + "AAAA"]))
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
    assert crypto.is_readable(ours)  # any of the keys, as for decrypting


def test_a_garmin_sign_in_replaces_the_unreadable_session(
    logged_in, foreign_accounts, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post("/garmin/", {"email": "ada@example.com", "password": "pw"})
    assert response.status_code == 302
    credential = Credential.objects.get(account=foreign_accounts["garmin"])  # loads again: nothing unreadable
    assert credential.session_blob == "" and "ada@example.com" in credential.pending_blob


def test_a_withings_fetch_job_marks_the_account_and_ends(foreign_accounts):
    from integrations.withings import tasks

    summary = tasks.fetch_new(foreign_accounts["withings"].pk)
    assert "withings account" in summary and status_of("withings")[0] == AccountStatus.NEEDS_REAUTH
    run = foreign_accounts["withings"].syncrun_set.get()
    assert run.finished_at is not None and "Reconnect Withings" in run.error
