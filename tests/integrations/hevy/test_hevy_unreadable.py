"""Jobs meeting a secret no key opens treat it like expired auth: the account that owns it needs
reconnecting, its items wait, nothing reaches an upstream; a reconnect replaces it and sync resumes."""

import pytest

from fitsync import sync
from fitsync.models import AccountStatus, ConnectedAccount, ItemStatus, SyncItem
from integrations.hevy import tasks
from tests.fitsync.test_unreadable_secrets import seal_under_another_key

from .conftest import HEVY_KEY, INTERVALS_KEY

pytestmark = pytest.mark.django_db


def status(account) -> str:
    return ConnectedAccount.objects.get(pk=account.pk).status


def test_the_events_poll_marks_the_account_instead_of_crashing(upstreams, hevy, hevy_account):
    seal_under_another_key(hevy_account, api_key=HEVY_KEY)
    summary = tasks.poll_events()
    assert "Reconnect Hevy" in summary and status(hevy_account) == AccountStatus.NEEDS_REAUTH
    assert hevy.ledger == []


def test_an_item_marks_the_account_whose_secret_failed_and_waits(upstreams, intervals, accounts, history, sent_jobs):
    hevy_account, intervals_account = accounts
    source_id = history[0]["id"]
    seal_under_another_key(intervals_account, api_key=INTERVALS_KEY)
    with sync.transaction.atomic():
        item_id, _ = SyncItem.objects.upsert(hevy_account.pk, "hevy_intervals", source_id)
    sync.run_item(item_id)
    item = SyncItem.objects.get(pk=item_id)
    assert item.status == ItemStatus.PENDING and item.attempts == 0  # waits for the reconnect, no attempt spent
    assert status(intervals_account) == AccountStatus.NEEDS_REAUTH
    assert status(hevy_account) == AccountStatus.CONNECTED
    assert intervals.ledger == []


def test_reconnecting_replaces_the_unreadable_key(logged_in, upstreams, hevy, hevy_account):
    seal_under_another_key(hevy_account, api_key=HEVY_KEY, webhook_secret="old-hook")
    assert "Reconnect Hevy" in logged_in.get("/hevy/").content.decode()
    page = logged_in.post("/hevy/", {"api_key": HEVY_KEY}, follow=True).content.decode()
    assert status(hevy_account) == AccountStatus.CONNECTED and "Enter a new key below." not in page
    credential = ConnectedAccount.objects.get(pk=hevy_account.pk).credential
    assert credential.api_key == HEVY_KEY and credential.webhook_secret not in ("", "old-hook")
