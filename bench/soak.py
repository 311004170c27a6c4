"""Soak (R9): N minutes of mixed load on the embedded default, counting "database is locked" errors.

The real processes: gunicorn (2 workers x 4 threads) and `manage.py qcluster` (2 workers, its scheduler
running the minute schedules), on a fresh SQLite file with the production OPTIONS (WAL, IMMEDIATE,
busy timeout), the ORM broker, and the sandbox Hevy and Intervals.icu over HTTP with added latency.
This process drives the load from threads: Hevy webhooks (new workouts, edits, re-sent copies),
dashboard page loads, and bursts of resync clicks. At the end the queue drains and the processes'
logs and the HTTP answers are searched for "database is locked" and 5xx.

    .venv/bin/python bench/soak.py [--minutes 30] [--senders 4] [--latency 0.05] [--write-results] [--json PATH]

Exit status 1 when any locked error or 5xx was seen, or an item did not end synced exactly once.
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Soak (R9)"
HEVY_KEY, INTERVALS_KEY, ATHLETE = "soak-hevy-key", "soak-intervals-key", "i1"
USERNAME, PASSWORD = "soak", "soak-password-0123"
LOCKED = re.compile(r"database (table )?is locked", re.IGNORECASE)
PAGES = ["/", "/workouts/", "/workouts/?status=failed", "/weights/", "/runs/", "/charts/"]
sys.path.insert(0, str(ROOT))
import harness  # noqa: E402  (bench/harness.py: shared helpers of the benchmarks)


def environment(tmp: Path, sandbox_url: str, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}  # the embedded default
    env.update(
        {
            "FITSYNC_ENV_FILE": "",
            "DEBUG": "0",
            "DATABASE_URL": f"sqlite:///{tmp / 'soak.sqlite3'}",
            "SECRET_KEY": "soak-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
            "FIELD_ENCRYPTION_KEYS": "pQTv05bVIU5_IQ0Ln4cK9WSsh3M0NZWXsbrbDgIF1xI=",
            "DJANGO_SETTINGS_MODULE": "fitsync.settings",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "HEVY_API_URL": f"{sandbox_url}/hevy",
            "INTERVALS_API_URL": f"{sandbox_url}/intervals",
            "LOG_LEVEL": "INFO",
            "FITSYNC_DATA_DIR": str(tmp),
        }
    )
    return env


def start_sandbox(latency: float):
    from sandbox.hevy import HevyFake
    from sandbox.intervals import IntervalsFake
    from sandbox.server import SandboxServer

    hevy, intervals = HevyFake(), IntervalsFake()
    hevy.add_user(HEVY_KEY, name="soak")
    intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin")
    hevy.latency = intervals.latency = latency
    server = SandboxServer({"hevy": hevy, "intervals": intervals}).start()
    return server, hevy, intervals


def set_up_database() -> str:
    """Migrate, collect static files, create the user and both accounts; returns the Hevy webhook secret."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from integrations.hevy import auth as hevy_auth
    from integrations.intervals import auth as intervals_auth

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    hevy_auth.connect(user, HEVY_KEY)
    intervals_auth.connect(user, ATHLETE, INTERVALS_KEY)
    from fitsync.models import Credential

    secret = Credential.objects.get(account__provider="hevy").webhook_secret
    connection.close()
    return secret


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_processes(env: dict, port: int, logs: Path) -> list[subprocess.Popen]:
    python = sys.executable
    gunicorn = str(Path(python).with_name("gunicorn"))
    commands = {
        "web": [
            gunicorn,
            "fitsync.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ],
        "worker": [python, "manage.py", "qcluster"],
    }
    processes = []
    for name, command in commands.items():
        log = open(logs / f"{name}.log", "wb")
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    return processes


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Recorder:
    """Latencies and statuses per kind of request, from every load thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.statuses: dict[str, dict[int, int]] = {}
        self.errors: list[str] = []

    def timed(self, kind: str, send) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = send()
        except requests.RequestException as exc:
            with self.lock:
                self.errors.append(f"{kind}: {exc.__class__.__name__}: {exc}"[:300])
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.samples.setdefault(kind, []).append(elapsed)
            counts = self.statuses.setdefault(kind, {})
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
        return response

    def count_5xx(self) -> int:
        return sum(n for counts in self.statuses.values() for status, n in counts.items() if status >= 500)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- load threads ---------------------------------------------------------------------------------
def webhook_sender(seed: int, base: str, secret: str, hevy, recorder: Recorder, stop: threading.Event):
    """New workouts, edits of earlier ones, and re-sent copies, as Hevy delivers them."""
    from sandbox.workouts import generate_workouts

    rng, sent, session = random.Random(seed), [], requests.Session()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    while not stop.is_set():
        roll = rng.random()
        if sent and roll < 0.15:
            body = rng.choice(sent)  # a re-sent copy of an earlier delivery
        elif sent and roll < 0.25:
            workout_id = json.loads(rng.choice(sent))["payload"]["workoutId"]
            hevy.update_workout(HEVY_KEY, workout_id, title=f"Edited {rng.randint(1, 10**6)}")
            body = json.dumps({"id": str(uuid.uuid4()), "payload": {"workoutId": workout_id}})
        else:
            workout = generate_workouts(1, rng=rng, end=datetime.now(UTC))[0]
            workout["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
            hevy.add_workout(HEVY_KEY, workout)
            body = json.dumps({"id": str(uuid.uuid4()), "payload": {"workoutId": workout["id"]}})
            sent.append(body)
        recorder.timed(
            "webhook", lambda: session.post(f"{base}/webhooks/hevy/", data=body, headers=headers, timeout=30)
        )
        stop.wait(rng.uniform(0.4, 1.6))


def logged_in_session(base: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30)
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{base}/accounts/login/",
        timeout=30,
        headers={"Referer": f"{base}/accounts/login/"},
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    answer.raise_for_status()
    return session


def random_item_pk(rng: random.Random) -> int | None:
    from django.db import connection

    from fitsync.models import SyncItem

    try:
        top = SyncItem.objects.order_by("-pk").values_list("pk", flat=True).first()
        if not top:
            return None
        # The first item at or after a random id: ids have gaps (an upsert that updates still uses one up).
        items = SyncItem.objects.filter(pk__gte=rng.randint(1, top)).order_by("pk")
        return items.values_list("pk", flat=True).first()
    finally:
        connection.close()


def dashboard_reader(seed: int, base: str, recorder: Recorder, stop: threading.Event):
    rng, session = random.Random(seed), logged_in_session(base)
    while not stop.is_set():
        pk = random_item_pk(rng) if rng.random() < 0.3 else None
        path = f"/items/{pk}/" if pk else rng.choice(PAGES)
        recorder.timed("page", lambda: session.get(base + path, timeout=30))
        stop.wait(rng.uniform(0.3, 1.2))


def resync_clicker(seed: int, base: str, recorder: Recorder, stop: threading.Event):
    """Bursts of 5 quick clicks on Resync (now and then Force resync) of one item.

    Each burst on a new connection: the pause between bursts outlasts gunicorn's 2 s keep-alive, and a
    POST on a connection the server is closing that moment is reset (a client race, not a server error).
    """
    rng, session = random.Random(seed), logged_in_session(base)
    while not stop.is_set():
        pk = random_item_pk(rng)
        if pk:
            action = "force-resync" if rng.random() < 0.2 else "resync"
            headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/items/{pk}/"}
            session.close()  # drop the idle pooled connection; the cookies stay
            for _ in range(5):
                recorder.timed(
                    "resync",
                    lambda: session.post(
                        f"{base}/items/{pk}/{action}/", headers=headers, timeout=30, allow_redirects=False
                    ),
                )
        stop.wait(rng.uniform(2.0, 4.0))


def run_load(minutes: float, senders: int, base: str, secret: str, hevy) -> tuple[Recorder, float]:
    recorder, stop = Recorder(), threading.Event()
    threads = [
        threading.Thread(target=webhook_sender, args=(i, base, secret, hevy, recorder, stop)) for i in range(senders)
    ]
    threads += [threading.Thread(target=dashboard_reader, args=(100 + i, base, recorder, stop)) for i in range(2)]
    threads.append(threading.Thread(target=resync_clicker, args=(200, base, recorder, stop)))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(minutes * 60)
    stop.set()
    for thread in threads:
        thread.join()
    return recorder, time.monotonic() - started


# --- results --------------------------------------------------------------------------------------
def drain(db_path: Path, timeout: float = 180) -> dict:
    """Wait until no item is pending or running; the per-status counts at the end."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(db_path, timeout=30) as db:
            counts = dict(db.execute("SELECT status, COUNT(*) FROM fitsync_syncitem GROUP BY status").fetchall())
        if not counts.get("pending") and not counts.get("running") or time.monotonic() > deadline:
            return counts
        time.sleep(1)


def attempt_durations(db_path: Path) -> list[float]:
    with sqlite3.connect(db_path, timeout=30) as db:
        rows = db.execute("SELECT started_at, finished_at FROM fitsync_syncattempt WHERE finished_at IS NOT NULL")
        return [(_dt(b) - _dt(a)).total_seconds() * 1000 for a, b in rows.fetchall()]


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def locked_lines(logs: Path) -> list[str]:
    lines = []
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if LOCKED.search(line):
                lines.append(f"{path.name}: {line[:300]}")
    return lines


def summarize(
    recorder: Recorder,
    seconds: float,
    counts: dict,
    durations: list[float],
    locked: list[str],
    intervals,
    workouts: int,
) -> dict:
    activities = intervals.activities(ATHLETE)
    kinds = {
        kind: {"n": len(v), "p50": percentile(v, 0.5), "p99": percentile(v, 0.99), "max": max(v)}
        for kind, v in recorder.samples.items()
    }
    return {
        "seconds": seconds,
        "requests": kinds,
        "statuses": recorder.statuses,
        "http_5xx": recorder.count_5xx(),
        "client_errors": recorder.errors[:20],
        "client_error_count": len(recorder.errors),
        "locked": len(locked),
        "locked_lines": locked[:20],
        "items": counts,
        "attempts": {"n": len(durations), "p50": percentile(durations, 0.5), "p99": percentile(durations, 0.99)},
        "workouts": workouts,
        "activities": len(activities),
        "duplicate_activities": len(activities) - len({a.get("external_id") for a in activities}),
    }


def passed(r: dict) -> bool:
    return (
        r["locked"] == 0
        and r["http_5xx"] == 0
        and r["client_error_count"] == 0
        and r["activities"] == r["workouts"]
        and r["duplicate_activities"] == 0
        and set(r["items"]) <= {"synced", "skipped"}
    )


def render(r: dict, command: str, minutes: float, latency: float) -> str:
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    rows = [
        f"| {kind} | {v['n']:,} | {v['n'] / r['seconds']:.2f}/s | {v['p50']:.0f} ms | {v['p99']:.0f} ms | "
        f"{v['max']:.0f} ms |"
        for kind, v in sorted(r["requests"].items())
    ]
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python {command}` · machine: {machine} · date: {date.today().isoformat()}",
            "",
            f"{minutes:g} minutes of mixed load on the embedded default: gunicorn (2 workers x 4 threads) and "
            "`qcluster` (2 workers + scheduler) on one SQLite file (WAL, IMMEDIATE, fitsync's writer lock, busy "
            "timeout 20 s), the ORM broker, sandbox Hevy and Intervals.icu over HTTP with "
            f"{latency * 1000:.0f} ms latency per call.",
            "",
            "| requests | count | rate | p50 | p99 | max |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f'- **"database is locked": {r["locked"]}** (searched in both processes\' logs), **HTTP 5xx: '
            f"{r['http_5xx']}**, connection errors: {r['client_error_count']}; statuses: "
            + ", ".join(f"{kind} {dict(sorted(c.items()))}" for kind, c in sorted(r["statuses"].items())),
            f"- sync attempts (claim + Hevy fetch + Intervals.icu upsert + record): {r['attempts']['n']:,}, "
            f"p50 {r['attempts']['p50']:.0f} ms, p99 {r['attempts']['p99']:.0f} ms",
            f"- items at the end: {r['items']}; {r['workouts']:,} distinct workouts sent, {r['activities']:,} "
            f"activities in Intervals.icu, {r['duplicate_activities']} duplicates",
            f"- verdict: {'pass' if passed(r) else 'FAIL'}",
            "",
        ]
    )


def wait_until_up(base: str, processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a process died while starting; see its log")
        try:
            if requests.get(f"{base}/health", timeout=2).status_code < 600:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--senders", type=int, default=4, help="webhook sender threads")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every upstream call")
    parser.add_argument("--write-results", action="store_true", help=f"replace '{HEADING}' in bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs into this directory")
    args = parser.parse_args()
    server, hevy, intervals = start_sandbox(args.latency)
    with tempfile.TemporaryDirectory(prefix="fitsync-soak-") as tmp_name:
        tmp, port = Path(tmp_name), free_port()
        env = environment(tmp, server.url, port)
        os.environ.update(env)
        secret = set_up_database()
        base = f"http://127.0.0.1:{port}"
        processes = start_processes(env, port, tmp)
        try:
            wait_until_up(base, processes)
            recorder, seconds = run_load(args.minutes, args.senders, base, secret, hevy)
            counts = drain(tmp / "soak.sqlite3")
        finally:
            stop_processes(processes)
        workouts = len(hevy.users[HEVY_KEY]["workouts"])
        result = summarize(
            recorder, seconds, counts, attempt_durations(tmp / "soak.sqlite3"), locked_lines(tmp), intervals, workouts
        )
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in tmp.glob("*.log"):
                shutil.copy(log, args.keep_logs / log.name)
    server.stop()
    report = render(result, " ".join(["bench/soak.py", *sys.argv[1:]]), args.minutes, args.latency)
    print(report)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if args.write_results:
        harness.write_section(HEADING, report)
    if not passed(result):
        print(json.dumps({k: result[k] for k in ("locked_lines", "client_errors", "statuses", "items")}, indent=2))
        sys.exit(1)


if __name__ == "__main__":
    main()
