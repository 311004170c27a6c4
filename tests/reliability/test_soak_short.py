"""R9 in CI: a 2-minute soak of the embedded default (the 30-minute run is `bench/soak.py` itself).

GIVEN gunicorn, a qcluster worker with its scheduler and the sandbox upstreams on one SQLite file,
WHEN webhooks, page loads and resync clicks hit it for 2 minutes, THEN no "database is locked" in any
log, no 5xx, and every workout ends as exactly one activity.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[2]


def test_two_minutes_of_mixed_load_lock_nothing(tmp_path):
    result_path = tmp_path / "soak.json"
    command = [
        sys.executable,
        "bench/soak.py",
        "--minutes",
        "2",
        "--json",
        str(result_path),
        "--keep-logs",
        str(tmp_path / "logs"),
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result_path.exists(), finished.stdout[-3000:] + finished.stderr[-3000:]
    result = json.loads(result_path.read_text())
    assert result["locked"] == 0, result["locked_lines"]
    assert result["http_5xx"] == 0 and result["client_error_count"] == 0, result["statuses"]
    assert result["activities"] == result["workouts"] > 50 and result["duplicate_activities"] == 0
    assert set(result["items"]) <= {"synced", "skipped"}, result["items"]
    assert finished.returncode == 0
