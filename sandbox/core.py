"""The framework-free core every fake upstream is built on.

A fake is a `FakeService`: routes (method + path regex -> handler), state of its own, a ledger of
every call it received and a scripted fault plan. Adapters in `server.py` (real HTTP on 127.0.0.1)
and `mock.py` (`responses` callbacks for unit tests) turn their requests into `Request` objects.
"""

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qs


class ConnectionReset(Exception):
    """Raised by a fault: the adapter drops the connection without an answer."""


class Blackhole(Exception):
    """Raised by a fault: the adapter never answers (until the client gives up)."""


@dataclass
class Request:
    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.query_string, keep_blank_values=True).items()}

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        text = self.body.decode("utf-8", "replace")
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def params(self) -> dict[str, str]:
        """Query and form parameters together (form wins), as Withings reads them."""
        return {**self.query, **self.form()}

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(data).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


def json_body(request: Request):
    """The request's JSON body, or None when it is not JSON."""
    try:
        return request.json()
    except ValueError:
        return None


def text_response(text: str, status: int = 200, content_type: str = "text/plain") -> Response:
    return Response(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


@dataclass
class Fault:
    """One scripted misbehaviour, applied to the next `times` matching calls.

    status: answer with this HTTP status (body from `body`, or a service-shaped error).
    delay: sleep this many seconds before answering (a read timeout when long enough).
    reset: drop the connection. blackhole: never answer.
    retry_after: value of the Retry-After header (seconds as int, or an HTTP date string).
    body_status: Withings-style status inside an HTTP 200 JSON body.
    body: raw body to send instead of the normal one (e.g. malformed JSON).
    location: the Location header, for a redirect (status 301/302/303/307/308).
    """

    path: str = ""  # regex searched in the path; "" matches every call
    method: str = ""
    times: int = 1
    status: int | None = None
    delay: float = 0.0
    reset: bool = False
    blackhole: bool = False
    retry_after: int | str | None = None
    body_status: int | None = None
    body: bytes | None = None
    location: str = ""

    def matches(self, request: Request) -> bool:
        if self.method and self.method.upper() != request.method:
            return False
        return not self.path or re.search(self.path, request.path) is not None


@dataclass
class LedgerEntry:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    status: int | None = None
    at: float = field(default_factory=time.time)

    def json(self):
        return json.loads(self.body.decode())

    def form(self) -> dict[str, str]:
        return Request(self.method, self.path, body=self.body).form()


Handler = Callable[..., Response]


class SlidingWindow:
    """A hidden per-second limit: at most `limit` requests admitted within any 1 s. Refused requests do
    not count, so a client that backs off recovers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.admitted: deque[float] = deque()

    def admit(self, limit: int | None, now: float) -> bool:
        if not limit:
            return True
        with self.lock:
            while self.admitted and now - self.admitted[0] >= 1.0:
                self.admitted.popleft()
            if len(self.admitted) >= limit:
                return False
            self.admitted.append(now)
            return True


class FakeService:
    """Base class: subclasses declare `name` and register routes in `__init__` with `self.route`."""

    name = "fake"

    def __init__(self):
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.ledger: list[LedgerEntry] = []
        self.faults: list[Fault] = []
        self.latency = 0.0  # seconds added to every call (benchmarks)

    # --- set-up -------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def add_fault(self, **kwargs) -> Fault:
        fault = Fault(**kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    # --- inspection ---------------------------------------------------------------------------
    def calls(self, method: str = "", path: str = "") -> list[LedgerEntry]:
        """Ledger entries whose method equals `method` and whose path matches the regex `path`."""
        with self.lock:
            return [
                e
                for e in self.ledger
                if (not method or e.method == method.upper()) and (not path or re.search(path, e.path))
            ]

    def clear_ledger(self) -> None:
        with self.lock:
            self.ledger.clear()

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        entry = LedgerEntry(request.method, request.path, request.query, dict(request.headers), request.body)
        with self.lock:
            self.ledger.append(entry)
        if self.latency:
            time.sleep(self.latency)
        response = self._apply_fault(request) or self._dispatch(request)
        entry.status = response.status
        return response

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(request):
                    fault.times -= 1
                    return fault
        return None

    def _apply_fault(self, request: Request) -> Response | None:
        fault = self._take_fault(request)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.reset:
            raise ConnectionReset()
        if fault.blackhole:
            raise Blackhole()
        if fault.body_status is not None:
            return self.body_status_response(fault.body_status)
        if fault.status is None and fault.body is None:
            return None  # a pure delay: answer normally afterwards
        response = self.error_response(fault.status or 200, "Injected fault")
        if fault.body is not None:
            response.body = fault.body
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        if fault.location:
            response.headers["Location"] = fault.location
        return response

    def _dispatch(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if not match:
                continue
            allowed = True
            if method == request.method or (method == "GET" and request.method == "HEAD"):
                return handler(request, **match.groupdict())
        if allowed:
            return self.error_response(405, "Method Not Allowed")
        return self.error_response(404, "Not Found")

    # --- error shapes (services override to speak their upstream's dialect) ----------------------
    def error_response(self, status: int, message: str) -> Response:
        return json_response({"status": status, "error": message}, status)

    def body_status_response(self, status: int) -> Response:
        return json_response({"status": status, "body": {}, "error": "Injected fault"})
