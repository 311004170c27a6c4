"""Notification subscriptions: subscribe from the page and the command, list, revoke, the daily repair."""

from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse

from fitsync.models import ConnectedAccount
from integrations.withings import auth, subscriptions, tasks

from .conftest import USER

pytestmark = pytest.mark.django_db


def hook_url(account) -> str:
    return "http://testserver" + reverse("withings:webhook", args=[auth.ensure_webhook_token(account)])


def withings_side(fake) -> list[str]:
    return [s.callbackurl for s in fake.subscriptions.of_user(USER, 1)]


def page(client) -> str:
    return client.get(reverse("withings:connect")).content.decode()


def test_it_subscribes_from_the_page(logged_in, account, fake, rsps, jobs_sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = logged_in.post(reverse("withings:subscribe"))
    assert answer.status_code == 302 and jobs_sent.names() == ["subscribe"]
    assert fake.calls("POST", "^/notify$") == []  # no upstream call inside the web request
    jobs_sent.run()
    assert withings_side(fake) == [hook_url(account)]
    assert ("HEAD", hook_url(account)) in fake.http.calls  # Withings probed our URL and got a 200
    account.refresh_from_db()
    assert account.meta["subscription"]["state"] == "active"
    html = page(logged_in)
    assert "active" in html and "http://testserver/webhooks/withings/…/" in html
    assert auth.ensure_webhook_token(account) not in html


def test_it_uses_an_unguessable_token_per_account(account, django_user_model, fake):
    from .conftest import connect_account

    other_user = django_user_model.objects.create_user("bob")
    other = connect_account(fake, other_user, userid=fake.add_user())
    first, second = auth.ensure_webhook_token(account), auth.ensure_webhook_token(other)
    assert first != second and len(first) >= 40 and auth.ensure_webhook_token(account) == first
    assert ConnectedAccount.objects.get(pk=account.pk).webhook_digest not in (first, "")


def test_it_warns_when_site_url_is_not_https_on_443(logged_in, account, settings):
    settings.SITE_URL = "http://fitsync.example:8000"
    assert "HTTPS address on port 443" in page(logged_in)
    settings.SITE_URL = "https://fitsync.example:8443"
    assert "HTTPS address on port 443" in page(logged_in)
    settings.SITE_URL = "https://fitsync.example"
    assert "HTTPS address on port 443" not in page(logged_in)


def test_it_shows_an_error_when_withings_refuses_the_callback(logged_in, account, fake, rsps):
    fake.http = SimpleNamespace(head=lambda url, **kw: SimpleNamespace(status_code=405))
    state = tasks.subscribe(account.pk)
    account.refresh_from_db()
    assert state.endswith("error") and account.meta["subscription"]["state"] == "error"
    assert "Withings refused the subscription" in account.meta["subscription"]["message"]
    assert "did not answer HEAD" in page(logged_in)


def test_it_resubscribes_in_the_daily_check_when_withings_dropped_it(account, fake, rsps):
    subscriptions.subscribe(account)
    fake.subscriptions.remove(USER, 1, hook_url(account))  # e.g. after repeated failed deliveries
    fake.clear_ledger()
    assert tasks.check_subscriptions() == "checked 1 Withings subscriptions: 1 active"
    assert withings_side(fake) == [hook_url(account)]
    assert [c.form()["action"] for c in fake.calls("POST", "^/notify$")] == ["list", "subscribe"]


def test_a_dropped_subscription_that_cannot_be_renewed_is_marked_as_once_active(account, fake, rsps):
    """An error after a working subscription is what the alerts report; one that never worked is not."""
    reachable, refusing = fake.http, SimpleNamespace(head=lambda url, **kw: SimpleNamespace(status_code=405))
    fake.http = refusing
    subscriptions.subscribe(account)
    assert account.meta["subscription"]["state"] == "error" and not account.meta["subscription"]["was_active"]
    fake.http = reachable
    subscriptions.subscribe(account)
    fake.subscriptions.remove(USER, 1, hook_url(account))
    fake.http = refusing
    tasks.check_subscriptions()
    account.refresh_from_db()
    assert account.meta["subscription"]["state"] == "error" and account.meta["subscription"]["was_active"]


def test_it_leaves_a_live_subscription_alone_in_the_daily_check(account, fake, rsps):
    subscriptions.subscribe(account)
    fake.clear_ledger()
    tasks.check_subscriptions()
    assert [c.form()["action"] for c in fake.calls("POST", "^/notify$")] == ["list"]
    account.refresh_from_db()
    assert account.meta["subscription"]["state"] == "active"


def test_it_repairs_a_subscription_dropped_after_failed_deliveries(account, fake, rsps):
    subscriptions.subscribe(account)
    fake.http = SimpleNamespace(post=lambda url, **kw: SimpleNamespace(status_code=503))  # our server was down
    for _ in range(fake.drop_after):
        fake.step_on_scale(USER, retries=0)
    assert withings_side(fake) == []
    fake.http = SimpleNamespace(head=lambda url, **kw: SimpleNamespace(status_code=200))
    tasks.check_subscriptions()
    assert withings_side(fake) == [hook_url(account)]


def test_it_manages_subscriptions_from_the_command_line(account, fake, rsps):
    out = StringIO()
    call_command("withings_subscriptions", "subscribe", stdout=out)
    assert "active" in out.getvalue() and withings_side(fake) == [hook_url(account)]
    fake.subscriptions.add(USER, 1, "https://elsewhere.example/hook", "")
    out = StringIO()
    call_command("withings_subscriptions", "list", stdout=out)
    assert "appli 1 fitsync: http://testserver/webhooks/withings/…/" in out.getvalue()
    assert "appli 1 other: https://elsewhere.example/hook" in out.getvalue()
    assert auth.ensure_webhook_token(account) not in out.getvalue()
    out = StringIO()
    call_command("withings_subscriptions", "revoke", "--user", "ada", stdout=out)
    assert "missing" in out.getvalue() and withings_side(fake) == ["https://elsewhere.example/hook"]
    account.refresh_from_db()
    assert account.meta["subscription"]["state"] == "missing"


def test_it_refuses_the_command_without_a_connected_account(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No connected Withings account"):
        call_command("withings_subscriptions", "list")
