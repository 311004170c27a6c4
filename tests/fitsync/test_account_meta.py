"""One way to write an account's meta: merged into the stored row, never into a stale copy; read and written
through the dataclass its service declares."""

import dataclasses
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.db import connection

from fitsync import account_meta
from fitsync.models import ConnectedAccount, Provider
from integrations.hevy.account_meta import HevyMeta


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


# --- typed reads and checked writes (fitsync/account_meta.py) ------------------------------------------
@dataclass(frozen=True)
class Streak:
    count: int = 0
    since: datetime | None = None


@dataclass(frozen=True)
class ExampleMeta:
    timezone: str = "UTC"
    ratio: float = 1.0
    enabled: bool = False
    streak: Streak | None = None


def stored(account) -> dict:
    return ConnectedAccount.objects.get(pk=account.pk).meta


@pytest.mark.django_db
def test_it_reads_declared_keys_and_ignores_unknown_ones(make_account):
    account = make_account("hevy")
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    account.merge_meta(timezone="Europe/Berlin", ratio=2, streak={"count": 3, "since": when.isoformat()}, other=1)
    meta = account_meta.read(account, ExampleMeta)
    assert meta == ExampleMeta(timezone="Europe/Berlin", ratio=2.0, enabled=False, streak=Streak(3, when))


@pytest.mark.django_db
def test_a_stored_value_of_the_wrong_type_reads_as_the_default(make_account, caplog):
    account = make_account("hevy")
    account.merge_meta(timezone=5, ratio="fast", enabled=1, streak={"count": True, "since": "yesterday"})
    meta = account_meta.read(account, ExampleMeta)
    assert meta == ExampleMeta(streak=Streak())
    assert "ExampleMeta.timezone ignored" in caplog.text and "Streak.since ignored" in caplog.text
    account.merge_meta(streak=[1, 2])
    assert account_meta.read(account, ExampleMeta).streak is None


def test_no_account_reads_as_the_defaults():
    assert account_meta.read(None, ExampleMeta) == ExampleMeta()


@pytest.mark.django_db
def test_it_writes_plain_json_through_merge_meta(make_account):
    account = make_account("hevy")
    account.merge_meta(kept="by another writer")
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    meta = account_meta.write(account, ExampleMeta, ratio=3, streak=Streak(2, when))
    assert meta.streak == Streak(2, when) and meta.ratio == 3.0
    assert stored(account) == {
        "kept": "by another writer",
        "ratio": 3,
        "streak": {"count": 2, "since": when.isoformat()},
    }
    account_meta.write(account, ExampleMeta, streak=None)
    assert stored(account)["streak"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, refused",
    [
        ({"timezon": "Europe/Berlin"}, "ExampleMeta has no field timezon"),
        ({"timezone": None}, "ExampleMeta.timezone: None is not allowed"),
        ({"enabled": "yes"}, "ExampleMeta.enabled: expected bool, found str"),
        ({"ratio": True}, "ExampleMeta.ratio: expected float, found bool"),
        ({"streak": {"count": "3"}}, "ExampleMeta.streak: count: expected int, found str"),
    ],
)
def test_it_refuses_an_unknown_field_or_a_wrong_type_and_writes_nothing(make_account, changes, refused):
    account = make_account("hevy")
    with pytest.raises(TypeError, match=refused):
        account_meta.write(account, ExampleMeta, **{"timezone": "Europe/Berlin", **changes})  # nor the valid one beside
    assert stored(account) == {}


@pytest.mark.django_db
def test_each_service_declares_its_meta_on_its_app(make_account):
    account = make_account("hevy")
    account_meta.write(account, HevyMeta, webhook_url="https://fitsync.example/webhooks/hevy/")
    assert account_meta.read_service(account) == HevyMeta(webhook_url="https://fitsync.example/webhooks/hevy/")
    for provider in Provider.values:
        assert dataclasses.is_dataclass(account_meta.meta_class_of(provider)), provider
