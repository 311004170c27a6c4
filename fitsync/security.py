"""Who is asking: the client address, trusting X-Forwarded-For only from the configured proxy."""

from django.conf import settings
from django.http import HttpRequest


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
