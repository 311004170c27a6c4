"""Serve fake upstreams over real HTTP on 127.0.0.1, each under its own path prefix.

One server can mount several fakes: `SandboxServer({"hevy": hevy, "intervals": intervals})` serves
the Hevy fake at `<url>/hevy` and Intervals.icu at `<url>/intervals`, so every upstream base URL
setting can point at one port. Used by the demo (`manage.py sandbox_serve`) and end-to-end tests.
"""

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .core import Blackhole, ConnectionReset, FakeService, Request, Response, text_response

BLACKHOLE_SECONDS = 300


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def _serve(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service, path = self.server.resolve(url.path)
        if service is None:
            return self._send(text_response("no such sandbox service", 404))
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, path, url.query, headers, body)
        try:
            response = service.handle(request)
        except ConnectionReset:
            return self._reset()
        except Blackhole:
            time.sleep(BLACKHOLE_SECONDS)
            return self._reset()
        self._send(response, head=self.command == "HEAD")

    def _send(self, response: Response, head: bool = False):
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if not head:
            self.wfile.write(response.body)

    def _reset(self):
        # SO_LINGER with a zero timeout makes close() send a TCP RST: a real "connection reset".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, mounts: dict[str, FakeService]):
        super().__init__(address, _Handler)
        self.mounts = mounts

    def resolve(self, path: str) -> tuple[FakeService | None, str]:
        for prefix, service in self.mounts.items():
            root = "/" + prefix.strip("/") if prefix.strip("/") else ""
            if path == root or path.startswith(root + "/"):
                return service, path[len(root) :] or "/"
        return None, path


class SandboxServer:
    """A running HTTP server in a background thread; use as a context manager or start()/stop()."""

    def __init__(self, mounts: dict[str, FakeService], host: str = "127.0.0.1", port: int = 0):
        self._server = _Server((host, port), mounts)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, prefix: str) -> str:
        return f"{self.url}/{prefix.strip('/')}" if prefix.strip("/") else self.url

    def start(self) -> "SandboxServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
