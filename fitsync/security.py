"""Who is asking (the client address, trusting X-Forwarded-For only from the configured proxy), and
keeping secrets out of error reports and logs."""

import logging
import re
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the trusted proxy saw when the request came through it.

    The proxy appends the peer it saw to X-Forwarded-For, so the rightmost entry is the one it vouches
    for; anything to its left was sent by the client and could be forged.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUSTED_PROXY or remote != settings.TRUSTED_PROXY:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-1] if forwarded else remote


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
