"""The fakes mounted inside fitsync at /sandbox/ when FITSYNC_SANDBOX=1, and absent otherwise."""

import importlib
import json

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, clear_url_caches, reverse

from sandbox import django_view

START = "2026-06-01T18:00:00"


@pytest.fixture(autouse=True)
def fresh_sandbox(monkeypatch):
    """Each test gets its own process-wide sandbox."""
    monkeypatch.setattr(django_view, "_state", {})


@pytest.fixture
def sandbox_urls(settings):
    """fitsync's URLs as they load with FITSYNC_SANDBOX=1; restored afterwards."""
    import fitsync.urls

    settings.FITSYNC_SANDBOX = True
    clear_url_caches()
    importlib.reload(fitsync.urls)
    yield
    settings.FITSYNC_SANDBOX = False
    importlib.reload(fitsync.urls)
    clear_url_caches()


def test_it_is_absent_when_the_setting_is_off(client):
    with pytest.raises(NoReverseMatch):
        reverse("sandbox:control")
    assert client.get("/sandbox/hevy/v1/user/info", HTTP_API_KEY="demo-hevy-key").status_code in (302, 404)


def test_it_answers_a_hevy_request_without_a_login(sandbox_urls, client):
    answer = client.get("/sandbox/hevy/v1/workouts/count", HTTP_API_KEY="demo-hevy-key")
    assert answer.status_code == 200 and answer.json()["workout_count"] > 100
    refused = client.get("/sandbox/hevy/v1/workouts/count", HTTP_API_KEY="wrong")
    assert (refused.status_code, refused.content) == (401, b"InvalidApiKey")


def test_it_serves_the_control_page_with_forms_posting_under_the_mount(sandbox_urls, client):
    page = client.get(reverse("sandbox:control"))
    assert page.status_code == 200 and b'action="/sandbox/_control/emit/hevy"' in page.content
    # What a browser sends for the page's forms (they declare no enctype).
    fields, encoding = "service=hevy&kind=503x3", "application/x-www-form-urlencoded"
    answer = client.post("/sandbox/_control/fault", fields, content_type=encoding)
    assert answer.status_code == 303 and answer["Location"].startswith("/sandbox/?done=")


def test_it_passes_query_headers_and_body_through_to_the_fake():
    request = RequestFactory().post(
        "/sandbox/intervals/api/v1/athlete/i12345/activities/manual/bulk?upsert=true",
        data=json.dumps([{"type": "WeightTraining", "name": "Push", "start_date_local": START, "external_id": "h1"}]),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic QVBJX0tFWTpkZW1vLWludGVydmFscy1rZXk=",  # API_KEY:demo-intervals-key
    )
    answer = django_view.sandbox_view(request, rest="intervals/api/v1/athlete/i12345/activities/manual/bulk")
    assert answer.status_code == 200
    sandbox, _ = django_view.process_sandbox()
    assert sandbox.intervals.calls("POST")[0].query == {"upsert": "true"}
    assert list(sandbox.intervals.activities_by_external_id("i12345")) == ["h1"]


def test_it_turns_a_connection_reset_into_a_502():
    sandbox, _ = django_view.process_sandbox()
    sandbox.garmin.add_fault(reset=True)
    request = RequestFactory().get("/sandbox/garmin/userprofile-service/socialProfile")
    assert django_view.sandbox_view(request, rest="garmin/userprofile-service/socialProfile").status_code == 502


def test_it_points_the_withings_app_and_hevy_webhook_at_this_fitsync(settings):
    settings.SITE_URL = "http://127.0.0.1:8001"
    sandbox = django_view.build_for_fitsync(seed=True)
    assert sandbox.hevy_webhook.url == "http://127.0.0.1:8001/webhooks/hevy/"
    assert (
        sandbox.withings.tokens.apps["demo-withings-client"].redirect_uris[0]
        == "http://127.0.0.1:8001/withings/callback/"
    )


@pytest.mark.django_db
def test_the_demo_hevy_webhook_carries_the_secret_fitsync_expects_without_pasting_it(settings, make_account):
    from fitsync.crypto import digest
    from fitsync.models import ConnectedAccount
    from sandbox import control_actions

    settings.SITE_URL = "http://127.0.0.1:1"
    sandbox = django_view.build_for_fitsync(seed=True)
    assert sandbox.hevy_webhook.authorization == ""
    hevy = make_account("hevy", webhook_secret="demo-webhook-secret")
    ConnectedAccount.objects.filter(pk=hevy.pk).update(webhook_digest=digest("demo-webhook-secret"))
    sent = []
    sandbox.hevy.emit_webhook = lambda url, authorization, workout_id, **options: sent.append(authorization) or []
    control_actions.emit_hevy(sandbox)
    assert sent == ["demo-webhook-secret"]
    sandbox.hevy_webhook.authorization = "typed-on-the-page"  # a value typed on the sandbox page wins
    control_actions.emit_hevy(sandbox)
    assert sent[-1] == "typed-on-the-page"
