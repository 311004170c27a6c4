"""Scaling: webhook acknowledgement and time to destination on PostgreSQL + Redis with 1, 2 and 4 workers.

For each N: a fresh bench-owned database `fitsync_bench` on 127.0.0.1:5432, Redis 127.0.0.1:6379 db 13 (the
bench's own, flushed) as broker and cache under the cluster name `fitsync-bench`, gunicorn
`--workers N --threads 4` and qcluster with Q_WORKERS=N. First the time to destination of Hevy webhooks
one at a time on the warm, idle worker, then the acknowledgement load (20 concurrent senders) with the
worker syncing what it queues.

    .venv/bin/python bench/scaling.py [--workers 1 2 4] [--deliveries 1000] [--ttd-deliveries 50] [--write-results]
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
import time_to_destination as ttd  # noqa: E402
import webhook_ack as ack  # noqa: E402

HEADING = "## Scaling (PostgreSQL + Redis)"
REDIS_DB, CLUSTER = 13, "fitsync-bench"


def flush_redis() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()  # the bench's own db number only


def reset_database() -> None:
    from django.db import connections

    connections.close_all()
    h.postgres_url()  # drop and create fitsync_bench
    h.migrate()
    h.seed_hevy_accounts()


def one_size(n: int, env: dict, port: int, ids: list[str], clock, args) -> dict:
    reset_database()
    flush_redis()
    web, worker = h.start_web(port, env, workers=n), h.start_worker(env, workers=n)
    try:
        h.wait_http(f"http://127.0.0.1:{port}/health")
        warm, measured = ids[:5], ids[5 : 5 + args.ttd_deliveries]
        ttd.hevy_run(port, warm, [clock])
        samples = ttd.column(ttd.hevy_run(port, measured, [clock]))
        times = [s.seconds * 1000 for s in samples if s.seconds is not None]
        rest = ids[5 + args.ttd_deliveries :]
        h.send_load(f"http://127.0.0.1:{port}/webhooks/hevy/", rest[:20], args.concurrency, 60)
        load = ack.summarize(
            h.send_load(f"http://127.0.0.1:{port}/webhooks/hevy/", rest[20:], args.concurrency, args.max_seconds)
        )
    finally:
        h.stop(web)
        h.stop(worker)
    return {
        "n": n,
        "ttd_p50": h.percentile(times, 50),
        "ttd_p95": h.percentile(times, 95),
        "ttd_lost": args.ttd_deliveries - len(times),
        **load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--ttd-deliveries", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    per_size = args.deliveries + args.ttd_deliveries + 25
    fakes = h.build_fakes(args.latency_ms / 1000, workouts=per_size * len(args.workers))
    ids = h.workout_ids(fakes["hevy"])
    server = h.start_sandbox(fakes)
    port = h.free_port()
    database = h.postgres_url()
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    with tempfile.TemporaryDirectory(prefix="fitsync-bench-"):
        env = h.configure(database, server.url, port, REDIS_URL=redis_url, Q_CLUSTER_NAME=CLUSTER)
        clock = h.intervals_clock(fakes["intervals"])
        rows = [
            one_size(n, env, port, ids[i * per_size : (i + 1) * per_size], clock, args)
            for i, n in enumerate(args.workers)
        ]
    server.stop()
    report = render(rows, args)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


def render(rows: list[dict], args) -> str:
    lines = [
        HEADING,
        "",
        f"Command: `.venv/bin/python bench/scaling.py --workers {' '.join(map(str, args.workers))} --deliveries "
        f"{args.deliveries} --ttd-deliveries {args.ttd_deliveries} --write-results`",
        f"Machine: {h.machine()}; PostgreSQL {server_version()}",
        "",
        f"N web workers (x 4 threads) and N queue workers; {args.concurrency} concurrent senders; "
        f"{args.latency_ms:g} ms per upstream request; every process shares the 2 cores with PostgreSQL and Redis.",
        "",
        "| workers | ack p50 ms | ack p99 ms | ack max ms | deliveries/s | answers | time to destination p50 ms "
        "| p95 ms |",
        "|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.0f} | {r['per_s']:.0f} | "
            f"{r['statuses']} | {r['ttd_p50']:.0f} | {r['ttd_p95']:.0f} |"
        )
    return "\n".join(lines + [""])


def server_version() -> str:
    from django.db import connection

    return ".".join(str(connection.pg_version // 10000**i % 10000) for i in (1, 0))


if __name__ == "__main__":
    main()
