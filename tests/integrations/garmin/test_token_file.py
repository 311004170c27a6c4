"""Connecting Garmin with a token file made on a desktop (`client.dumps()`), for when Garmin blocks logins.

The view checks the file's shape and queues a job; the job loads the tokens into garminconnect 0.3.20,
reads the profile from the sandbox over HTTP, and stores them only if Garmin accepted them.
"""

import getpass
import json
import re
from pathlib import Path

import garminconnect
import pytest
from django.conf import settings
from django.urls import reverse

from fitsync.models import AccountStatus, Credential
from integrations.garmin.client import token_expiry
from sandbox.garmin import point_at
from tests.integrations.garmin.fixtures import EMAIL, MFA_EMAIL, PASSWORD
from tests.integrations.garmin.test_login import account, page, raw_credential_columns

pytestmark = pytest.mark.django_db
PROFILE = ("GET", "/userprofile-service/socialProfile")


def stored_tokens() -> dict:
    blob = Credential.objects.get(account=account()).session_blob
    return json.loads(blob) if blob else {}


def test_a_pasted_token_file_connects_garmin_without_a_login(garmin_url, fake, logged_in, post, jobs):
    tokens = fake.tokens_for(EMAIL)
    fake.clear_ledger()

    response = post("garmin:import_tokens", {"tokens": tokens})

    assert response.status_code == 302 and not fake.ledger  # no upstream call inside the request
    assert [(func, args) for func, args, _ in jobs] == [("integrations.garmin.tasks.import_tokens", (account().pk,))]
    refresh_token = json.loads(tokens)["di_refresh_token"]
    assert refresh_token not in repr(jobs) and refresh_token not in raw_credential_columns()  # encrypted
    assert "Checking the token file" in page(logged_in)

    jobs.run()

    garmin = account()
    assert (garmin.status, garmin.display_name, garmin.meta["timezone"]) == (
        AccountStatus.CONNECTED,
        "ada.l",
        "Europe/Berlin",
    )
    assert stored_tokens() == json.loads(tokens)
    credential = Credential.objects.get(account=garmin)
    assert credential.pending_blob == "" and credential.expires_at == token_expiry(tokens)
    assert len(fake.calls(*PROFILE)) == 1 and not fake.calls(path="/api/login|sign-in")
    html = page(logged_in)
    assert "Connected to Garmin Connect as ada.l" in html and "Signed in with a token file on" in html


def test_it_works_while_garmin_blocks_logins(garmin_url, fake, logged_in, post, jobs):
    fake.login_rate_limited = True
    post("garmin:connect", {"email": EMAIL, "password": "correct horse"})
    jobs.run()
    assert "Garmin is refusing sign-ins from this server" in page(logged_in)

    post("garmin:import_tokens", {"tokens": fake.tokens_for(EMAIL)})
    jobs.run()

    assert account().status == AccountStatus.CONNECTED and stored_tokens()


def test_an_expired_access_token_in_the_file_is_refreshed_and_the_new_tokens_are_stored(garmin_url, fake, post, jobs):
    fake.access_token_ttl = 60  # inside garminconnect's 15-minute refresh margin
    tokens = json.loads(fake.tokens_for(EMAIL))
    fake.access_token_ttl = 86400

    post("garmin:import_tokens", {"tokens": json.dumps(tokens)})
    jobs.run()

    stored = stored_tokens()
    assert len(fake.refresh_calls()) == 1 and stored["di_token"] != tokens["di_token"]
    assert stored["di_token"] in fake.access_tokens
    assert (stored["di_refresh_token"] != tokens["di_refresh_token"]) == fake.rotate_refresh_tokens


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Paste the contents of the token file"),
        ("di_token=abc", "it is not valid JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"oauth1_token": {}, "oauth2_token": {}}', "old garth tokens"),
        ('{"di_token": "eyJ.x.y", "di_client_id": "GARMIN"}', "lacks di_refresh_token"),
        ('{"di_token": "not-a-jwt", "di_refresh_token": "r", "di_client_id": "c"}', "not a Garmin access token"),
        ("{" + " " * 30_000 + "}", "far longer than a Garmin token file"),
    ],
)
def test_a_malformed_file_gets_a_clear_400_and_nothing_is_stored(
    garmin_url, fake, logged_in, post, jobs, pasted, message
):
    response = post("garmin:import_tokens", {"tokens": pasted})

    html = response.content.decode()
    assert response.status_code == 400 and message in html
    assert not jobs and not fake.ledger
    assert not Credential.objects.exists() or not stored_tokens()
    if pasted.strip():
        assert pasted.strip() not in html  # the paste is not echoed back into the page


@pytest.mark.parametrize("spoil", ["revoked", "unknown"])
def test_tokens_garmin_refuses_are_reported_and_the_working_sign_in_is_kept(
    garmin_account, fake, logged_in, post, jobs, spoil
):
    working = Credential.objects.get(account=garmin_account).session_blob
    tokens = fake.tokens_for(EMAIL)
    if spoil == "revoked":
        fake.revoke_tokens(EMAIL)
        working = fake.tokens_for(EMAIL)  # the current sign-in, issued after the revocation
        Credential.objects.filter(account=garmin_account).update(session_blob=working)
    else:
        tokens = fake.tokens_for(EMAIL).replace('"di_refresh_token": "', '"di_refresh_token": "x')
        data = json.loads(tokens)
        fake.access_tokens.pop(data["di_token"])  # an access token Garmin never issued
    post("garmin:import_tokens", {"tokens": tokens})

    jobs.run()

    garmin = account()
    assert garmin.meta["login"]["state"] == "failed"
    assert "did not accept the tokens in this file" in page(logged_in) and "Nothing was stored" in page(logged_in)
    credential = Credential.objects.get(account=garmin)
    assert (credential.session_blob, credential.pending_blob) == (working, "")
    assert garmin.status == AccountStatus.CONNECTED


def test_the_page_offers_the_paste_and_a_file_picker_read_by_a_static_script(garmin_url, logged_in):
    html = page(logged_in)
    assert f'action="{reverse("garmin:import_tokens")}"' in html
    assert '<textarea name="tokens"' in html and 'data-token-file-for="id_tokens"' in html
    assert 'src="/static/garmin/token_file.js"' in html
    assert "<script>" not in html  # no inline script (CSP script-src 'self')


def test_the_readme_command_makes_a_file_that_connects_an_mfa_account(
    garmin_url, fake, post, jobs, monkeypatch, capsys
):
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    code = re.search(r'^\s*python -c "(.+)"$', readme, re.MULTILINE).group(1)

    class SandboxGarmin(garminconnect.Garmin):  # the real class, aimed at the sandbox instead of garmin.com
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            point_at(self, garmin_url)

    answers = iter([MFA_EMAIL, lambda: fake.current_mfa_code(MFA_EMAIL)])
    monkeypatch.setattr(garminconnect, "Garmin", SandboxGarmin)
    monkeypatch.setattr("builtins.input", lambda prompt: (lambda a: a() if callable(a) else a)(next(answers)))
    monkeypatch.setattr(getpass, "getpass", lambda prompt: PASSWORD)
    exec(code, {})  # what the user runs on a desktop
    printed = capsys.readouterr().out.strip()

    post("garmin:import_tokens", {"tokens": printed})
    jobs.run()

    assert account().status == AccountStatus.CONNECTED and account().display_name == "grace"
    assert stored_tokens() == json.loads(printed)
