"""A periodic job over all accounts: one account that raises anything is recorded, the others still run."""

import pytest

from fitsync.models import ConnectedAccount
from integrations.withings import tasks as withings_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_accounts(django_user_model, make_account):
    other = django_user_model.objects.create_user("other", password="x" * 16)
    return make_account("withings"), make_account("withings", owner=other)


def test_the_subscription_check_goes_on_after_an_account_that_crashes(two_accounts, monkeypatch):
    broken, fine = two_accounts
    checked = []

    def check(account):
        if account.pk == broken.pk:
            raise RuntimeError("a bug")
        checked.append(account.pk)
        return {"state": "active"}

    monkeypatch.setattr(withings_tasks.subscriptions, "check", check)
    summary = withings_tasks.check_subscriptions()
    assert checked == [fine.pk] and "1 active" in summary
    broken = ConnectedAccount.objects.get(pk=broken.pk)
    assert "A periodic job failed (RuntimeError)" in broken.last_error
