"""A password handed to a login job that no worker took is wiped once it expires: by the every-minute
Garmin job and by a view of the Garmin page, without waiting for a job that may never come."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fitsync.models import ConnectedAccount, Credential
from integrations.garmin import tasks
from integrations.garmin.login_state import wipe_expired_handovers

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def handed_over(logged_in, monkeypatch, django_capture_on_commit_callbacks):
    """Press Connect with no worker running: the password waits, encrypted, for a job that never runs."""
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(reverse("garmin:connect"), {"email": "ada@example.com", "password": PASSWORD})
    credential = Credential.objects.get(account__provider="garmin")
    assert PASSWORD in credential.pending_blob and credential.pending_expires_at > timezone.now()
    return credential


def stored_handover() -> tuple[str, object]:
    """The raw columns, as a reader of the database file would see them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pending_blob, pending_expires_at FROM fitsync_credential")
        return cursor.fetchone()


def later(minutes: int):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


def test_the_every_minute_job_wipes_an_expired_handover(handed_over):
    with later(3):
        assert tasks.wipe_expired_handovers() == "wiped 1 handovers"
    assert stored_handover() == ("", None)


def test_a_view_of_the_garmin_page_wipes_an_expired_handover(handed_over, logged_in):
    with later(3):
        assert logged_in.get(reverse("garmin:connect")).status_code == 200
    assert stored_handover() == ("", None)


def test_an_unexpired_handover_stays_for_its_job(handed_over, logged_in, sent_jobs):
    with later(1):
        tasks.wipe_expired_handovers()
        logged_in.get(reverse("garmin:connect"))
    blob, expires_at = stored_handover()
    assert blob.startswith("fernet:") and expires_at is not None
    assert Credential.objects.get(pk=handed_over.pk).pending_blob == handed_over.pending_blob


def test_it_leaves_other_services_and_the_session_alone(handed_over, make_account, user):
    other = make_account("hevy", owner=user, api_key="k")
    Credential.objects.filter(account=other).update(pending_blob="x", pending_expires_at=timezone.now())
    Credential.objects.filter(pk=handed_over.pk).update(session_blob="tokens")
    with later(3):
        assert wipe_expired_handovers() == 1
    assert Credential.objects.get(account=other).pending_blob == "x"
    assert Credential.objects.get(pk=handed_over.pk).session_blob == "tokens"
    assert ConnectedAccount.objects.get(provider="garmin").meta["email"] == "ada@example.com"
