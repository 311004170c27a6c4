"""Refuse request bodies fitsync never accepts, before reading a byte of them.

fitsync takes forms and webhooks of a few kilobytes and no uploads. A body announced over
settings.MAX_REQUEST_BODY is answered 413, and a chunked one (no length announced) 411: Django reads only
as many bytes as Content-Length says, so a chunked body never reached a view anyway. The server then
closes the connection without reading the body (fitsync/whole_request_worker.py).
"""

from django.conf import settings

REFUSALS = {
    413: ("413 Content Too Large", "fitsync: request bodies are limited to {limit} bytes.\n"),
    411: ("411 Length Required", "fitsync: send the body with a Content-Length, not chunked.\n"),
}


def refusal_status(environ: dict, limit: int) -> int | None:
    """411 or 413 when the request's body must not be read, else None."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return 411
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # gunicorn refuses a malformed length before the app runs; Django reads none
    return 413 if length > limit else None


def limit_request_body(app):
    """The WSGI `app`, answering 411/413 itself for the bodies `refusal_status` refuses."""

    def guarded(environ, start_response):
        limit = settings.MAX_REQUEST_BODY
        status = refusal_status(environ, limit)
        if status is None:
            return app(environ, start_response)
        line, text = REFUSALS[status]
        body = text.format(limit=limit).encode()
        start_response(line, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return guarded
