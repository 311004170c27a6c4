"""Reach a fake in-process from unit tests: `responses` callbacks in front of `FakeService.handle`.

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, hevy_fake, "https://api.hevyapp.com")

Faults become what `requests` would raise: a reset is a ConnectionError, a blackhole a ReadTimeout.
"""

import re
from urllib.parse import urlsplit

import requests
import responses

from .core import Blackhole, ConnectionReset, FakeService, Request

METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH")


def _to_request(prepared, base_path: str) -> Request:
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):  # a generator or file from a multipart upload
        body = b"".join(body) if hasattr(body, "__iter__") else body.read()
    path = url.path[len(base_path) :] or "/"
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    return Request(prepared.method.upper(), path, url.query, headers, body)


def mount(rsps: responses.RequestsMock, service: FakeService, base_url: str) -> None:
    """Route every request under `base_url` to `service`."""
    base_path = urlsplit(base_url).path.rstrip("/")

    def callback(prepared):
        try:
            response = service.handle(_to_request(prepared, base_path))
        except ConnectionReset:
            raise requests.ConnectionError("Connection reset by peer (sandbox fault)")
        except Blackhole:
            raise requests.ReadTimeout("Read timed out (sandbox blackhole)")
        return response.status, response.headers, response.body

    pattern = re.compile(re.escape(base_url.rstrip("/")) + r"(/.*)?(\?.*)?$")
    for method in METHODS:
        rsps.add_callback(method, pattern, callback=callback)
