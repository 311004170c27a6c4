"""Done-when, end to end through real processes: a Withings notification becomes one Garmin weigh-in.

GIVEN connected Withings and Garmin accounts (the sandbox fakes over HTTP), the notification subscription
pointing at fitsync's live server, and a warm `manage.py qcluster` worker,
WHEN the user steps on the sandbox scale,
THEN the weigh-in with full body composition appears in the sandbox Garmin within seconds, once, and
replaying the notification five times changes nothing.
"""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from fitsync import account_meta
from integrations.garmin.account_meta import GarminMeta
from integrations.withings import auth as withings_auth
from integrations.withings import subscriptions
from integrations.withings.client import TokenSet
from sandbox.garmin import GarminFake
from sandbox.garmin_sso import DI_TOKEN_PATH
from sandbox.server import SandboxServer
from sandbox.withings import WithingsFake
from tests.integrations.garmin.fixtures import DISPLAY_NAME, EMAIL, PASSWORD, TIMEZONE
from tests.live import wait_for, worker

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
CLIENT_ID, SECRET, USERID = "fitsync-live", "withings-live-secret", 31_400_001
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
WARM_SECONDS = 10  # "within seconds on a warm worker"


@pytest.fixture
def sandbox():
    withings, garmin = WithingsFake(strict_callback_urls=False), GarminFake()
    withings.add_app(CLIENT_ID, SECRET, ["http://127.0.0.1/withings/callback/"])
    withings.add_user(userid=USERID, timezone=TIMEZONE, height_m=Decimal("1.80"))
    garmin.add_user(EMAIL, PASSWORD, display_name=DISPLAY_NAME, timezone=TIMEZONE)
    with SandboxServer({"withings": withings, "garmin": garmin}) as server:
        yield withings, garmin, server


@pytest.fixture
def urls(sandbox, live_server, settings):
    _, _, server = sandbox
    garmin = server.url_for("garmin")
    values = dict(
        WITHINGS_API_URL=server.url_for("withings"),
        WITHINGS_ACCOUNT_URL=server.url_for("withings"),
        WITHINGS_CLIENT_ID=CLIENT_ID,
        WITHINGS_CLIENT_SECRET=SECRET,
        SITE_URL=live_server.url,
        GARMIN_SSO_URL=garmin,
        GARMIN_CONNECTAPI_URL=garmin,
        GARMIN_CONNECT_URL=garmin,
        GARMIN_DI_TOKEN_URL=garmin + DI_TOKEN_PATH,
    )
    for key, value in values.items():
        setattr(settings, key, value)
    return values


@pytest.fixture
def accounts(sandbox, urls, user, make_account):
    withings, garmin, _ = sandbox
    tokens = withings.issue_tokens(CLIENT_ID, USERID)
    token_set = TokenSet(
        str(USERID), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
    )
    account = withings_auth.save_tokens(user, token_set).account
    subscriptions.subscribe(account)  # the fake HEAD-probes the live server, then subscribes it
    garmin_account = make_account("garmin", session_blob=garmin.tokens_for(EMAIL))
    account_meta.write(garmin_account, GarminMeta, display_name=DISPLAY_NAME, timezone=TIMEZONE)
    return account


def test_a_weigh_in_reaches_garmin_within_seconds_once(sandbox, urls, accounts):
    withings, garmin, _ = sandbox
    env = {
        **urls,
        "DEBUG": 0,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    with worker(**env):
        # Warm the worker up (imports, connections) with a first weigh-in the day before.
        withings.step_on_scale(USERID, when=timezone.now() - timedelta(days=1), weight_kg=Decimal("82.9"))
        wait_for(lambda: len(garmin.weigh_ins(EMAIL)) == 1, timeout=60)

        started = time.monotonic()
        withings.step_on_scale(USERID, when=timezone.now() - timedelta(minutes=5), **BODY)
        wait_for(lambda: len(garmin.weigh_ins(EMAIL)) == 2, timeout=30, interval=0.05)
        elapsed = time.monotonic() - started

        for _ in range(5):  # Withings re-sends; fitsync must not upload again
            assert all(d.ok for d in withings.notify_user(USERID, 1))
        time.sleep(3)

    entry = garmin.weigh_ins(EMAIL)[-1]
    print(f"notification -> Garmin weigh-in: {elapsed:.2f} s")
    assert elapsed < WARM_SECONDS, f"took {elapsed:.1f} s"
    assert len(garmin.weigh_ins(EMAIL)) == 2 and len(garmin.calls("POST", "/upload-service/upload")) == 2
    assert (entry["weight"], entry["bodyFat"], entry["bodyWater"], entry["boneMass"]) == (82350.0, 22.1, 56.34, 3200.0)
    assert (entry["muscleMass"], entry["visceralFat"], entry["metabolicAge"], entry["bmi"]) == (61000.0, 8, None, 25.4)
    assert all(d.ok for d in withings.deliveries)


def test_a_worker_killed_between_upload_and_recording_does_not_upload_twice(sandbox, urls, accounts):
    """R4 at "after_write": SIGKILL after Garmin got the file, before the item was recorded."""
    from fitsync import sync
    from fitsync.models import SyncItem

    withings, garmin, _ = sandbox
    env = {
        **urls,
        "DEBUG": 0,
        "SECRET_KEY": settings.SECRET_KEY,
        "SYNC_LEASE_SECONDS": 2,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    with worker(**env, FITSYNC_CRASH_POINT="after_write"):
        withings.step_on_scale(USERID, when=timezone.now() - timedelta(minutes=5), **BODY)
        wait_for(lambda: len(garmin.weigh_ins(EMAIL)) == 1, timeout=30)
        item = wait_for(lambda: SyncItem.objects.filter(route="withings_garmin").first())
        time.sleep(1)
        assert SyncItem.objects.get(pk=item.pk).status == "running"  # killed before recording
    time.sleep(2)  # the lease runs out
    with worker(**env):
        assert sync.dispatch_due() == 1  # the dispatcher's backstop queues the abandoned item again
        wait_for(lambda: SyncItem.objects.get(pk=item.pk).status in ("synced", "skipped"), timeout=30)

    item.refresh_from_db()
    assert len(garmin.weigh_ins(EMAIL)) == 1 and len(garmin.calls("POST", "/upload-service/upload")) == 1
    assert item.destination_id == str(garmin.weigh_ins(EMAIL)[0]["samplePk"])
