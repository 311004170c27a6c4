"""What `./fitsync.sh run` shows once fitsync answers: where to go, as whom, and a new password once."""

import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings


def admin_password_file() -> Path:
    """Where `ensure_admin --show-at-start` leaves a generated password until the start-up box shows it."""
    return settings.DATA_DIR / "admin-password"


def take_admin_password() -> str | None:
    """The generated password, read once: the file goes as soon as it is read."""
    path = admin_password_file()
    try:
        password = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path.unlink()
    return password or None


def health_status(bind: str) -> int | None:
    """The status /health answers on `bind` (host:port), None while nothing answers."""
    host, _, port = bind.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]") else host
    request = urllib.request.Request(f"http://{host}:{port}/health", headers={"Host": a_plain_allowed_host()})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code
    except OSError:
        return None


def a_plain_allowed_host() -> str:
    """A host name the site answers to ("*" and ".example.com" are patterns, not names)."""
    return next((host for host in settings.ALLOWED_HOSTS if host and host[0] not in "*."), "localhost")


def startup_box(worker_ok: bool, password: str | None) -> str:
    username = settings.FITSYNC_ADMIN_USERNAME
    lines = [f"fitsync is running: {settings.SITE_URL}/", f"Admin user: {username}"]
    if password:
        lines += [f"Password:   {password}", "  (shown this once: change it under /admin/password_change/)"]
    else:
        lines += ["Password:   the one you set (reset it: ./fitsync.sh manage changepassword " + username + ")"]
    if not worker_ok:
        lines.append("The worker has not reported yet: see /health.")
    lines.append("Ctrl-C stops the web server and the worker.")
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])
