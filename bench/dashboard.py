"""Dashboard benchmark: overview and list pages over 100,000 synced items on the embedded SQLite default.

Seeds a fresh file database (the production options: WAL, IMMEDIATE, busy timeout), then times each page
through Django's test client (the full middleware stack, templates included, no network).

    .venv/bin/python bench/dashboard.py [--items 100000] [--repeat 20] [--append-results]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100
PAGES = [
    "/",
    "/workouts/",
    "/weights/",
    "/workouts/?status=failed",
    "/workouts/?q=Workout 4242",
    "/weights/?page=1000",
    "/runs/",
    "/charts/?days=365",
    "ITEM",
]


def configure(db_path: Path) -> None:
    os.environ.update(
        {
            "FITSYNC_ENV_FILE": "",
            "DEBUG": "0",
            "DATABASE_URL": f"sqlite:///{db_path}",
            "ALLOWED_HOSTS": "testserver",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
            "FIELD_ENCRYPTION_KEYS": "pQTv05bVIU5_IQ0Ln4cK9WSsh3M0NZWXsbrbDgIF1xI=",
            "DJANGO_SETTINGS_MODULE": "fitsync.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(count: int):
    """`count` synced items split 60/40 between workouts and weights, a few failed and held, 2,000 runs."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from fitsync.models import ConnectedAccount, ItemStatus, SyncRun
    from tests.seed import WEIGHTS, WORKOUTS, make_items

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # production storage needs the manifest
    user = get_user_model().objects.create_user("bench", password="bench-password-long-enough")
    accounts = {
        p: ConnectedAccount.objects.create(owner=user, provider=p) for p in ("hevy", "intervals", "withings", "garmin")
    }
    workouts = count * 6 // 10
    make_items(accounts["hevy"], WORKOUTS, workouts - 50)
    make_items(accounts["hevy"], WORKOUTS, 50, start=workouts, status=ItemStatus.FAILED)
    make_items(accounts["withings"], WEIGHTS, count - workouts - 20)
    make_items(accounts["withings"], WEIGHTS, 20, start=count, status=ItemStatus.HELD)
    SyncRun.objects.bulk_create(SyncRun(owner=user, account=accounts["hevy"], trigger="schedule") for _ in range(2000))
    call_command("migrate", verbosity=0)  # post_migrate schedules; ANALYZE below needs the data in
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user


def time_pages(user, repeat: int) -> dict[str, float]:
    from django.test import Client

    from fitsync.models import SyncItem

    client = Client()
    client.force_login(user)
    item = SyncItem.objects.order_by("-occurred_at").values_list("pk", flat=True)[0]
    results = {}
    for page in PAGES:
        url = f"/items/{item}/" if page == "ITEM" else page
        assert client.get(url).status_code == 200, url  # warm-up (templates, caches)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        results[url] = statistics.median(samples)
    return results


def report(results: dict[str, float], count: int, repeat: int, seconds_to_seed: float) -> str:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    lines = [
        f"### {date.today().isoformat()}: {count:,} items, median of {repeat} requests per page",
        "",
        f"Command: `.venv/bin/python bench/dashboard.py --items {count} --repeat {repeat} --append-results`",
        f"Machine: nproc {nproc}; `{uname}`; SQLite {sqlite_version()} (WAL, IMMEDIATE); "
        f"seeding took {seconds_to_seed:.0f} s",
        "",
        "| page | median ms | under 100 ms |",
        "|---|---:|---|",
    ]
    lines += [f"| `{url}` | {ms:.1f} | {'yes' if ms < TARGET_MS else '**no**'} |" for url, ms in results.items()]
    return "\n".join(lines) + "\n"


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def append_results(text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    existing = path.read_text() if path.exists() else "# Benchmark results\n"
    if "## Dashboard" not in existing:
        existing = existing.rstrip("\n") + "\n\n## Dashboard\n"
    head, _, tail = existing.partition("## Dashboard\n")
    # Newest run first inside the Dashboard section; other sections stay as they are.
    path.write_text(f"{head}## Dashboard\n\n{text}\n{tail.lstrip(chr(10))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--append-results", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fitsync-bench-") as tmp:
        configure(Path(tmp) / "bench.sqlite3")
        started = time.perf_counter()
        user = seed(args.items)
        text = report(time_pages(user, args.repeat), args.items, args.repeat, time.perf_counter() - started)
    print(text)
    if args.append_results:
        append_results(text)


if __name__ == "__main__":
    main()
