"""Done-when, as a new user would try it: connect, subscription active, a weigh-in becomes an item, and an
expired access token is refreshed without anyone noticing; under every setting of the fake's switches for
what Withings does not document firmly (notification encoding and fields, numbers as strings, a 601 for
the same call repeated within 10 s)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fitsync.models import ConnectedAccount, SyncItem

from .conftest import GETMEAS_SETTINGS, NOTIFIER_SETTINGS, REPEAT_SETTINGS, USER, every, expire_locally, switch_id
from .test_oauth import consent, follow, start

pytestmark = pytest.mark.django_db
BODY = dict(
    weight_kg=Decimal("82.35"),
    fat_ratio=Decimal("22.1"),
    fat_mass=Decimal("18.2"),
    fat_free_mass=Decimal("64.15"),
    muscle_mass=Decimal("61.0"),
    hydration_kg=Decimal("46.4"),
    bone_mass=Decimal("3.2"),
    visceral_fat=Decimal("8"),
    bmr=1790,
    metabolic_age=33,
)


@pytest.fixture(params=every(NOTIFIER_SETTINGS, GETMEAS_SETTINGS, REPEAT_SETTINGS), ids=switch_id)
def withings_switches(request) -> dict:
    return request.param


def test_a_new_user_connects_and_a_weigh_in_reaches_the_garmin_route(
    logged_in, fake, rsps, jobs_sent, sent_jobs, django_capture_on_commit_callbacks
):
    fake.add_height(USER, Decimal("1.80"), when=timezone.now() - timedelta(days=400))
    assert '<button type="submit">Connect Withings</button>' in page(logged_in)

    with django_capture_on_commit_callbacks(execute=True):
        follow(logged_in, consent(start(logged_in)))
    jobs_sent.run()  # the worker: subscribe
    assert "active" in page(logged_in) and len(fake.subscriptions.of_user(USER, 1)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        grpid = fake.step_on_scale(USER, **BODY)  # Withings POSTs the notification to our webhook
    assert [d.status for d in fake.deliveries] == [200]
    jobs_sent.run()  # the worker: fetch
    item = SyncItem.objects.get(route="withings_garmin", source_id=str(grpid))
    assert (item.status, item.title) == ("pending", "82.35 kg")
    snap = item.snapshot
    assert {
        k: snap[k]
        for k in (
            "weight_kg",
            "fat_ratio_pct",
            "fat_mass_kg",
            "fat_free_mass_kg",
            "muscle_mass_kg",
            "bone_mass_kg",
            "hydration_kg",
            "hydration_pct",
            "visceral_fat",
            "bmr_kcal",
            "metabolic_age",
            "bmi",
            "timezone",
        )
    } == {
        "weight_kg": "82.350",
        "fat_ratio_pct": "22.100",
        "fat_mass_kg": "18.200",
        "fat_free_mass_kg": "64.150",
        "muscle_mass_kg": "61.00",
        "bone_mass_kg": "3.20",
        "hydration_kg": "46.40",
        "hydration_pct": "56.34",
        "visceral_fat": "8.0",
        "bmr_kcal": "1790",
        "metabolic_age": "33",
        "bmi": "25.42",
        "timezone": "Europe/Berlin",
    }
    assert "82.35 kg" in page(logged_in)

    account = ConnectedAccount.objects.get(provider="withings")
    fake.expire_all_access_tokens(USER)
    expire_locally(account)
    with django_capture_on_commit_callbacks(execute=True):
        fake.step_on_scale(USER, when=timezone.now() + timedelta(minutes=3), weight_kg=Decimal("82.1"))
    jobs_sent.run()
    account.refresh_from_db()
    assert account.status == "connected" and len(fake.refresh_calls()) == 1
    assert SyncItem.objects.filter(route="withings_garmin").count() == 2


def page(client) -> str:
    return client.get(reverse("withings:connect")).content.decode()
