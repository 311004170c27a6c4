"""The Withings fake's switches for unconfirmed behaviours do what they say: each notification encoding and
shape reaches the webhook as a 200 and one fetch, getmeas writes its numbers as strings when asked, and a
call repeated too soon gets the 601 seen live."""

from email import message_from_bytes

import pytest
import requests
from django.utils import timezone

from fitsync.errors import RateLimited
from fitsync.models import InboundEvent
from integrations.withings import client, subscriptions
from sandbox.withings import WithingsFake
from sandbox.withings_notify import NOTIFY_FIELDS, multipart_body, notification_form

from .conftest import CLIENT_ID, NOTIFIER_SETTINGS, USER, switch_id

pytestmark = pytest.mark.django_db


@pytest.fixture(params=NOTIFIER_SETTINGS, ids=switch_id)
def withings_switches(request) -> dict:
    return request.param


def test_each_notifier_setting_reaches_the_webhook_as_one_fetch(
    account, fake, rsps, jobs_sent, withings_switches, django_capture_on_commit_callbacks
):
    subscriptions.subscribe(account)
    with django_capture_on_commit_callbacks(execute=True):
        fake.notify_user(USER, 1, startdate=1737353412, enddate=1737353413)
    assert [(d.ok, d.status) for d in fake.deliveries] == [(True, 200)]
    window = (None, None) if withings_switches["notify_fields"] == "no_dates" else (1737353412, 1737353413)
    assert jobs_sent.sent == [("fetch_new", (account.pk, "webhook", *window))]
    payload = InboundEvent.objects.get().payload
    assert f"{USER}" in payload and ("Content-Disposition" in payload) == (
        withings_switches["notify_encoding"] == "multipart"
    )
    assert ("startdate" in payload) == (withings_switches["notify_fields"] != "no_dates")
    assert ("foo" in payload) == (withings_switches["notify_fields"] == "extra")


def test_the_multipart_body_is_standard_form_data():
    body, content_type = multipart_body({"userid": USER, "appli": 1})
    message = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = {p.get_param("name", header="content-disposition"): p.get_payload() for p in message.get_payload()}
    assert parts == {"userid": str(USER), "appli": "1"}


@pytest.mark.parametrize("fields", NOTIFY_FIELDS)
def test_each_field_shape_keeps_userid_and_appli(fields):
    form = notification_form(USER, 1, 100, 200, fields)
    assert (form["userid"], form["appli"]) == (USER, 1)
    assert {"documented": {"startdate", "enddate"}, "extra": {"deviceid", "date", "foo"}, "no_dates": set()}[
        fields
    ] <= set(form) and (fields != "no_dates" or "startdate" not in form)


def test_it_refuses_an_unknown_switch_value():
    with pytest.raises(ValueError):
        WithingsFake(notify_encoding="json")


def test_getmeas_writes_every_number_as_a_string_when_switched_on(rsps, fake, settings):
    fake.numbers_as_strings = True
    fake.add_measurement(USER, timezone.now(), 80.35, fat_ratio=21.4)
    token = fake.issue_tokens(CLIENT_ID, USER)["access_token"]
    answer = requests.post(
        f"{settings.WITHINGS_API_URL}/measure",
        data={"action": "getmeas", "category": 1},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    body = answer["body"]
    assert answer["status"] == 0 and isinstance(body["updatetime"], str) and body["more"] == "0"
    [group] = body["measuregrps"]
    assert isinstance(group["grpid"], str) and isinstance(group["date"], str)
    assert {m["type"]: (m["value"], m["unit"]) for m in group["measures"]} == {
        "1": ("80350", "-3"),
        "6": ("21400", "-3"),
    }


def test_the_same_call_within_the_window_gets_601_with_a_wait(rsps, fake):
    fake.same_arguments_seconds = 10
    token = fake.issue_tokens(CLIENT_ID, USER)["access_token"]
    client.get_measures(token, [1], lastupdate=5)
    client.get_measures(token, [1], lastupdate=6)  # other arguments: fine
    with pytest.raises(RateLimited) as caught:
        client.get_measures(token, [1], lastupdate=5)
    assert caught.value.retry_after == 60 and "Same arguments" in str(caught.value)
