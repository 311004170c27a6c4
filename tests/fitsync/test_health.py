from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.models import Heartbeat, SyncItem
from fitsync.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_it_is_public_and_ok_with_a_recent_heartbeat(client):
    heartbeat()
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["worker_heartbeat_age_seconds"] < 5 and body["backlog"] == 0


def test_it_is_503_when_the_worker_is_silent_for_three_minutes(client):
    Heartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(minutes=3, seconds=5))
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["status"] == "worker silent"


def test_it_is_503_before_any_heartbeat(client):
    assert client.get("/health").status_code == 503


def test_it_counts_the_backlog(client, make_account):
    heartbeat()
    account = make_account("hevy")
    for n in range(3):
        SyncItem.objects.create(account=account, route="hevy_intervals", source_id=f"w{n}")
    assert client.get("/health").json()["backlog"] == 3
