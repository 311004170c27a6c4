"""Single-flight refresh: many callers, one upstream refresh, everyone gets the new token."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fitsync.errors import AuthExpired
from fitsync.models import Credential
from fitsync.tokens import fresh_credential


def expired(credential: Credential) -> bool:
    return credential.expires_at is None or credential.expires_at <= timezone.now()


class CountingRefresher:
    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, credential):
        with self.lock:
            self.calls += 1
        time.sleep(0.3)  # the upstream is slow: everyone else piles up behind the lease
        return {"access_token": f"new-{self.calls}", "expires_at": timezone.now() + timedelta(hours=3)}


@pytest.mark.django_db(transaction=True)
def test_eight_threads_make_one_refresh_call(make_account):
    account = make_account("withings", access_token="old", expires_at=timezone.now() - timedelta(minutes=1))
    refresher = CountingRefresher()
    results, errors = [], []

    def worker():
        try:
            results.append(fresh_credential(account, expired, refresher).access_token)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert refresher.calls == 1
    assert results == ["new-1"] * 8
    assert Credential.objects.get(account=account).version == 1


@pytest.mark.django_db
def test_a_failed_refresh_releases_the_lease(make_account):
    account = make_account("withings", access_token="old")

    def rejected(credential):
        raise AuthExpired("invalid_grant", provider="withings")

    with pytest.raises(AuthExpired):
        fresh_credential(account, expired, rejected)
    credential = Credential.objects.get(account=account)
    assert (credential.lease_owner, credential.version, credential.access_token) == ("", 0, "old")


@pytest.mark.django_db
def test_a_fresh_token_is_not_refreshed(make_account):
    account = make_account("withings", access_token="ok", expires_at=timezone.now() + timedelta(hours=1))
    refresher = CountingRefresher()
    assert fresh_credential(account, expired, refresher).access_token == "ok"
    assert refresher.calls == 0
