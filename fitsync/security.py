"""Who is asking (the client address and scheme, believing X-Forwarded-* only from a trusted proxy),
pages that must not be cached, and keeping secrets out of error reports and logs."""

import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.middleware import csp
from django.utils.cache import add_never_cache_headers
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# The forwarded headers Django reads (SECURE_PROXY_SSL_HEADER, USE_X_FORWARDED_HOST).
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")


# --- the client address --------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]):
    return tuple(ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def trusted_networks():
    entries = settings.TRUSTED_PROXY
    return _networks((entries,) if isinstance(entries, str) else tuple(entries))


def parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    """An address as proxies write it ("1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443"), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def is_trusted_proxy(address: IPv4Address | IPv6Address | None) -> bool:
    return address is not None and any(address in network for network in trusted_networks())


def client_ip(request: HttpRequest) -> str:
    """The one place that decides who is asking (the login lockout uses it too).

    REMOTE_ADDR, unless that is a trusted proxy: then X-Forwarded-For walked from the right, where each
    trusted proxy appended the peer it saw, up to the first address that is not a trusted proxy.
    Entries further left were written by the client and could be forged.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    peer = parse_ip(remote)
    if not is_trusted_proxy(peer):
        return remote
    hops = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            break  # not written by a proxy we trust: the last trusted hop is all we know
        peer = address
        if not is_trusted_proxy(address):
            break
    return str(peer)


class TrustedProxyMiddleware:
    """First in the chain: X-Forwarded-Proto and -Host count only from a trusted proxy.

    Django believes those headers from anyone once SECURE_PROXY_SSL_HEADER / USE_X_FORWARDED_HOST are
    set, so they are dropped from any other peer. From a trusted one only the rightmost value stays:
    the one that proxy wrote.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        trusted = is_trusted_proxy(parse_ip(request.META.get("REMOTE_ADDR", "")))
        for header in FORWARDED_HEADERS:
            value = request.META.pop(header, None)
            if trusted and value and value.split(",")[-1].strip():
                request.META[header] = value.split(",")[-1].strip()
        return self.get_response(request)


# --- headers -------------------------------------------------------------------------------------
def site_policy() -> dict:
    """SECURE_CSP, with form-action also allowing Withings' authorize page: "Connect Withings" posts to
    fitsync, which redirects there, and browsers check form-action on that redirect too."""
    withings = urlsplit(settings.WITHINGS_ACCOUNT_URL)
    policy = dict(settings.SECURE_CSP)
    policy["form-action"] = [*policy.get("form-action", []), f"{withings.scheme}://{withings.netloc}"]
    return policy


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    """Django's, with the site policy built from the settings of the moment (a view may still override it)."""

    def process_response(self, request, response):
        if not hasattr(response, "_csp_config"):
            response._csp_config = site_policy()
        return super().process_response(request, response)


# --- caching -------------------------------------------------------------------------------------
class NoStoreWhenSignedInMiddleware:
    """Nothing shown to a signed-in user is kept by the browser or a proxy: the service pages show
    webhook URLs, secrets and Authorization values, and the rest shows one person's data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


# --- secrets out of error reports and logs -------------------------------------------------------
# The Withings webhook URL carries the account's token: it must not reach a log line or a report.
WEBHOOK_TOKEN_IN_PATH = re.compile(r"(/webhooks/withings/)[^/\s'\"?&]+")


def redact(text: str) -> str:
    return WEBHOOK_TOKEN_IN_PATH.sub(r"\1********", text)


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: frame variables masked by name at any depth (api_key, headers, data, auth
    ... which hold keys and tokens on their way upstream), mappings included, and the webhook token
    masked in the request's paths. Over-masking an error report costs nothing."""

    hidden_settings = re.compile(
        r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|HEADERS|DATA|BODY|JSON|BLOB|CODE", flags=re.IGNORECASE
    )

    def cleanse_setting(self, key, value):
        if isinstance(value, Mapping) and not isinstance(value, dict):
            value = dict(value)  # requests' CaseInsensitiveDict of headers, for one
        return super().cleanse_setting(key, value)

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleanse_setting(name, value)) for name, value in variables]

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        return {key: redact(value) if isinstance(value, str) else value for key, value in meta.items()}


class SecretsExceptionReporter(ExceptionReporter):
    """Django's report with the webhook token masked wherever the request path shows up."""

    def get_traceback_html(self):
        return redact(super().get_traceback_html())

    def get_traceback_text(self):
        return redact(super().get_traceback_text())


class RedactLogFilter(logging.Filter):
    """Masks the webhook token in any log line (Django logs the path of a request that failed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/webhooks/withings/" in message:
            record.msg, record.args = redact(message), ()
        return True
