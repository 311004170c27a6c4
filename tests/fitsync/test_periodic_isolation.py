"""A periodic job over all accounts: one account that raises anything is recorded, the others still run."""

import pytest

from fitsync.models import ConnectedAccount
from integrations.intervals import tasks as intervals_tasks
from integrations.withings import tasks as withings_tasks
from integrations.withings.account_meta import Subscription

pytestmark = pytest.mark.django_db


def two_accounts_of(provider, django_user_model, make_account):
    other = django_user_model.objects.create_user("other", password="x" * 16)
    return make_account(provider), make_account(provider, owner=other)


@pytest.fixture
def two_accounts(django_user_model, make_account):
    return two_accounts_of("withings", django_user_model, make_account)


def crashes_for(broken, done: list, answer):
    def work(account, **_options):
        if account.pk == broken.pk:
            raise RuntimeError("a bug")
        done.append(account.pk)
        return answer

    return work


def test_the_subscription_check_goes_on_after_an_account_that_crashes(two_accounts, monkeypatch):
    broken, fine = two_accounts
    checked = []
    monkeypatch.setattr(withings_tasks.subscriptions, "check", crashes_for(broken, checked, Subscription("active")))
    summary = withings_tasks.check_subscriptions()
    assert checked == [fine.pk] and "1 active" in summary
    broken = ConnectedAccount.objects.get(pk=broken.pk)
    assert "A periodic job failed (RuntimeError)" in broken.last_error


def test_the_timezone_refresh_goes_on_after_an_account_that_crashes(django_user_model, make_account, monkeypatch):
    broken, fine = two_accounts_of("intervals", django_user_model, make_account)
    refreshed = []
    monkeypatch.setattr(intervals_tasks, "refresh_timezone", crashes_for(broken, refreshed, "Europe/Berlin"))
    summary = intervals_tasks.refresh_timezones()
    assert refreshed == [fine.pk] and f"account {fine.pk}: Europe/Berlin" in summary
    assert "RuntimeError" in ConnectedAccount.objects.get(pk=broken.pk).last_error


def test_the_events_poll_goes_on_after_an_account_that_crashes(django_user_model, make_account, monkeypatch):
    from integrations.hevy import tasks as hevy_tasks

    broken, fine = two_accounts_of("hevy", django_user_model, make_account)
    polled = []
    monkeypatch.setattr(hevy_tasks, "poll_account", crashes_for(broken, polled, "0 events"))
    summary = hevy_tasks.poll_events()
    assert polled == [fine.pk] and f"Hevy account {fine.pk}: 0 events" in summary
    assert "RuntimeError" in ConnectedAccount.objects.get(pk=broken.pk).last_error
