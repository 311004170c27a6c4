"""The web worker's main loop (fitsync/whole_request_worker.py) over real socket pairs: it hands a request
to a thread only when it is whole, and bounds what stalled clients may hold. The thread pool is replaced
by a list of what was handed over; gunicorn's parser then reads each request from the handed buffer."""

import selectors
import socket
import time
from collections import deque
from concurrent.futures import Future

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from fitsync import whole_request_worker
from fitsync.whole_request_worker import WholeRequestWorker


@pytest.fixture
def worker():
    worker = WholeRequestWorker.__new__(WholeRequestWorker)  # no arbiter, no sockets to listen on
    worker.cfg, worker.alive, worker.reads_whole_requests = Config(), True, True
    worker.poller, worker.reading, worker.buffered = selectors.DefaultSelector(), set(), 0
    worker.pending_conns, worker.nr_conns, worker.handed = deque(), 0, []
    worker.enqueue_req = worker.handed.append
    yield worker
    worker.poller.close()


@pytest.fixture
def connect(worker):
    pairs = []

    def connect() -> tuple[TConn, socket.socket]:
        server, client = socket.socketpair()
        conn = TConn(worker.cfg, server, ("127.0.0.1", 40000 + len(pairs)), ("127.0.0.1", 8000))
        worker.nr_conns += 1
        worker.read_request(conn, b"", 5.0)
        pairs.append((server, client))
        return conn, client

    yield connect
    for server, client in pairs:
        server.close()
        client.close()


def pump(worker) -> None:
    """One turn of the worker's loop: every ready connection's callback, as gthread's run() does."""
    for key, _ in worker.poller.select(0.2):
        key.data(key.fileobj)


def send(worker, client: socket.socket, data: bytes) -> None:
    client.sendall(data)
    pump(worker)


def test_a_request_goes_to_a_thread_only_when_whole(worker, connect):
    conn, client = connect()
    head = b"POST /webhooks/hevy/ HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
    for piece in (head[:20], head[20:], b"\r\n", b'{"id": '):
        send(worker, client, piece)
        assert worker.handed == []
    send(worker, client, b'"a"}')
    assert worker.handed == [conn] and worker.buffered == 0 and conn not in worker.reading
    request = next(conn.parser)  # from the handed buffer; the socket is never read again
    assert (request.method, request.path, request.body.read()) == ("POST", "/webhooks/hevy/", b'{"id": "a"}')


def test_pipelined_requests_are_handed_over_one_by_one(worker, connect):
    conn, client = connect()
    send(worker, client, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert next(conn.parser).path == "/a"
    done = Future()
    done.set_result(True)  # the thread answered, keep-alive
    worker.finish_request(conn, done)
    assert worker.handed == [conn, conn] and next(conn.parser).path == "/b"


def test_a_stalled_client_is_closed_at_its_deadline(worker, connect):
    conn, client = connect()
    send(worker, client, b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
    worker.murder_pending()
    assert conn in worker.reading
    conn.deadline = time.monotonic() - 1  # REQUEST_SECONDS later
    worker.murder_pending()
    assert conn not in worker.reading and worker.nr_conns == 0 and worker.buffered == 0
    assert client.recv(10) == b""  # closed, no answer


def test_past_the_buffer_budget_the_client_adding_to_it_gets_503(worker, connect, monkeypatch):
    monkeypatch.setattr(whole_request_worker, "MAX_BUFFERED_BYTES", 1000)
    first, first_client = connect()
    second, second_client = connect()
    send(worker, first_client, b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"x" * 800)
    send(worker, second_client, b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"y" * 800)
    assert second_client.recv(100).startswith(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5")
    assert first in worker.reading and worker.handed == []
    assert worker.buffered == len(first.request_bytes)


def test_a_stopping_worker_closes_idle_connections_and_lets_started_requests_finish(worker, connect):
    idle, _ = connect()
    started, client = connect()
    send(worker, client, b"GET / HTTP/1.1\r\n")
    worker.alive = False
    worker.murder_pending()
    assert idle not in worker.reading and started in worker.reading
    send(worker, client, b"Host: x\r\n\r\n")
    assert worker.handed == [started]
