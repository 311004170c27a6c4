"""Whether a service on the internet can deliver webhooks to SITE_URL, judged from the URL alone.

No DNS lookup and no request: the page that asks is rendering, and an address's reachability from
outside cannot be proven from inside anyway. What can be seen is enough for the usual mistakes: a
loopback or private address, a name only the local network knows, or plain http.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

LOCAL_SUFFIXES = (".localhost", ".local", ".lan", ".home", ".internal", ".home.arpa", ".localdomain")


def unreachable_reason(site_url: str | None = None) -> str:
    """Why the internet cannot deliver to SITE_URL, in plain words, or "" when nothing says so."""
    parts = urlsplit(site_url or settings.SITE_URL)
    host = (parts.hostname or "").lower()
    if is_local_host(host):
        return f"SITE_URL ({parts.scheme}://{parts.netloc}) is an address only this machine or network can reach"
    if parts.scheme != "https":
        return f"SITE_URL ({parts.scheme}://{parts.netloc}) is plain http; webhook senders want https"
    return ""


def is_local_host(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return not host or host == "localhost" or "." not in host or host.endswith(LOCAL_SUFFIXES)
    return not address.is_global
