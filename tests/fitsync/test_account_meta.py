"""One way to write an account's meta: merged into the stored row, never into a stale copy."""

import threading

import pytest
from django.db import connection

from fitsync.models import ConnectedAccount


@pytest.mark.django_db
def test_two_stale_copies_each_keep_the_others_keys(make_account):
    first = make_account("garmin")
    second = ConnectedAccount.objects.get(pk=first.pk)  # loaded before the first write
    first.merge_meta(timezone="Europe/Berlin")
    second.merge_meta(login={"state": "ok"})
    assert ConnectedAccount.objects.get(pk=first.pk).meta == {"timezone": "Europe/Berlin", "login": {"state": "ok"}}
    assert second.meta == {"timezone": "Europe/Berlin", "login": {"state": "ok"}}


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_different_keys_lose_nothing(make_account):
    account = make_account("withings")

    def write(n: int) -> None:
        try:
            ConnectedAccount.objects.get(pk=account.pk).merge_meta(**{f"key{n}": n})
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ConnectedAccount.objects.get(pk=account.pk).meta == {f"key{n}": n for n in range(8)}
