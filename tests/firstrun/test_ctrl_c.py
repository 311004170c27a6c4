"""Ctrl-C stops `./fitsync.sh run` and `demo` within seconds every time, with no traceback and nothing left
running: the terminal's SIGINT reaches every process of the foreground group, and django-q2 used to hang
when its sentinel got a signal meant for the main process."""

import pytest

from tests.firstrun.running import ctrl_c, health, processes_of, start, terminate
from tests.fitsync_run import copy_of_checkout, free_port, require_fitsync_venv

ROUNDS = 20
LIMIT = 10.0


def assert_stops_cleanly(run, stop=ctrl_c) -> float:
    seconds = stop(run, timeout=LIMIT)
    output = run.output()
    assert "Traceback" not in output, output[-3000:]
    assert run.process.returncode == 0, output[-3000:]
    assert processes_of(run) == [], f"left running: {processes_of(run)}\n{output[-2000:]}"
    return seconds


@pytest.mark.live
def test_ctrl_c_stops_run_every_time(tmp_path):
    """GIVEN `./fitsync.sh run` serving (box printed, /health 200), WHEN SIGINT reaches its whole process
    group, THEN it exits 0 within 10 s, prints no traceback and leaves no process behind; 20 times."""
    require_fitsync_venv()
    env = {
        "FITSYNC_DATA_DIR": tmp_path / "data",
        "FITSYNC_ENV_FILE": tmp_path / ".env",
        "FITSYNC_ADMIN_PASSWORD": "x" * 24,
    }
    timings = []
    for _ in range(ROUNDS):
        port = free_port()
        run = start("run", port, tmp_path, **env)
        assert health(port) == 200
        timings.append(assert_stops_cleanly(run))
    print(f"{ROUNDS}/{ROUNDS} clean exits after Ctrl-C; slowest {max(timings):.1f} s")


@pytest.mark.live
def test_ctrl_c_stops_the_demo_and_its_sandbox(tmp_path):
    """GIVEN `./fitsync.sh demo` serving with its sandbox, WHEN Ctrl-C, THEN all of it stops within 10 s."""
    require_fitsync_venv()
    root = copy_of_checkout(tmp_path / "fitsync")
    for _ in range(2):
        port = free_port()
        run = start("demo", port, tmp_path, root=root, FITSYNC_SANDBOX_PORT=free_port())
        assert health(port) == 200
        assert_stops_cleanly(run)


@pytest.mark.live
def test_sigterm_to_the_script_stops_everything(tmp_path):
    """`kill <pid of fitsync.sh>` is passed on to the supervisor: nothing is left running in its own session."""
    require_fitsync_venv()
    env = {
        "FITSYNC_DATA_DIR": tmp_path / "data",
        "FITSYNC_ENV_FILE": tmp_path / ".env",
        "FITSYNC_ADMIN_PASSWORD": "x" * 24,
    }
    assert_stops_cleanly(start("run", free_port(), tmp_path, **env), stop=terminate)
