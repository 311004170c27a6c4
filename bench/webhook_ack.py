"""Webhook acknowledgement: fitsync's /webhooks/hevy/ against an inline-processing baseline, in one run.

gunicorn as `fitsync.sh run` starts it (2 workers x 4 threads, gthread) on the embedded default (a
SQLite file with the production options, the ORM broker), a warm qcluster with 2 workers kept busy by
the deliveries themselves, 20 concurrent keep-alive senders (bench/loadgen.py, its own process), one
delivery per distinct workout. The baseline is bench/baseline_app: the same Django project and server
flags with a view that fetches the workout from Hevy and writes it to Intervals.icu before answering,
as the seed Lambda does. Afterwards every acknowledged delivery must have its event, its item and its
queued job committed (R1).

    .venv/bin/python bench/webhook_ack.py [--deliveries 2000] [--concurrency 20] [--latency-ms 50] [--write-results]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

HEADING = "## Webhook acknowledgement"
TARGET_P99_MS, TARGET_P50_MS, TARGET_MAX_MS, TARGET_RATIO = 100, 20, 1000, 20


def summarize(load: dict) -> dict:
    ok = [ms for ms in load["latencies_ms"]]
    return {
        "sent": len(ok), "statuses": load["statuses"], "wall_s": load["wall_s"],
        "p50": h.percentile(ok, 50), "p99": h.percentile(ok, 99), "max": max(ok) if ok else float("nan"),
        "per_s": load["statuses"].get("200", 0) / load["wall_s"],
    }


def committed_check(accepted: int) -> dict:
    """Every acknowledged delivery: its event, its item, and a job queued (or already run) for the item."""
    from django_q.models import OrmQ

    from fitsync.models import InboundEvent, SyncItem

    events = InboundEvent.objects.filter(source="hevy").count()
    items = SyncItem.objects.filter(route="hevy_intervals")
    queued_names = {task.name() for task in OrmQ.objects.all()}
    waiting = items.filter(status="pending")
    unqueued = [pk for pk in waiting.values_list("pk", flat=True) if f"sync item {pk}" not in queued_names]
    return {"events": events, "items": items.count(), "synced": items.filter(status="synced").count(),
            "queued_jobs": len(queued_names), "pending_without_job": len(unqueued), "accepted": accepted}


def run_side(app: str, path: str, env: dict, port: int, ids: list[str], args) -> dict:
    web = h.start_web(port, env, app=app)
    try:
        h.wait_http(f"http://127.0.0.1:{port}/health")
        h.send_load(f"http://127.0.0.1:{port}{path}", ids[:20], args.concurrency, 60)  # warm every thread
        return summarize(h.send_load(f"http://127.0.0.1:{port}{path}", ids[20:], args.concurrency, args.max_seconds))
    finally:
        h.stop(web)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--max-seconds", type=float, default=300, help="each load stops after this long")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    with h.embedded_default(args.latency_ms, workouts=args.deliveries + 20) as (fakes, env, port):
        ids = h.workout_ids(fakes["hevy"])
        worker = h.start_worker(env)
        try:
            fitsync = run_side("fitsync.wsgi", "/webhooks/hevy/", env, port, ids, args)
            fitsync["commit"] = committed_check(fitsync["statuses"].get("200", 0) + 20)
            baseline = run_side("bench.baseline_app.wsgi", "/bench/inline/hevy/", env, port, ids, args)
            fitsync["worker_synced_by_end"] = h_synced()
        finally:
            h.stop(worker)
    baseline["written"] = len(fakes["intervals"].activities(h.BASELINE_ATHLETE))
    report = render(fitsync, baseline, args)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


def h_synced() -> int:
    from fitsync.models import SyncItem

    return SyncItem.objects.filter(route="hevy_intervals", status="synced").count()


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def render(f: dict, b: dict, args) -> str:
    ratio = f["per_s"] / b["per_s"]
    c = f["commit"]
    committed = c["events"] == c["items"] == c["accepted"] and c["pending_without_job"] == 0
    row = "| {name} | {sent} | {statuses} | {p50:.1f} | {p99:.1f} | {max:.1f} | {per_s:.0f} |"
    return "\n".join([
        HEADING, "",
        f"Command: `.venv/bin/python bench/webhook_ack.py --deliveries {args.deliveries} --concurrency "
        f"{args.concurrency} --latency-ms {args.latency_ms:g} --write-results`",
        f"Machine: {h.machine()}", "",
        f"gunicorn `--workers 2 --threads 4` (gthread), SQLite file (WAL, IMMEDIATE, busy timeout), ORM broker, "
        f"qcluster with 2 workers running throughout; {args.concurrency} concurrent keep-alive senders in their own "
        f"process, {args.latency_ms:g} ms added to every upstream request; 20 warm-up deliveries first, not counted. "
        "All of it shares the 2 cores.", "",
        "| endpoint | deliveries | answers | p50 ms | p99 ms | max ms | deliveries/s |",
        "|---|---:|---|---:|---:|---:|---:|",
        row.format(name="fitsync `/webhooks/hevy/`", **f),
        row.format(name="inline baseline (Hevy GET + Intervals.icu POST in the request)", **b), "",
        f"- p50 {f['p50']:.1f} ms (R1 <= {TARGET_P50_MS}): {verdict(f['p50'] <= TARGET_P50_MS)}; "
        f"p99 {f['p99']:.1f} ms (<= {TARGET_P99_MS}): {verdict(f['p99'] <= TARGET_P99_MS)}; "
        f"max {f['max']:.0f} ms (<= {TARGET_MAX_MS}): {verdict(f['max'] <= TARGET_MAX_MS)}",
        f"- throughput {ratio:.1f}x the baseline (>= {TARGET_RATIO}x): {verdict(ratio >= TARGET_RATIO)}",
        f"- committed before acknowledged: {c['accepted']} acknowledged, {c['events']} events, {c['items']} items, "
        f"{c['pending_without_job']} pending items without a queued job: {verdict(committed)}",
        f"- worker busy: {c['synced']} items synced while the fitsync load ran, "
        f"{f['worker_synced_by_end']} by the end of the baseline run; the baseline wrote {b['written']} activities",
        "",
    ])


if __name__ == "__main__":
    main()
