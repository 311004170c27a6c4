"""gunicorn's gthread worker, except that a request is read whole before a thread takes it.

Stock gthread hands a connection to one of its few threads once the first bytes arrive; the thread then
blocks reading the rest of the headers and the body. Eight clients that send headers and stall hold every
thread of 2 workers x 4 threads, and nothing else is answered while they stay. Here the worker's main
loop (the selector that already watches idle keep-alive connections) also reads requests, without
blocking, until the headers and the whole announced body are in; only then does a thread run the app, on
bytes already in memory. A stalled client costs a socket and what it sent, never a thread.

Bounds: headers within MAX_HEADER_BYTES, a request complete within REQUEST_SECONDS of its first byte, an
idle connection closed after the keep-alive time, and at most MAX_BUFFERED_BYTES held for unfinished
requests per worker (past it, the client adding to them is told 503 and to retry). A body announced over
MAX_REQUEST_BODY, or chunked, is not waited for: the app refuses it unread (fitsync/body_limit.py) and the
connection is closed.
TLS, HTTP/2 and the PROXY protocol (which fitsync never configures) keep gthread's own reading.
"""

import errno
import re
import selectors
import socket
import time
from functools import partial

from gunicorn import util
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import Unreader
from gunicorn.workers.gthread import TConn, ThreadWorker

HEADER_END = b"\r\n\r\n"
MAX_HEADER_BYTES = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024  # settings.MAX_REQUEST_BODY; the worker loads before Django
FIRST_BYTE_SECONDS = 5.0  # gthread's own wait for a new connection's first bytes
REQUEST_SECONDS = 30.0
MAX_BUFFERED_BYTES = 32 * 1024 * 1024
LINGER_SECONDS, LINGER_BYTES = 2.0, 64 * 1024  # gunicorn's graceful close, without blocking the loop
HAND_OVER_NOW = -1
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
TOO_MUCH_HEADER = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
EXPECT_LINE = re.compile(rb"\r\nexpect:[^\r]*", re.IGNORECASE)


def request_length(data: bytes, body_limit: int = MAX_REQUEST_BODY) -> int | None:
    """How many bytes of `data` the request at its start takes (headers and body); None while the headers
    are incomplete; HAND_OVER_NOW when the app must have it before its body (to refuse it: too large,
    chunked) or gunicorn's parser must (to answer 400: a malformed or repeated Content-Length)."""
    end = data.find(HEADER_END)
    if end < 0:
        return None
    lengths = []
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return HAND_OVER_NOW
        if name == b"content-length":
            lengths.append(value.strip())
    if not lengths:
        return end + len(HEADER_END)
    if len(lengths) > 1 or not lengths[0].isdigit() or int(lengths[0]) > body_limit:
        return HAND_OVER_NOW
    return end + len(HEADER_END) + int(lengths[0])


def expects_continue(data: bytes) -> bool:
    head = data[: data.find(HEADER_END) + 2]
    return any(b"100-continue" in match.lower() for match in EXPECT_LINE.findall(head))


class BufferedUnreader(Unreader):
    """A request's bytes, read already: the parser never touches the socket, so a thread never waits on it."""

    def __init__(self, data: bytes):
        super().__init__()
        self.buf.write(data)

    def chunk(self, size_hint=None):
        return b""


class WholeRequestWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading: set[TConn] = set()
        self.buffered = 0  # bytes of unfinished requests held in `reading`
        cfg = self.cfg
        self.reads_whole_requests = not (
            cfg.is_ssl or cfg.proxy_protocol != "off" or cfg.protocol != "http" or cfg.http2_cleartext != "off"
        )

    def accept(self, listener):
        if not self.reads_whole_requests:
            return super().accept(listener)
        try:
            client, address = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking from here
        self.read_request(conn, b"", FIRST_BYTE_SECONDS)

    def read_request(self, conn: TConn, data: bytes, idle_seconds: float) -> None:
        """Read the next request on `conn` in the main loop; `data` is what the client already sent of it."""
        conn.request_bytes, conn.continued, conn.lingering = bytearray(data), False, False
        self.buffered += len(data)
        conn.deadline = time.monotonic() + (REQUEST_SECONDS if data else idle_seconds)
        conn.sock.setblocking(False)
        self.watch(conn, self.on_request_bytes)
        if data:
            self.check_request(conn)

    def on_request_bytes(self, conn: TConn, _sock) -> None:
        chunk = self.receive(conn)
        if chunk is None:
            return
        if not chunk:
            return self.drop(conn)
        if self.buffered + len(chunk) > MAX_BUFFERED_BYTES:
            return self.refuse(conn, BUSY)
        if not conn.request_bytes:
            conn.deadline = time.monotonic() + REQUEST_SECONDS
        conn.request_bytes += chunk
        self.buffered += len(chunk)
        self.check_request(conn)

    def check_request(self, conn: TConn) -> None:
        data = conn.request_bytes
        length = request_length(data)
        if length is None:
            if len(data) > MAX_HEADER_BYTES:
                self.refuse(conn, TOO_MUCH_HEADER)
        elif length == HAND_OVER_NOW:
            self.hand_over(conn, bytes(data), keep_alive=False)
        elif len(data) < length:
            self.send_continue(conn)
        else:
            self.hand_over(conn, bytes(data[:length]), leftover=bytes(data[length:]))

    def send_continue(self, conn: TConn) -> None:
        """Answer `Expect: 100-continue` here: the client may wait for it before sending the body."""
        if conn.continued or not expects_continue(conn.request_bytes):
            return
        conn.continued = True
        try:
            conn.sock.send(CONTINUE)
        except OSError:
            pass

    def refuse(self, conn: TConn, answer: bytes) -> None:
        """Answer from the loop itself (a few bytes: the socket buffer takes them) and close."""
        self.unwatch(conn)
        try:
            conn.sock.send(answer)
        except OSError:
            pass
        self.linger(conn)

    def hand_over(self, conn: TConn, request: bytes, leftover: bytes = b"", keep_alive: bool = True) -> None:
        """Give the request, whole in memory, to a thread; gthread's handle() runs it as usual."""
        self.unwatch(conn)
        if conn.continued:  # answered already; gunicorn would send a second 100
            request = EXPECT_LINE.sub(b"", request, count=1)
        conn.leftover, conn.keep_alive = leftover, keep_alive
        conn.parser = RequestParser(self.cfg, (), conn.client)
        conn.parser.unreader = BufferedUnreader(request)
        conn.initialized = conn.data_ready = True
        self.enqueue_req(conn)

    def handle_request(self, req, conn):
        if self.reads_whole_requests and not conn.keep_alive:
            req.force_close()  # its body stays unread: the connection ends after the answer, and says so
        return super().handle_request(req, conn)

    def finish_request(self, conn: TConn, fs) -> None:
        if not self.reads_whole_requests:
            return super().finish_request(conn, fs)
        try:
            keep_alive = not fs.cancelled() and bool(fs.result()) and conn.keep_alive and self.alive
        except Exception:
            keep_alive = False
        if keep_alive:
            self.read_request(conn, conn.leftover, self.cfg.keepalive)
        else:
            self.linger(conn)

    def linger(self, conn: TConn) -> None:
        """Close as RFC 9112 section 9.6 asks (FIN first, then read until the client closes), in the loop:
        gunicorn's own graceful close waits for the client in the main thread, up to 2 s per connection."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return self.drop(conn, watched=False)
        conn.sock.setblocking(False)
        conn.lingering, conn.drained = True, 0  # not idle: stopping does not cut it short
        conn.deadline = time.monotonic() + LINGER_SECONDS
        self.watch(conn, self.on_linger_bytes)

    def on_linger_bytes(self, conn: TConn, _sock) -> None:
        chunk = self.receive(conn)
        if chunk is None:
            return
        conn.drained += len(chunk)
        if not chunk or conn.drained >= LINGER_BYTES:
            self.drop(conn)

    def murder_pending(self):
        """Also close connections past their deadline, and idle ones when the worker stops."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.reading if c.deadline <= now or not (self.alive or self.busy(c))]:
            self.drop(conn)

    @staticmethod
    def busy(conn: TConn) -> bool:
        """Mid-request or closing: a stopping worker lets it finish (until its deadline)."""
        return bool(conn.request_bytes) or conn.lingering

    def receive(self, conn: TConn) -> bytes | None:
        """Up to 64 KiB from the socket; b"" when it is closed, None when nothing is there after all."""
        try:
            return conn.sock.recv(64 * 1024)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return b""

    def watch(self, conn: TConn, callback) -> None:
        self.reading.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(callback, conn))

    def unwatch(self, conn: TConn) -> None:
        """Stop reading `conn`; what it had buffered no longer counts against the budget."""
        self.buffered -= len(conn.request_bytes)
        conn.request_bytes = bytearray()
        self.reading.discard(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def drop(self, conn: TConn, watched: bool = True) -> None:
        if watched:
            self.unwatch(conn)
        self.nr_conns -= 1
        util.close(conn.sock)
