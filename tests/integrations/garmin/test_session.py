"""The token lifecycle: jobs use stored tokens only, refresh single-flight, write tokens back, needs_reauth."""

import json
import threading
from datetime import date

import pytest
from django.db import connections

from fitsync.errors import AuthExpired, TransientError
from fitsync.models import AccountStatus, ConnectedAccount, Credential
from integrations.garmin import client
from integrations.garmin.session import garmin_session
from tests.integrations.garmin.fixtures import EMAIL

DAY = date(2026, 1, 15)


def stored_tokens(account) -> dict:
    return json.loads(Credential.objects.get(account=account).session_blob)


def expiring_tokens(fake) -> str:
    """Tokens whose access token is inside garminconnect's 15-minute refresh margin."""
    fake.access_token_ttl = 600
    tokens = fake.tokens_for(EMAIL)
    fake.access_token_ttl = 86400
    return tokens


@pytest.mark.django_db
def test_it_uses_the_stored_tokens_and_never_logs_in(fake, garmin_account):
    with garmin_session(garmin_account) as garmin:
        assert client.weigh_ins_between(garmin, DAY, DAY) == []
    assert not fake.calls(path="/api/login|sign-in")
    assert fake.calls("GET", "/weight-service/weight/range/")[0].headers["authorization"].startswith("Bearer ")


@pytest.mark.django_db
def test_it_writes_the_refreshed_tokens_back_even_when_the_job_fails(fake, garmin_account):
    Credential.objects.filter(account=garmin_account).update(session_blob=expiring_tokens(fake))
    before = stored_tokens(garmin_account)
    fake.add_fault(path="/weight-service/", status=503)

    with pytest.raises(TransientError), garmin_session(garmin_account) as garmin:
        client.weigh_ins_between(garmin, DAY, DAY)

    after = stored_tokens(garmin_account)
    assert len(fake.refresh_calls()) == 1
    assert after["di_token"] != before["di_token"] and after["di_token"] in fake.access_tokens
    rotated = after["di_refresh_token"] != before["di_refresh_token"]
    assert rotated == fake.rotate_refresh_tokens == fake.refresh_tokens[before["di_refresh_token"]].revoked
    credential = Credential.objects.get(account=garmin_account)
    assert credential.version == 1 and credential.expires_at == client.token_expiry(credential.session_blob)


@pytest.mark.django_db
def test_a_401_refreshes_through_the_lease_and_is_stored(fake, garmin_account):
    fake.expire_access_tokens(EMAIL)
    with garmin_session(garmin_account) as garmin:
        client.weigh_ins_between(garmin, DAY, DAY)
    assert len(fake.refresh_calls()) == 1
    assert [e.status for e in fake.calls("GET", "/weight-service/")] == [401, 200]
    assert stored_tokens(garmin_account)["di_token"] in fake.access_tokens


@pytest.mark.django_db
def test_the_next_job_uses_the_rotated_tokens(fake, garmin_account):
    Credential.objects.filter(account=garmin_account).update(session_blob=expiring_tokens(fake))
    for _ in range(2):
        with garmin_session(garmin_account) as garmin:
            client.weigh_ins_between(garmin, DAY, DAY)
    assert len(fake.refresh_calls()) == 1  # the second job loaded the new tokens instead of refreshing again


@pytest.mark.django_db
def test_rejected_tokens_make_the_account_need_reauth(fake, garmin_account):
    fake.revoke_tokens(EMAIL)
    with pytest.raises(AuthExpired, match="Reconnect Garmin"), garmin_session(garmin_account) as garmin:
        client.weigh_ins_between(garmin, DAY, DAY)
    garmin_account.refresh_from_db()
    assert garmin_account.status == AccountStatus.NEEDS_REAUTH
    assert "Reconnect Garmin" in garmin_account.status_message
    assert not fake.calls(path="/api/login")  # never a background login


@pytest.mark.django_db
def test_it_refuses_to_start_without_stored_tokens(fake, garmin_account):
    Credential.objects.filter(account=garmin_account).update(session_blob="")
    with pytest.raises(AuthExpired, match="Reconnect Garmin"), garmin_session(garmin_account):
        pass
    assert not fake.ledger


@pytest.mark.django_db(transaction=True)
def test_eight_workers_needing_a_refresh_make_exactly_one_refresh_call(fake, garmin_account):
    Credential.objects.filter(account=garmin_account).update(session_blob=expiring_tokens(fake))
    results, start = [], threading.Barrier(8)

    def job():
        try:
            start.wait()
            account = ConnectedAccount.objects.get(pk=garmin_account.pk)
            with garmin_session(account) as garmin:
                results.append(client.weigh_ins_between(garmin, DAY, DAY))
        except Exception as exc:  # reported through `results`
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [[]] * 8
    assert len(fake.refresh_calls()) == 1
    assert stored_tokens(garmin_account)["di_token"] in fake.access_tokens
