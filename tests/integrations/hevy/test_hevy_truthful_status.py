"""What the Hevy page and the overview say after real work: last success after an import and after a webhook
item, the delivery log (accepted and refused, no secret in the page) and the SITE_URL warning."""

import json
import re

import pytest

from fitsync import deliveries, history_runs, sync
from fitsync.models import ConnectedAccount, Delivery, SyncItem, SyncRun

from .conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
URL = "/webhooks/hevy/"


@pytest.fixture(autouse=True)
def every_unmatched_refusal(monkeypatch):
    """Unmatched refusals are sampled to one a second per process; the tests send them faster."""
    monkeypatch.setattr(deliveries, "UNMATCHED_EVERY_SECONDS", 0)


def deliver(client, body, authorization=WEBHOOK_SECRET):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    data = json.dumps(body) if isinstance(body, dict) else body
    return client.generic("POST", URL, data, content_type="application/json", **headers)


def last_success_of(html: str, provider_heading: str) -> str:
    card = html[html.index(f'id="service-{provider_heading}"') :]
    return re.search(r"<dt>Last success</dt><dd>(.*?)</dd>", card, re.S).group(1)


def test_the_last_success_is_true_after_a_history_import(logged_in, upstreams, accounts, history):
    """GIVEN a Hevy history imported by the dashboard's import (bulk writes, not the engine)
    THEN both Hevy and Intervals.icu say when, and the route says when it last synced and received data."""
    hevy_account, _ = accounts
    run = SyncRun.objects.create(
        owner=hevy_account.owner, account=hevy_account, trigger="backfill", route="hevy_intervals"
    )
    history_runs.import_run(run.pk)
    assert SyncItem.objects.filter(status="synced").count() == 40

    html = logged_in.get("/").content.decode()
    assert "never" not in last_success_of(html, "hevy") and "ago" in last_success_of(html, "hevy")
    assert "ago" in last_success_of(html, "intervals")
    route = html[html.index('id="route-hevy_intervals"') :]
    assert re.search(r"<dt>Last synced</dt><dd><time[^>]*>[^<]*ago</time>", route)
    assert re.search(r"<dt>Last data received</dt><dd><time[^>]*>[^<]*ago</time>", route)


def test_the_last_success_is_true_after_a_webhook_item(
    logged_in, client, upstreams, accounts, history, sent_jobs, django_capture_on_commit_callbacks
):
    hevy_account, intervals_account = accounts
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, {"id": "e-1", "payload": {"workoutId": history[-1]["id"]}}).status_code == 200
    assert "never" in last_success_of(logged_in.get("/").content.decode(), "intervals")
    assert sync.run_item(sent_jobs.pop()).endswith("created")

    html = logged_in.get("/").content.decode()
    assert "ago" in last_success_of(html, "hevy") and "ago" in last_success_of(html, "intervals")
    assert ConnectedAccount.objects.get(pk=hevy_account.pk).last_received_at is not None


def test_the_delivery_log_shows_accepted_and_refused_deliveries_without_the_secret(
    logged_in, client, accounts, sent_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, {"id": "e-1", "payload": {"workoutId": "w-accepted"}}).status_code == 200
        assert deliver(client, {"id": "e-1", "payload": {"workoutId": "w-accepted"}}).status_code == 200
    assert deliver(client, {"payload": {}}).status_code == 400
    assert deliver(client, {"id": "e-2", "payload": {"workoutId": "w-2"}}, "Bearer guessed-secret").status_code == 401
    assert deliver(client, {"id": "e-3", "payload": {"workoutId": "w-3"}}, None).status_code == 401

    html = logged_in.get("/hevy/").content.decode()
    log = html[html.index('id="deliveries-heading"') :]
    rows = re.findall(r"<tr>(.*?)</tr>", log, re.S)[1:]  # the header row first
    outcomes = [re.search(r'class="badge status-(\w+)"', row).group(1) for row in rows]
    assert outcomes == ["refused", "refused", "refused", "duplicate", "accepted"]
    assert "HTTP 401" in rows[0] and "Authorization value is missing or is not this webhook" in rows[0]
    assert "HTTP 400" in rows[2] and "payload.workoutId" in rows[2]
    item = SyncItem.objects.get(source_id="w-accepted")
    assert f'href="/items/{item.pk}/"' in rows[4] and "HTTP 200" in rows[4]
    # The secret is on the page once, in the field to copy into Hevy; never in the log.
    assert WEBHOOK_SECRET not in log and "guessed-secret" not in html
    assert "guessed-secret" not in str(list(Delivery.objects.values()))


def test_refused_deliveries_are_bounded(client, accounts, settings, monkeypatch):
    monkeypatch.setattr(Delivery, "KEEP", 5)
    monkeypatch.setattr(deliveries, "PRUNE_EVERY", 1)  # trimmed at every delivery, not every 20th
    for n in range(12):
        deliver(client, {"id": f"e-{n}", "payload": {"workoutId": f"w-{n}"}}, f"wrong-{n}")
    assert Delivery.objects.filter(account=None).count() == 5


def test_unmatched_refusals_are_sampled_so_a_flood_writes_little(client, accounts, monkeypatch):
    monkeypatch.setattr(deliveries, "UNMATCHED_EVERY_SECONDS", 60)
    monkeypatch.setattr(deliveries, "_last_unmatched", {})
    for n in range(20):
        assert deliver(client, {"payload": {"workoutId": "w"}}, f"wrong-{n}").status_code == 401
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "site_url",
    ["http://testserver", "https://127.0.0.1", "https://192.168.1.20:8000", "https://fitsync.local", "https://nas"],
)
def test_the_hevy_page_warns_when_site_url_cannot_be_reached_from_the_internet(logged_in, accounts, settings, site_url):
    settings.SITE_URL = site_url
    html = logged_in.get("/hevy/").content.decode()
    assert 'class="alert alert-warn" role="alert">SITE_URL' in html and "Hevy cannot deliver" in html


def test_the_hevy_page_does_not_warn_for_a_public_https_site_url(logged_in, accounts, settings):
    settings.SITE_URL = "https://fitsync.example.org"
    assert "Hevy cannot deliver" not in logged_in.get("/hevy/").content.decode()
