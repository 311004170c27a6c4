"""Footprint: memory of the web server and the worker at idle and under the webhook load, installed size,
cold start to the first answered request.

gunicorn and qcluster as `fitsync.sh run` starts them (2 web workers x 4 threads, 2 queue workers) on the
embedded default (SQLite file, ORM broker), against the sandbox. Memory is summed over each process tree
(master and children): RSS as the kernel reports it, and PSS, which splits pages shared between the
forked processes and so is what the tree really costs. "Under load" is the maximum seen while
bench/webhook_ack.py's load runs (20 concurrent senders) and the worker syncs what it queues.

    .venv/bin/python bench/footprint.py [--deliveries 2000] [--write-results]
"""

import argparse
import importlib.metadata
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

HEADING = "## Footprint"


def runtime_distributions() -> set[str]:
    """requirements.txt and everything it pulls in, as installed in this virtualenv."""
    wanted = [
        re.split(r"[=<>\[ ;]", line)[0]
        for line in (h.ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    ]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                wanted.append(re.split(r"[=<>!~\[ ;(]", requirement)[0])
    return seen


def installed_mb() -> tuple[float, float]:
    """(whole .venv as `du` counts it, the runtime packages' files alone) in MB."""
    venv = Path(sys.prefix)
    whole = int(subprocess.run(["du", "-sk", str(venv)], capture_output=True, text=True).stdout.split()[0]) / 1024
    size = 0
    for name in runtime_distributions():
        for file in importlib.metadata.distribution(name).files or []:
            path = Path(file.locate())
            if path.is_file():
                size += path.stat().st_size
    return whole, size / 1024 / 1024


class Sampler(threading.Thread):
    """Largest (RSS, PSS) of each process tree, sampled every 0.25 s until stopped."""

    def __init__(self, pids: dict[str, int]):
        super().__init__(daemon=True)
        self.pids, self.peak, self.halt = pids, {k: (0.0, 0.0) for k in pids}, threading.Event()

    def run(self):
        while not self.halt.wait(0.25):
            for name, pid in self.pids.items():
                rss, pss = h.memory_mb(pid)
                self.peak[name] = (max(self.peak[name][0], rss), max(self.peak[name][1], pss))


def measure(env: dict, port: int, ids: list[str], fakes: dict) -> dict:
    started = time.monotonic()
    web = h.start_web(port, env)
    try:
        cold_web = h.wait_http(f"http://127.0.0.1:{port}/webhooks/hevy/", timeout=60)
        clock = h.intervals_clock(fakes["intervals"])
        started = time.monotonic()
        worker = h.start_worker(env)
        try:
            h.send_load(f"http://127.0.0.1:{port}/webhooks/hevy/", ids[:1], 1, 30)
            first_job = clock.wait(ids[0], 60)
            cold_worker = first_job - (time.time() - (time.monotonic() - started)) if first_job else float("nan")
            h.send_load(f"http://127.0.0.1:{port}/webhooks/hevy/", ids[1:21], 4, 30)  # warm every thread
            h.wait_until(lambda: len(clock.done) >= 21, 60)
            time.sleep(3)
            pids = {"web": web.pid, "worker": worker.pid}
            idle = {name: h.memory_mb(pid) for name, pid in pids.items()}
            sampler = Sampler(pids)
            sampler.start()
            load = h.send_load(f"http://127.0.0.1:{port}/webhooks/hevy/", ids[21:], 20, 300)
            time.sleep(2)  # the worker keeps syncing the backlog
            sampler.halt.set()
            sampler.join()
        finally:
            h.stop(worker)
    finally:
        h.stop(web)
    return {
        "cold_web": cold_web,
        "cold_worker": cold_worker,
        "idle": idle,
        "peak": sampler.peak,
        "delivered": load["statuses"].get("200", 0),
        "processes": {"web": 3, "worker": "1 + 2 workers"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    with h.embedded_default(args.latency_ms, workouts=args.deliveries + 21) as (fakes, env, port):
        result = measure(env, port, h.workout_ids(fakes["hevy"]), fakes)
    result["venv_mb"], result["runtime_mb"] = installed_mb()
    report = render(result, args)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


def render(r: dict, args) -> str:
    def row(name, key, label):
        (irss, ipss), (prss, ppss) = r["idle"][key], r["peak"][key]
        return f"| {name} | {label} | {irss:.0f} | {ipss:.0f} | {prss:.0f} | {ppss:.0f} |"

    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python bench/footprint.py --deliveries {args.deliveries} --write-results`",
            f"Machine: {h.machine()}",
            "",
            "| process tree | processes | idle RSS MB | idle PSS MB | under load RSS MB | under load PSS MB |",
            "|---|---|---:|---:|---:|---:|",
            row("web: gunicorn `--workers 2 --threads 4`", "web", "master + 2 workers"),
            row("worker: `manage.py qcluster` (Q_WORKERS=2)", "worker", "cluster, its monitor/pusher + 2 workers"),
            "",
            f"Under load: {r['delivered']} webhook deliveries from 20 concurrent senders, sampled every 0.25 s.",
            "",
            f"- Installed size: `.venv` {r['venv_mb']:.0f} MB as `du` counts it (with the test tools: pytest, "
            f"hypothesis, Playwright...); the runtime packages of requirements.txt and their dependencies "
            f"{r['runtime_mb']:.0f} MB.",
            f"- Cold start, web: {r['cold_web']:.2f} s from starting gunicorn to the first answered request.",
            f"- Cold start, worker: {r['cold_worker']:.2f} s from starting qcluster to the first webhook's activity "
            "stored at Intervals.icu (50 ms per upstream request included).",
            "",
        ]
    )


if __name__ == "__main__":
    main()
