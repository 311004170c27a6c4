"""Connecting Withings through the browser, against the sandbox's authorize page."""

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
import time_machine
from django.urls import reverse

from fitsync.models import ConnectedAccount, Credential
from tests.conftest import load_fixture

from .conftest import CLIENT_ID, USER, connect_account

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """The consent form's action and inputs, as a browser submits them."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action", "")
        elif tag == "input":
            self.fields[attrs["name"]] = attrs.get("value", "")


def start(client) -> str:
    answer = client.post(reverse("withings:start"))
    assert answer.status_code == 302
    return answer["Location"]


def consent(authorize_url: str, decision: str = "allow") -> str:
    """Click a button on the sandbox's Withings consent page; returns where it redirects to."""
    page = requests.get(authorize_url)
    form = FormReader()
    form.feed(page.text)
    answer = requests.post(
        urljoin(page.url, form.action), data={**form.fields, "decision": decision}, allow_redirects=False
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def follow(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def page_text(client) -> str:
    return client.get(reverse("withings:connect")).content.decode()


def test_it_explains_what_to_set_when_withings_is_not_configured(logged_in, settings):
    settings.WITHINGS_CLIENT_ID = ""
    html = page_text(logged_in)
    assert "WITHINGS_CLIENT_ID" in html and "WITHINGS_CLIENT_SECRET" in html
    assert "http://testserver/withings/callback/" in html and "Connect Withings" not in html


def test_it_shows_the_callback_url_to_register(logged_in, settings):
    settings.SITE_URL = "https://fitsync.example"
    html = page_text(logged_in)
    assert "https://fitsync.example/withings/callback/" in html
    assert '<button type="submit">Connect Withings</button>' in html


def test_it_answers_the_withings_head_probe_on_the_callback_without_login(client):
    assert client.head(reverse("withings:callback")).status_code == 200


def test_it_sends_a_logged_out_visitor_of_the_callback_to_the_login_page(client, fake, rsps):
    answer = client.get(reverse("withings:callback"), {"code": "abc", "state": "xyz"})
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))
    assert fake.calls("POST", "^/v2/oauth2$") == [] and not ConnectedAccount.objects.exists()


def test_it_redirects_to_the_authorize_page_with_scope_and_state(logged_in):
    location = urlsplit(start(logged_in))
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    authorize_page = f"{location.scheme}://{location.netloc}{location.path}"
    assert authorize_page == "https://account.withings.com/oauth2_user/authorize2"
    assert query["scope"] == "user.metrics,user.info" and query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == "http://testserver/withings/callback/"
    assert len(query["state"]) >= 30 and query["state"] != parse_qs(urlsplit(start(logged_in)).query)["state"][0]


def test_it_connects_through_the_consent_page(
    logged_in, fake, rsps, jobs_sent, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = follow(logged_in, consent(start(logged_in)))
    assert answer.status_code == 302 and answer["Location"] == reverse("dashboard:overview")
    account = ConnectedAccount.objects.get(owner=user, provider="withings")
    credential = Credential.objects.get(account=account)
    assert (account.external_user_id, account.status) == (str(USER), "connected")
    assert fake.tokens.authenticate(credential.access_token).userid == USER
    assert credential.refresh_token in fake.tokens.refresh_tokens and credential.scope == "user.metrics,user.info"
    # Subscribing and the first fetch are jobs: no second upstream call inside the web request.
    assert jobs_sent.names() == ["subscribe", "fetch_new"] and fake.calls("POST", "^/(notify|measure)$") == []
    assert len(fake.calls("POST", "^/v2/oauth2$")) == 1
    assert "Withings connected" in logged_in.get(answer["Location"]).content.decode()


def test_it_stores_the_tokens_encrypted(account):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token, webhook_secret FROM fitsync_credential")
        stored = cursor.fetchone()
    credential = Credential.objects.get(account=account)
    assert all(value.startswith("fernet:") for value in stored)
    assert credential.access_token not in stored and credential.refresh_token not in stored


def test_it_reports_a_denied_consent_and_saves_nothing(logged_in, fake, rsps):
    answer = follow(logged_in, consent(start(logged_in), decision="deny"))
    assert answer["Location"] == reverse("withings:connect")
    assert "You did not allow fitsync" in page_text_after(logged_in, answer)
    assert not ConnectedAccount.objects.exists() and fake.calls("POST", "^/v2/oauth2$") == []


def page_text_after(client, answer) -> str:
    return client.get(answer["Location"]).content.decode()


def test_it_rejects_a_state_from_another_session(logged_in, client, fake, rsps, user):
    callback = consent(start(logged_in))
    logged_in.logout()
    logged_in.force_login(user)  # a new session: the state it started with is gone
    answer = follow(logged_in, callback)
    assert "does not match the one started here" in page_text_after(logged_in, answer)
    assert not ConnectedAccount.objects.exists() and fake.calls("POST", "^/v2/oauth2$") == []


def test_it_rejects_a_tampered_or_missing_state(logged_in, fake, rsps):
    callback = consent(start(logged_in))
    assert "does not match" in page_text_after(logged_in, follow(logged_in, callback.replace("state=", "state=x")))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    start(logged_in)
    assert "does not match" in page_text_after(logged_in, logged_in.get(reverse("withings:callback"), {"code": code}))
    assert not ConnectedAccount.objects.exists()


def test_it_accepts_a_state_once(logged_in, fake, rsps, jobs_sent):
    callback = consent(start(logged_in))
    follow(logged_in, callback)
    again = follow(logged_in, callback)
    assert "does not match the one started here" in page_text_after(logged_in, again)
    assert len(fake.calls("POST", "^/v2/oauth2$")) == 1


def test_it_explains_an_expired_code(logged_in, fake, rsps):
    with time_machine.travel("2025-01-20 06:00:00+00:00", tick=False) as traveller:
        callback = consent(start(logged_in))
        traveller.shift(timedelta(seconds=31))
        text = page_text_after(logged_in, follow(logged_in, callback))
    assert "did not accept the authorization code" in text and "valid for 30 seconds" in text
    assert "Nothing was connected" in text and not ConnectedAccount.objects.exists()


def test_it_explains_a_reused_code(logged_in, fake, rsps):
    location = start(logged_in)
    state = parse_qs(urlsplit(location).query)["state"][0]
    code = fake.authorize(CLIENT_ID, USER, redirect_uri="http://testserver/withings/callback/")
    fake.tokens.exchange_code(CLIENT_ID, "withings-secret", code, "http://testserver/withings/callback/")
    answer = logged_in.get(reverse("withings:callback"), {"code": code, "state": state})
    assert "already used" in page_text_after(logged_in, answer) and not ConnectedAccount.objects.exists()


@pytest.mark.parametrize("fault", [{"body_status": 601}, {"status": 502}, {"reset": True}, {"body": b"<html>"}])
def test_it_explains_an_upstream_error_and_saves_nothing(logged_in, fake, rsps, fault):
    callback = consent(start(logged_in))
    fake.add_fault(path="^/v2/oauth2$", **fault)
    text = page_text_after(logged_in, follow(logged_in, callback))
    assert "Withings could not complete the sign-in" in text and "Nothing was connected" in text
    assert not ConnectedAccount.objects.exists() and not Credential.objects.exists()


def test_it_saves_nothing_when_withings_answers_without_tokens(logged_in, fake, rsps):
    callback = consent(start(logged_in))
    fake.add_fault(path="^/v2/oauth2$", status=200, body=b'{"status": 0, "body": {"userid": 1}}')
    text = page_text_after(logged_in, follow(logged_in, callback))
    assert "Nothing was connected" in text and not ConnectedAccount.objects.exists()


def test_it_updates_the_account_when_the_same_withings_user_reconnects(logged_in, fake, rsps, user, jobs_sent):
    account = connect_account(fake, user)
    account.mark_needs_reauth("Reconnect Withings")
    ConnectedAccount.objects.filter(pk=account.pk).update(cursor="1737000000", meta={"timezone": "Europe/Berlin"})
    token_before = Credential.objects.get(account=account).webhook_secret
    answer = follow(logged_in, consent(start(logged_in)))
    assert "Withings reconnected" in page_text_after(logged_in, answer)
    account = ConnectedAccount.objects.get(owner=user, provider="withings")
    assert ConnectedAccount.objects.count() == 1 and account.status == "connected" and account.status_message == ""
    assert account.cursor == "1737000000" and account.meta == {"timezone": "Europe/Berlin"}
    assert Credential.objects.get(account=account).webhook_secret == token_before  # the subscription stays valid


def test_it_starts_afresh_when_another_withings_user_connects(logged_in, fake, rsps, user, jobs_sent):
    account = connect_account(fake, user)
    ConnectedAccount.objects.filter(pk=account.pk).update(cursor="1737000000", meta={"height_m": "1.80"})
    other = fake.add_user(email="bob@example.com")
    location = start(logged_in)
    state = parse_qs(urlsplit(location).query)["state"][0]
    code = fake.authorize(CLIENT_ID, other, redirect_uri="http://testserver/withings/callback/")
    logged_in.get(reverse("withings:callback"), {"code": code, "state": state})
    account.refresh_from_db()
    assert (account.external_user_id, account.cursor, account.meta) == (str(other), "", {})


def test_it_parses_the_documented_token_answer():
    from integrations.withings.client import _token_set

    tokens = _token_set(load_fixture("withings/requesttoken__success.json")["body"])
    assert (tokens.userid, tokens.expires_in, tokens.scope) == ("31400001", 10800, "user.info,user.metrics")
