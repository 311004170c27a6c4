"""Shared pieces of the benchmarks: settings, the sandbox with write timestamps, real fitsync processes.

Every bench gets a fresh temporary directory (SQLite file database with the production options) or the
bench-owned PostgreSQL database `fitsync_bench`, the four fakes over real HTTP on 127.0.0.1 with a set
latency per request, and gunicorn / qcluster started the way `fitsync.sh run` starts them.
"""

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
FERNET_KEY = "pQTv05bVIU5_IQ0Ln4cK9WSsh3M0NZWXsbrbDgIF1xI="
HEVY_KEY, INTERVALS_KEY, BASELINE_INTERVALS_KEY = "bench-hevy-key", "bench-intervals-key", "bench-baseline-key"
ATHLETE, BASELINE_ATHLETE, TIMEZONE = "i1", "i2", "Europe/Berlin"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef"
WITHINGS_CLIENT, WITHINGS_SECRET, WITHINGS_USER = "bench-withings", "bench-withings-secret", 31_400_001
GARMIN_EMAIL, BASELINE_GARMIN_EMAIL, GARMIN_PASSWORD = "bench@example.com", "baseline@example.com", "pw"
sys.path.insert(0, str(ROOT))


# --- settings --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(database_url: str, sandbox_url: str, web_port: int, **extra: str) -> dict:
    """Environment for this process and the fitsync processes it starts; then django.setup()."""
    from sandbox.garmin_sso import DI_TOKEN_PATH

    garmin = f"{sandbox_url}/garmin"
    env = {
        "FITSYNC_ENV_FILE": "",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
        "DJANGO_SETTINGS_MODULE": "fitsync.settings",
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "HEVY_API_URL": f"{sandbox_url}/hevy",
        "INTERVALS_API_URL": f"{sandbox_url}/intervals",
        "WITHINGS_API_URL": f"{sandbox_url}/withings",
        "WITHINGS_ACCOUNT_URL": f"{sandbox_url}/withings",
        "WITHINGS_CLIENT_ID": WITHINGS_CLIENT,
        "WITHINGS_CLIENT_SECRET": WITHINGS_SECRET,
        "GARMIN_SSO_URL": garmin,
        "GARMIN_CONNECTAPI_URL": garmin,
        "GARMIN_CONNECT_URL": garmin,
        "GARMIN_DI_TOKEN_URL": garmin + DI_TOKEN_PATH,
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    os.environ.update(env)
    import django

    django.setup()
    return env


def sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'bench.sqlite3'}"


def postgres_url(name: str = "fitsync_bench") -> str:
    """Drop and create the bench's own database (never another one), return its URL."""
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True, capture_output=True)
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


# --- the sandbox -----------------------------------------------------------------------------------
class WriteClock:
    """Wraps a fake's `handle` to note when each write of interest finished (after the latency)."""

    def __init__(self, fake, method: str, path_part: str, key):
        self.done: dict[str, float] = {}
        self.event = threading.Condition()
        original = fake.handle

        def handle(request):
            response = original(request)
            if request.method == method and path_part in request.path and response.status < 300:
                with self.event:
                    for k in key(request):
                        self.done.setdefault(k, time.time())
                    self.event.notify_all()
            return response

        fake.handle = handle

    def wait(self, key: str, timeout: float) -> float | None:
        deadline = time.time() + timeout
        with self.event:
            while key not in self.done:
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.event.wait(left)
            return self.done[key]


def build_fakes(latency: float, workouts: int = 0):
    """Hevy (with `workouts` workouts), Intervals.icu (fitsync's athlete and the baseline's), Withings, Garmin."""
    import random
    from datetime import UTC, datetime

    from sandbox.garmin import GarminFake
    from sandbox.hevy import HevyFake
    from sandbox.intervals import IntervalsFake
    from sandbox.withings import WithingsFake
    from sandbox.workouts import generate_workouts

    hevy, intervals = HevyFake(), IntervalsFake()
    hevy.add_user(HEVY_KEY)
    if workouts:
        end = datetime(2026, 1, 1, tzinfo=UTC)
        hevy.add_workouts(HEVY_KEY, generate_workouts(workouts, rng=random.Random(9), end=end))
    intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone=TIMEZONE)
    intervals.add_athlete(BASELINE_INTERVALS_KEY, athlete_id=BASELINE_ATHLETE, timezone=TIMEZONE)
    withings, garmin = WithingsFake(strict_callback_urls=False), GarminFake()
    withings.add_app(WITHINGS_CLIENT, WITHINGS_SECRET, ["http://127.0.0.1/withings/callback/"])
    withings.add_user(userid=WITHINGS_USER, timezone=TIMEZONE)
    for email in (GARMIN_EMAIL, BASELINE_GARMIN_EMAIL):
        garmin.add_user(email, GARMIN_PASSWORD, display_name=email.split("@")[0], timezone=TIMEZONE)
    fakes = {"hevy": hevy, "intervals": intervals, "withings": withings, "garmin": garmin}
    for fake in fakes.values():
        fake.latency = latency
    return fakes


def start_sandbox(fakes: dict):
    from sandbox.server import SandboxServer

    return SandboxServer(fakes).start()


@contextmanager
def embedded_default(latency_ms: float, workouts: int):
    """The fakes over HTTP and a fresh SQLite fitsync with the Hevy and Intervals.icu accounts seeded.

    Yields (fakes, env, port): `env` is what web and worker processes need to share this setup.
    """
    fakes = build_fakes(latency_ms / 1000, workouts=workouts)
    server = start_sandbox(fakes)
    port = free_port()
    try:
        with tempfile.TemporaryDirectory(prefix="fitsync-bench-") as tmp:
            env = configure(sqlite_url(Path(tmp)), server.url, port)
            migrate()
            seed_hevy_accounts()
            yield fakes, env, port
    finally:
        server.stop()


def workout_ids(hevy) -> list[str]:
    with hevy.lock:
        return list(hevy.users[HEVY_KEY]["workouts"])


def intervals_clock(intervals) -> WriteClock:
    """When each activity (by external_id = Hevy workout id) was written by a bulk upsert."""
    return WriteClock(
        intervals,
        "POST",
        "/activities/manual/bulk",
        lambda request: [a.get("external_id", "") for a in json.loads(request.body)],
    )


# --- accounts --------------------------------------------------------------------------------------
def seed_hevy_accounts():
    """A user with Hevy (webhook secret WEBHOOK_SECRET) and Intervals.icu connected."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from fitsync import crypto
    from fitsync.models import ConnectedAccount, Credential

    user, _ = get_user_model().objects.get_or_create(username="bench")
    hevy = ConnectedAccount.objects.create(
        owner=user, provider="hevy", webhook_digest=crypto.digest(WEBHOOK_SECRET), cursor=timezone.now().isoformat()
    )
    Credential.objects.create(account=hevy, api_key=HEVY_KEY, webhook_secret=WEBHOOK_SECRET)
    intervals = ConnectedAccount.objects.create(
        owner=user,
        provider="intervals",
        external_user_id=ATHLETE,
        meta={"timezone": TIMEZONE, "timezone_checked_at": timezone.now().isoformat()},
    )
    Credential.objects.create(account=intervals, api_key=INTERVALS_KEY)
    return user


def seed_withings_accounts(fakes: dict, subscribe: bool = True):
    """Withings (tokens from the fake, subscribed to the running web server) and Garmin connected."""
    from django.contrib.auth import get_user_model

    from integrations.withings import auth as withings_auth
    from integrations.withings import subscriptions
    from integrations.withings.client import TokenSet

    user, _ = get_user_model().objects.get_or_create(username="bench")
    tokens = fakes["withings"].issue_tokens(WITHINGS_CLIENT, WITHINGS_USER)
    token_set = TokenSet(
        str(WITHINGS_USER), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
    )
    account = withings_auth.save_tokens(user, token_set).account
    if subscribe:
        subscriptions.subscribe(account)
    seed_garmin_account(user, fakes["garmin"].tokens_for(GARMIN_EMAIL))
    return account


def seed_garmin_account(user, tokens: str):
    """Garmin connected for `user` with the fake's tokens of GARMIN_EMAIL (`GarminFake.tokens_for`)."""
    from fitsync import account_meta
    from fitsync.models import ConnectedAccount, Credential
    from integrations.garmin.account_meta import GarminMeta

    garmin = ConnectedAccount.objects.create(owner=user, provider="garmin", display_name="garmin")
    Credential.objects.create(account=garmin, session_blob=tokens)
    account_meta.write(garmin, GarminMeta, display_name=GARMIN_EMAIL.split("@")[0], timezone=TIMEZONE)
    return garmin


# --- processes -------------------------------------------------------------------------------------
def start_web(port: int, env: dict, workers: int = 2, threads: int = 4, app: str = "fitsync.wsgi") -> subprocess.Popen:
    """gunicorn as `fitsync.sh run` starts it (gthread, WEB_CONCURRENCY workers x 4 threads)."""
    command = [
        str(VENV_BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    return _spawn(command, env)


def start_worker(env: dict, workers: int = 2) -> subprocess.Popen:
    return _spawn([sys.executable, "manage.py", "qcluster"], {**env, "Q_WORKERS": str(workers)})


def _spawn(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the group this bench started, SIGKILL if it hangs (django-q2 #346)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_http(url: str, timeout: float = 30) -> float:
    """Seconds until `url` answers anything over HTTP."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return time.monotonic() - started
        except urllib.error.HTTPError:
            return time.monotonic() - started
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [pid] + [p for kid in kids for p in process_tree(kid)]


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process and all its descendants in MB, from /proc/<pid>/smaps_rollup.

    RSS counts pages shared by forked children once per process; PSS splits them, so its sum is the
    memory the tree really takes.
    """
    rss = pss = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("Rss", "Pss"):
                    value = int(rest.split()[0])
                    rss, pss = (rss + value, pss) if name == "Rss" else (rss, pss + value)
        except OSError:
            pass
    return rss / 1024, pss / 1024


# --- load -----------------------------------------------------------------------------------------
def send_load(
    url: str, ids: list[str], concurrency: int, max_seconds: float, header: str = WEBHOOK_SECRET, rate: float = 0
) -> dict:
    """Run bench/loadgen.py (its own process, so its threads do not share this process's GIL).

    `rate` > 0: open loop at that many deliveries per second; else closed loop (see loadgen.py).
    """
    ids_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"fitsync-bench-ids-{os.getpid()}.json"
    ids_file.write_text(json.dumps(ids))
    command = [
        sys.executable,
        str(ROOT / "bench" / "loadgen.py"),
        url,
        str(ids_file),
        "--concurrency",
        str(concurrency),
        "--max-seconds",
        str(max_seconds),
        "--authorization",
        header,
        "--rate",
        str(rate),
    ]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=max_seconds + 60, check=True)
    finally:
        ids_file.unlink(missing_ok=True)
    return json.loads(out.stdout)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p100 = max)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- reporting ------------------------------------------------------------------------------------
def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo, ticks = 0.0, [pid], os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = (Path("/proc") / str(current) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
        todo.extend(children.get(current, []))
    return total


def machine() -> str:
    """The machine, the date and its load when the report is written (other runs share these cores)."""
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"nproc {os.cpu_count()}; `{uname}`; Python {platform.python_version()}; date {date.today().isoformat()}; "
        f"load average at the end (1, 5, 15 min) {load}"
    )


def write_section(heading: str, section: str) -> None:
    """Replace the `heading` section of bench/RESULTS.md (up to the next `## `), or append it."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text, encoding="utf-8")
