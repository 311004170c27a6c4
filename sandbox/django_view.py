"""The fakes mounted inside fitsync at `/sandbox/` (only when FITSYNC_SANDBOX=1; settings refuse it
with DEBUG off unless FITSYNC_SANDBOX_ALLOW_NON_DEBUG).

The mount keeps its state in this process: under gunicorn with several workers each worker has its
own fakes, so a token issued by one is unknown to the next. That is why the demo runs the fakes as a
separate process (`manage.py sandbox_serve`); this mount suits `runserver` and single-process tests.
"""

import logging
import threading
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt

from .control import mount_table
from .core import Blackhole, ConnectionReset, Request, Response
from .fitsync_link import current_hevy_secret
from .registry import (
    HEVY_WEBHOOK_PATH,
    WITHINGS_CALLBACK_PATH,
    Sandbox,
    build_sandbox,
    default_redirect_uris,
)

log = logging.getLogger(__name__)
MOUNT_ROOT = "/sandbox/"
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"  # manage.py sandbox_serve's default
_lock = threading.Lock()
_state: dict[str, tuple[Sandbox, dict]] = {}


def fitsync_path(url_name: str, fallback: str) -> str:
    """A fitsync URL path by name, or the planned path while that integration is not wired yet."""
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return fallback
    except Exception as error:  # a half-built integration must not keep the sandbox from starting
        log.warning("sandbox: cannot load fitsync's URLs (%s); using %s", error, fallback)
        return fallback


def build_for_fitsync(seed: bool, control_root: str = "/", withings_redirect_uris: list[str] | None = None) -> Sandbox:
    """A sandbox whose Withings app and Hevy webhook point at this fitsync (settings.SITE_URL)."""
    site = settings.SITE_URL
    callback = fitsync_path("withings:callback", WITHINGS_CALLBACK_PATH)
    sandbox = build_sandbox(
        seed,
        site_url=site,
        withings_redirect_uris=withings_redirect_uris or default_redirect_uris(site, callback),
        control_root=control_root,
    )
    sandbox.hevy_webhook.url = site + fitsync_path("hevy:webhook", HEVY_WEBHOOK_PATH)
    sandbox.hevy_secret_lookup = current_hevy_secret  # the demo's webhook works without pasting its secret
    return sandbox


def sandbox_url_from_settings() -> str:
    """The root of the sandbox fitsync talks to, read off HEVY_API_URL (`<root>/hevy`)."""
    hevy = settings.HEVY_API_URL
    return hevy.removesuffix("/hevy") if hevy.endswith("/hevy") else DEFAULT_SANDBOX_URL


def process_sandbox() -> tuple[Sandbox, dict]:
    """This process's seeded sandbox and its mount table, built on first use."""
    with _lock:
        if "default" not in _state:
            sandbox = build_for_fitsync(seed=True, control_root=MOUNT_ROOT)
            _state["default"] = (sandbox, mount_table(sandbox))
        return _state["default"]


def resolve(mounts: dict, path: str):
    """(service, path inside it) for a path below the mount, as SandboxServer resolves it."""
    for prefix, service in mounts.items():
        root = "/" + prefix.strip("/") if prefix.strip("/") else ""
        if path == root or path.startswith(root + "/"):
            return service, path[len(root) :] or "/"
    return None, path


def to_request(request: HttpRequest, path: str) -> Request:
    headers = {key.lower(): value for key, value in request.headers.items()}
    return Request(request.method or "GET", path, request.META.get("QUERY_STRING", ""), headers, request.body)


def to_response(response: Response) -> HttpResponse:
    answer = HttpResponse(response.body, status=response.status)
    for key, value in response.headers.items():
        answer[key] = value
    return answer


@csrf_exempt
@login_not_required
def sandbox_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    _, mounts = process_sandbox()
    service, path = resolve(mounts, "/" + rest)
    if service is None:
        return HttpResponse("no such sandbox service", status=404, content_type="text/plain")
    try:
        return to_response(service.handle(to_request(request, path)))
    except ConnectionReset:
        # WSGI cannot drop a connection: the nearest a proxy in front would say.
        return HttpResponse("connection reset (sandbox fault)", status=502, content_type="text/plain")
    except Blackhole:
        # Hold the request past the client's read timeout, but do not pin a worker for minutes.
        time.sleep(settings.HTTP_READ_TIMEOUT + 1)
        return HttpResponse("no answer (sandbox fault)", status=504, content_type="text/plain")
