"""R5: 8 concurrent callers needing an expired token make exactly one refresh call, and all 8 succeed.

Withings (rotating refresh tokens) is proven in tests/integrations/withings/test_tokens.py:
`test_eight_concurrent_fetch_jobs_make_exactly_one_refresh_call` (threads) and
`test_eight_processes_needing_an_expired_token_make_exactly_one_refresh_call` (processes). Garmin's
threads are in tests/integrations/garmin/test_session.py
(`test_eight_workers_needing_a_refresh_make_exactly_one_refresh_call`); its processes are here. CI runs
all of them on SQLite (a file with the production options) and on PostgreSQL.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fitsync.models import Credential
from tests.live import database_url

from .upstreams import GARMIN_EMAIL, accounts, upstreams

__all__ = ["accounts", "upstreams"]  # fixtures used by name
WORKER = Path(__file__).with_name("garmin_refresh_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def expiring_garmin_tokens(garmin) -> str:
    """Tokens whose access token is inside garminconnect's 15-minute refresh margin."""
    garmin.access_token_ttl = 600
    tokens = garmin.tokens_for(GARMIN_EMAIL)
    garmin.access_token_ttl = 86400
    return tokens


@pytest.mark.django_db(transaction=True)
def test_eight_processes_needing_an_expiring_garmin_token_make_exactly_one_refresh_call(accounts, upstreams, settings):
    garmin = accounts["garmin"]
    Credential.objects.filter(account=garmin).update(session_blob=expiring_garmin_tokens(upstreams.garmin))
    upstreams.garmin.add_fault(path="/oauth/token$", delay=0.5)  # a slow refresh: the others pile up behind it
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LOG_LEVEL": "WARNING",
        "FITSYNC_ENV_FILE": "",
        "GARMIN_SSO_URL": settings.GARMIN_SSO_URL,
        "GARMIN_CONNECTAPI_URL": settings.GARMIN_CONNECTAPI_URL,
        "GARMIN_CONNECT_URL": settings.GARMIN_CONNECT_URL,
        "GARMIN_DI_TOKEN_URL": settings.GARMIN_DI_TOKEN_URL,
    }
    start_at = str(time.time() + 4)
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(garmin.pk), start_at],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [w.communicate(timeout=60) for w in workers]

    assert [w.returncode for w in workers] == [0] * 8, [err[-2000:] for _, err in outputs]
    stored = json.loads(Credential.objects.get(account=garmin).session_blob)["di_token"]
    assert {out.strip() for out, _ in outputs} == {stored}
    assert len(upstreams.garmin.refresh_calls()) == 1
    assert len(upstreams.garmin.calls("GET", "/weight-service/")) == 8
