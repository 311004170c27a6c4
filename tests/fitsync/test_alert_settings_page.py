"""The alerts page: Apprise URLs saved encrypted, "Send a test" reaching a local endpoint or saying why not."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fitsync.models import AlertSettings, Heartbeat

pytestmark = pytest.mark.django_db


def save(client, urls: str):
    return client.post(reverse("dashboard:alerts"), {"apprise_urls": urls}, follow=True)


def test_it_saves_the_urls_encrypted(logged_in, user, alert_receiver):
    page = save(logged_in, f"  {alert_receiver.apprise_url}  \n\n")
    assert "Alert settings saved." in page.content.decode()
    assert AlertSettings.objects.get(owner=user).urls == [alert_receiver.apprise_url]
    with connection.cursor() as cursor:
        cursor.execute("SELECT apprise_urls FROM fitsync_alertsettings")
        stored = cursor.fetchone()[0]
    assert "127.0.0.1" not in stored and stored.startswith("fernet:")


def test_it_refuses_a_url_apprise_does_not_understand_without_repeating_it(logged_in, user):
    page = save(logged_in, "json://127.0.0.1:9/\nnot-a-url-secret-token")
    text = page.content.decode()
    assert "Line 2 is not a URL Apprise understands." in text
    assert "secret-token" in text  # kept in the field to be corrected, but not in the error
    assert not AlertSettings.objects.filter(owner=user).exclude(apprise_urls="").exists()


def test_send_a_test_reaches_the_endpoint(logged_in, alert_receiver):
    save(logged_in, alert_receiver.apprise_url)
    page = logged_in.post(reverse("dashboard:alerts_test"), follow=True)
    assert "Test alert sent to 1 URL(s)." in page.content.decode()
    assert alert_receiver.titles() == ["fitsync: test alert"]


def test_send_a_test_shows_why_it_failed(logged_in, alert_receiver):
    save(logged_in, alert_receiver.apprise_url)
    alert_receiver.add_fault(status=500)
    page = logged_in.post(reverse("dashboard:alerts_test"), follow=True)
    assert "The test was not delivered:" in page.content.decode()
    assert alert_receiver.messages() == []


def test_send_a_test_without_a_url_asks_for_one(logged_in):
    page = logged_in.post(reverse("dashboard:alerts_test"), follow=True)
    assert "Save an Apprise URL first." in page.content.decode()


def test_the_nav_links_the_alerts_page(logged_in):
    page = logged_in.get(reverse("dashboard:overview"))
    assert f'href="{reverse("dashboard:alerts")}"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_health_sends_the_silent_workers_alert_from_the_web_process(client, user, alert_receiver):
    """The check runs in a thread of the web process, so the request does not wait for the endpoint."""
    AlertSettings.objects.create(owner=user, apprise_urls=alert_receiver.apprise_url)
    Heartbeat.objects.create(name=Heartbeat.WORKER, beat_at=timezone.now() - timedelta(minutes=10))
    assert client.get("/health").status_code == 503
    client.get("/health")  # within the minute: no second check
    deadline = time.monotonic() + 10
    while not alert_receiver.messages() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert [t.split(" since ")[0] for t in alert_receiver.titles()] == ["fitsync: The worker has been silent"]


def test_the_admin_shows_whether_urls_are_set_never_the_urls(admin_client, user, alert_receiver):
    saved = AlertSettings.objects.create(owner=user, apprise_urls=alert_receiver.apprise_url)
    for url in ("/admin/fitsync/alertsettings/", f"/admin/fitsync/alertsettings/{saved.pk}/change/"):
        html = admin_client.get(url).content.decode()
        assert "127.0.0.1" not in html and "json://" not in html
