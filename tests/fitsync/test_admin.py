"""Admin: every model registered and browsable, Resync / Force resync actions, secrets never shown."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fitsync.models import Credential, InboundEvent, ItemStatus, SyncAttempt, SyncItem, SyncRun
from tests.seed import WORKOUTS, make_items

pytestmark = pytest.mark.django_db

SECRET = "hevy-api-key-do-not-show-0123456789"


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x" * 20))
    return client


@pytest.fixture
def seeded(user, make_account):
    hevy = make_account("hevy", api_key=SECRET, webhook_secret="whsec-do-not-show")
    make_items(hevy, WORKOUTS, 3, status=ItemStatus.FAILED)
    SyncAttempt.objects.create(item=SyncItem.objects.first(), outcome="failed", error="boom")
    SyncRun.objects.create(owner=user, account=hevy, trigger="manual")
    InboundEvent.objects.create(source="hevy", account=hevy, dedupe_key="hevy:w-0:1")
    return hevy


def test_it_registers_every_fitsync_model():
    for model in apps.get_app_config("fitsync").get_models():
        assert admin.site.is_registered(model), model


def test_it_shows_every_changelist_and_change_page(staff, seeded):
    for model in apps.get_app_config("fitsync").get_models():
        name = model._meta.model_name
        assert staff.get(f"/admin/fitsync/{name}/").status_code == 200, name
        assert staff.get(f"/admin/fitsync/{name}/?q=a").status_code == 200, name
        obj = model.objects.first()
        if obj is not None:
            assert staff.get(f"/admin/fitsync/{name}/{obj.pk}/change/").status_code == 200, name


def test_it_never_shows_or_decrypts_secrets(staff, seeded, monkeypatch):
    credential_pk = Credential.objects.values_list("pk", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM fitsync_credential WHERE id = %s", [credential_pk])
        stored = cursor.fetchone()[0]
    monkeypatch.setattr("fitsync.crypto.decrypt", lambda stored: pytest.fail("a secret was decrypted"))
    for url in (
        "/admin/fitsync/credential/",
        f"/admin/fitsync/credential/{credential_pk}/change/",
        f"/admin/fitsync/connectedaccount/{seeded.pk}/change/",
    ):
        html = staff.get(url).content.decode()
        assert SECRET not in html and "whsec-do-not-show" not in html and stored not in html
        assert "fernet:" not in html
    listing = staff.get("/admin/fitsync/credential/").content.decode()
    assert listing.count('alt="True"') == 1 and listing.count('alt="False"') == 2  # API key set, tokens not


def test_it_lists_credentials_in_a_constant_number_of_queries(staff, make_account, django_user_model):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            staff.get("/admin/fitsync/credential/")
        return len(captured)

    make_account("hevy", api_key=SECRET)
    few = count()
    for n in range(20):
        make_account("hevy", owner=django_user_model.objects.create_user(f"u{n}"), api_key=SECRET)
    assert count() == few


def test_it_resyncs_and_force_resyncs_from_the_admin(staff, seeded, sent_jobs, django_capture_on_commit_callbacks):
    ids = [str(pk) for pk in SyncItem.objects.values_list("pk", flat=True)]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/fitsync/syncitem/", {"action": "resync", "_selected_action": ids}, follow=True)
        staff.post("/admin/fitsync/syncitem/", {"action": "resync", "_selected_action": ids})
    assert "3 item(s) queued." in response.content.decode() and len(sent_jobs) == 3
    assert not SyncItem.objects.filter(force=True).exists()
    staff.post("/admin/fitsync/syncitem/", {"action": "force_resync", "_selected_action": ids[:1]})
    assert list(SyncItem.objects.filter(force=True).values_list("pk", flat=True)) == [int(ids[0])]
    assert set(SyncItem.objects.values_list("status", flat=True)) == {ItemStatus.PENDING}
