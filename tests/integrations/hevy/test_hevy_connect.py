"""The Hevy page: API key checked before saving, webhook values to paste, secret rotation."""

import pytest

from fitsync import crypto
from fitsync.models import ConnectedAccount, Credential

from .conftest import HEVY_KEY

pytestmark = pytest.mark.django_db


def connect(client, key=HEVY_KEY):
    return client.post("/hevy/", {"api_key": key}, follow=True)


def test_it_connects_with_a_checked_key_and_shows_what_to_paste(logged_in, upstreams, hevy, settings):
    page = connect(logged_in).content.decode()
    account = ConnectedAccount.objects.get(provider="hevy")
    credential = account.credential
    assert (account.display_name, credential.api_key) == ("anna_lifts", HEVY_KEY)
    assert account.webhook_digest == crypto.digest(credential.webhook_secret)
    assert account.meta == {"webhook_url": "http://testserver/webhooks/hevy/"}
    assert account.cursor  # the events feed starts now; older workouts are the backfill's
    assert "readonly>http://testserver/webhooks/hevy/</textarea>" in page
    assert f"readonly>{credential.webhook_secret}</textarea>" in page
    assert page.count('data-copy="webhook-') == 2 and "Send test" in page
    assert [c.path for c in hevy.calls()] == ["/v1/user/info"]
    assert hevy.calls()[0].headers["api-key"] == HEVY_KEY


def test_a_wrong_key_is_refused_and_nothing_saved(logged_in, upstreams):
    page = connect(logged_in, "not-a-key").content.decode()
    assert "Hevy rejected this API key" in page
    assert not ConnectedAccount.objects.exists() and not Credential.objects.exists()


def test_an_outage_says_try_again_and_saves_nothing(logged_in, upstreams, hevy):
    hevy.add_fault(path="/v1/user/info", status=503)
    page = connect(logged_in).content.decode()
    assert "Hevy could not be reached" in page and "try again" in page
    assert not ConnectedAccount.objects.exists()


def test_rotating_the_secret_asks_first_and_changes_nothing_until_confirmed(logged_in, upstreams):
    connect(logged_in)
    old = Credential.objects.get().webhook_secret
    page = logged_in.post("/hevy/webhook-secret/").content.decode()
    assert Credential.objects.get().webhook_secret == old
    assert "stops working at once" in page and 'name="confirm" value="yes"' in page and 'href="/hevy/"' in page


def test_rotating_the_secret_retires_the_old_one(logged_in, upstreams, client):
    connect(logged_in)
    old = Credential.objects.get().webhook_secret
    page = logged_in.post("/hevy/webhook-secret/", {"confirm": "yes"}, follow=True).content.decode()
    new = Credential.objects.get().webhook_secret
    assert new != old and f"readonly>{new}</textarea>" in page and "old one no longer works" in page
    delivery = {"id": "e1", "payload": {"workoutId": "w1"}}
    assert (
        client.post("/webhooks/hevy/", delivery, content_type="application/json", HTTP_AUTHORIZATION=old).status_code
        == 401
    )
    assert (
        client.post("/webhooks/hevy/", delivery, content_type="application/json", HTTP_AUTHORIZATION=new).status_code
        == 200
    )


def test_a_new_key_keeps_the_webhook_secret_and_reconnects(logged_in, upstreams, hevy):
    connect(logged_in)
    secret = Credential.objects.get().webhook_secret
    ConnectedAccount.objects.update(status="needs_reauth", status_message="Hevy rejected fitsync's credentials")
    assert "Enter a new key below" in logged_in.get("/hevy/").content.decode()
    hevy.add_user("new-key-0002", name="anna_lifts")
    connect(logged_in, "new-key-0002")
    account = ConnectedAccount.objects.get()
    assert (account.status, account.credential.api_key, account.credential.webhook_secret) == (
        "connected",
        "new-key-0002",
        secret,
    )


def test_the_page_has_a_labelled_form_and_needs_login(client, logged_in):
    page = logged_in.get("/hevy/").content.decode()
    assert '<label for="id_api_key">Hevy API key</label>' in page and 'type="password"' in page
    assert '<button type="submit">Connect Hevy</button>' in page
    client.logout()
    assert client.get("/hevy/").status_code == 302
