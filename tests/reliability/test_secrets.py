"""R10: planted secrets never leave the encrypted fields.

GIVEN all four services connected through the pages (Garmin by password through a real login job),
a Hevy webhook with the secret in its Authorization header and a Withings notification on its token
URL, each synced through the engine and django-q (run in-process, so task rows are written), THEN no
secret appears in a raw dump of every table, in the logs captured at DEBUG, in django-q's task,
queue and schedule rows (unpickled), in any admin page, or in Django's error report of a failing
request that carries a secret in a header and a form field.

Elsewhere: tamper raises and key rotation re-encrypt every row (tests/fitsync/test_crypto.py);
`check --deploy --fail-level WARNING` in production settings (tests/fitsync/test_settings.py).
"""

import json
import logging
import sys
from datetime import timedelta

import pytest
import requests
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.debug import ExceptionReporter
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage

from fitsync.models import Credential, ItemStatus, SyncItem
from integrations.withings import auth as withings_auth
from integrations.withings.auth import ensure_webhook_token

from .upstreams import ATHLETE, CLIENT_ID, HEVY_KEY, INTERVALS_KEY, WITHINGS_USER, upstreams

__all__ = ["upstreams"]  # fixture used by name
pytestmark = pytest.mark.django_db
GARMIN_EMAIL, GARMIN_PASSWORD = "planted@example.com", "garmin-PW-planted-7Qx!"


@pytest.fixture
def garmin_login(upstreams, settings, monkeypatch):
    from garminconnect.client import sso

    for flow in ("MOBILE", "LOGIN", "WIDGET"):
        monkeypatch.setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
        monkeypatch.setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
    settings.GARMIN_LOGIN_STRATEGIES = ["mobile+cffi", "mobile+requests"]
    upstreams.garmin.add_user(GARMIN_EMAIL, GARMIN_PASSWORD, display_name="planted", timezone="Europe/Berlin")


@pytest.fixture
def flow(admin_client, admin_user, upstreams, garmin_login, caplog, monkeypatch, django_capture_on_commit_callbacks):
    """Connect everything and sync one workout and one weigh-in; returns the planted secrets."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "django", "django_q", "fitsync", "integrations"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q runs each task here and writes its Task row

    def step(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    step(lambda: admin_client.post("/hevy/", {"api_key": HEVY_KEY}))
    step(lambda: admin_client.post("/intervals/", {"athlete_id": ATHLETE, "api_key": INTERVALS_KEY}))
    step(lambda: admin_client.post("/garmin/", {"email": GARMIN_EMAIL, "password": GARMIN_PASSWORD}))
    tokens = upstreams.withings.issue_tokens(CLIENT_ID, WITHINGS_USER)
    token_set = withings_auth.client.TokenSet(
        str(WITHINGS_USER), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
    )
    withings = withings_auth.save_tokens(admin_user, token_set).account
    url_token = ensure_webhook_token(withings)
    Credential.objects.filter(account=withings).update(expires_at=timezone.now() - timedelta(minutes=1))

    hevy_secret = Credential.objects.get(account__provider="hevy").webhook_secret
    workout = upstreams.hevy.add_workout(HEVY_KEY, {"title": "Planted Push"})
    step(
        lambda: admin_client.post(
            "/webhooks/hevy/",
            json.dumps({"id": "evt-1", "payload": {"workoutId": workout["id"]}}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {hevy_secret}",
        )
    )
    upstreams.withings.add_height(WITHINGS_USER, 1.80)
    upstreams.withings.add_measurement(WITHINGS_USER, timezone.now() - timedelta(hours=1), 80.35)
    now = int(timezone.now().timestamp())
    step(
        lambda: admin_client.post(
            f"/webhooks/withings/{url_token}/",
            f"userid={WITHINGS_USER}&appli=1&startdate={now - 7200}&enddate={now}",
            content_type="application/x-www-form-urlencoded",
        )
    )

    assert set(SyncItem.objects.values_list("status", flat=True)) == {ItemStatus.SYNCED}
    assert (
        SyncItem.objects.count() == 2 and len(upstreams.withings.refresh_calls()) == 1
    )  # the Withings token was refreshed too
    garmin_tokens = json.loads(Credential.objects.get(account__provider="garmin").session_blob)
    withings_now = Credential.objects.get(account=withings)
    return {
        "hevy api key": HEVY_KEY,
        "hevy webhook secret": hevy_secret,
        "intervals api key": INTERVALS_KEY,
        "withings access token": tokens["access_token"],
        "withings refresh token": tokens["refresh_token"],
        "withings access token (refreshed)": withings_now.access_token,
        "withings refresh token (refreshed)": withings_now.refresh_token,
        "withings webhook token": url_token,
        "garmin password": GARMIN_PASSWORD,
        "garmin di token": garmin_tokens["di_token"],
        "garmin refresh token": garmin_tokens["di_refresh_token"],
    }


def assert_absent(secrets: dict, where: str, text: str) -> None:
    found = [name for name, value in secrets.items() if value and value in text]
    assert not found, f"{where} holds: {found}"


def database_dump() -> str:
    """Every row of every table, raw (no model, no decryption)."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    with connection.cursor() as cursor:
        rows = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            rows += [repr(row) for row in cursor.fetchall()]
    return "\n".join(rows)


def test_no_secret_in_a_raw_dump_of_every_table(flow):
    assert Credential.objects.count() == 4
    assert_absent(flow, "the database", database_dump())


def test_no_secret_in_the_logs_at_debug(flow, caplog):
    records = caplog.get_records("setup") + caplog.get_records("call")  # the flow ran as the fixture's setup
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    assert "fitsync.http" in logged and len(records) > 20  # the flow did log, at DEBUG
    assert_absent(flow, "the logs", logged)


def test_no_secret_in_django_q_rows(flow):
    tasks = [repr((t.func, t.args, t.kwargs, t.result)) for t in Task.objects.all()]
    assert len(tasks) >= 4  # logins, syncs, the Withings fetch
    queued = [repr(SignedPackage.loads(q.payload)) for q in OrmQ.objects.all()]
    schedules = [repr((s.func, s.args, s.kwargs)) for s in Schedule.objects.all()]
    assert_absent(flow, "django-q rows", "\n".join(tasks + queued + schedules))


def test_no_secret_on_any_admin_page(flow, admin_client):
    pages = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(admin_client.get(reverse("admin:%s_%s_changelist" % info)))
        for pk in model.objects.values_list("pk", flat=True)[:20]:
            pages.append(admin_client.get(reverse("admin:%s_%s_change" % info, args=[pk])))
    assert {p.status_code for p in pages} == {200} and len(pages) > 20
    assert_absent(flow, "admin pages", "\n".join(p.content.decode() for p in pages))


@pytest.mark.parametrize("path, form_field", [("/hevy/", "api_key"), ("/intervals/", "api_key")])
def test_no_secret_in_the_error_report_of_a_failing_connect(flow, admin_user, monkeypatch, settings, path, form_field):
    def broken(*args, **kwargs):
        raise RuntimeError("network stack exploded")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", broken)
    request = RequestFactory().post(
        path,
        {"athlete_id": ATHLETE, form_field: flow["hevy api key"] + "-new"},
        HTTP_AUTHORIZATION=f"Bearer {flow['hevy webhook secret']}",
        HTTP_X_API_KEY=flow["intervals api key"],
    )
    request.user = admin_user
    assert import_string(settings.DEFAULT_EXCEPTION_REPORTER) is not ExceptionReporter
    report = import_string(settings.DEFAULT_EXCEPTION_REPORTER)(request, *failure_of(request))
    texts = report.get_traceback_html() + report.get_traceback_text()
    planted = {**flow, "the new key": flow["hevy api key"] + "-new"}
    assert "network stack exploded" in texts
    assert_absent(planted, "the error report", texts)


def failure_of(request):
    """Run the view the request is for; the exception it failed with, as sys.exc_info()."""
    view, args, kwargs = resolve(request.path_info)  # no ResolverMatch in this frame: its repr shows the token
    try:
        view(request, *args, **kwargs)
    except RuntimeError:
        return sys.exc_info()
    raise AssertionError("the view did not fail")


def test_no_webhook_token_in_the_error_report_of_a_failing_webhook(flow, monkeypatch, settings):
    def broken(*args, **kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("integrations.withings.webhook.accept", broken)
    now = int(timezone.now().timestamp())
    request = RequestFactory().post(
        f"/webhooks/withings/{flow['withings webhook token']}/",
        f"userid={WITHINGS_USER}&appli=1&startdate={now}&enddate={now}",
        content_type="application/x-www-form-urlencoded",
    )
    report = import_string(settings.DEFAULT_EXCEPTION_REPORTER)(request, *failure_of(request))
    texts = report.get_traceback_html() + report.get_traceback_text()
    assert "database exploded" in texts and "/webhooks/withings/********/" in texts
    assert_absent(flow, "the error report", texts)


def test_log_lines_never_show_the_webhook_token():
    from fitsync.security import RedactLogFilter

    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Internal Server Error: %s",
        ("/webhooks/withings/s3cr3t-T0ken/",),
        None,
    )
    assert RedactLogFilter().filter(record)
    assert record.getMessage() == "Internal Server Error: /webhooks/withings/********/"
