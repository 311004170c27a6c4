"""Webhook sender for the benchmarks: N concurrent keep-alive connections, one delivery per workout id.

Each delivery is a Hevy webhook body with a fresh event id. Bounded twice: every id is sent once, and
sending stops after --max-seconds. Prints JSON: per-request latencies (ms), status counts, wall time.

Closed loop (the default): each sender posts its next delivery as soon as the last one is answered, so
the server's throughput sets the pace. Open loop (--rate R): deliveries are due at Poisson arrival times
averaging R per second, whoever of the senders is free takes the next one, and a delivery's latency
counts from when it was due, so time spent waiting for a free sender is counted too.

Requests are written and answers read on plain sockets (HTTP/1.1, Content-Length bodies): on the 2-CPU
bench machine the sender shares the cores with the server it measures, and http.client spent about
four times the CPU per request.

    python bench/loadgen.py http://127.0.0.1:8000/webhooks/hevy/ ids.json --concurrency 20 --authorization S
"""

import argparse
import json
import random
import socket
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

REQUEST = (
    "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAuthorization: {authorization}\r\n"
    "Content-Length: {length}\r\n\r\n"
)


class Connection:
    """One keep-alive connection; reconnects after the server closes it."""

    def __init__(self, host: str, port: int):
        self.address, self.sock, self.buffer = (host, port), None, b""

    def exchange(self, request: bytes) -> int:
        """Send one request, read its whole answer; the HTTP status."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(request)
        head = self._read_until(b"\r\n\r\n")
        status_line, _, header_text = head.partition(b"\r\n")
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(b":") for line in header_text.split(b"\r\n"))
        )
        self._read_exactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return int(status_line.split()[1])

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) == -1:
            self._fill()
        head, self.buffer = self.buffer[:end], self.buffer[end + len(marker) :]
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return body

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def sender(url, work, lock, results, deadline, authorization):
    parts = urlsplit(url)
    connection = Connection(parts.hostname, parts.port)
    head = REQUEST.replace("{path}", parts.path).replace("{host}", parts.netloc)
    head = head.replace("{authorization}", authorization)
    while time.monotonic() < deadline:
        with lock:
            if not work:
                break
            workout_id, due = work.pop()
        body = json.dumps({"id": str(uuid.uuid4()), "payload": {"workoutId": workout_id}}).encode()
        request = head.replace("{length}", str(len(body))).encode() + body
        if due is not None:
            time.sleep(max(0.0, due - time.perf_counter()))
        started = time.perf_counter() if due is None else due
        try:
            status = connection.exchange(request)
        except (OSError, ValueError, IndexError) as exc:
            status = type(exc).__name__
            connection.close()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            results.append((time.time(), elapsed, status))
    connection.close()


def schedule(ids: list[str], rate: float, start: float) -> list[tuple[str, float | None]]:
    """(id, when it is due) in the order senders take them (from the end); no due time in a closed loop."""
    if not rate:
        return [(workout_id, None) for workout_id in reversed(ids)]
    arrivals, due = random.Random(7), start
    timed = []
    for workout_id in ids:
        due += arrivals.expovariate(rate)
        timed.append((workout_id, due))
    return list(reversed(timed))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("ids_file")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--authorization", default="")
    parser.add_argument("--rate", type=float, default=0, help="open loop: deliveries per second (0: closed loop)")
    args = parser.parse_args()
    lock, results = threading.Lock(), []
    deadline = time.monotonic() + args.max_seconds
    started = time.perf_counter()
    work = schedule(json.load(open(args.ids_file)), args.rate, started + 0.05)
    threads = [
        threading.Thread(target=sender, args=(args.url, work, lock, results, deadline, args.authorization))
        for _ in range(args.concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for _, _, status in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    json.dump(
        {
            "wall_s": wall,
            "latencies_ms": [r[1] for r in results],
            "statuses": statuses,
            "finished_at": [r[0] for r in results],
            "unsent": len(work),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
