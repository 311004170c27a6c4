"""The web server and the worker together, until Ctrl-C or SIGTERM (what `./fitsync.sh run` ends with)."""

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fitsync.first_run import health_status, startup_box, take_admin_password
from fitsync.supervisor import STOP_REQUESTED, Supervisor


class Command(BaseCommand):
    help = "Run gunicorn and the django-q2 worker; Ctrl-C stops both within seconds."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port for the web server")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for /health before the box")

    def handle(self, *args, bind: str, wait: float, **options):
        bin_dir = Path(sys.executable).parent
        supervisor = Supervisor(
            {
                # Workers, threads and the access log: gunicorn.conf.py, read from the working directory.
                "web": [str(bin_dir / "gunicorn"), "fitsync.wsgi", "--bind", bind],
                "worker": [sys.executable, "manage.py", "qcluster"],
            },
            cwd=settings.BASE_DIR,
        )
        supervisor.start()
        status = wait_for_health(supervisor, bind, wait)
        if supervisor.is_running():
            self.stdout.write(startup_box(status == 200, take_admin_password()))
            self.stdout.flush()  # to a pipe or a file too, not when the buffer fills
        reason = supervisor.wait()
        killed = supervisor.stop()
        note = f"; killed after the deadline: {', '.join(killed)}" if killed else ""
        if reason != STOP_REQUESTED:
            raise CommandError(f"fitsync stopped: {reason}{note}.")
        self.stdout.write(f"fitsync stopped{note}.")


def wait_for_health(supervisor: Supervisor, bind: str, timeout: float) -> int | None:
    """/health's status once it is 200 (the worker has beaten) or anything but "not yet" (None, 503)."""
    deadline = time.monotonic() + timeout
    status = None
    while supervisor.is_running() and time.monotonic() < deadline:
        status = health_status(bind)
        if status not in (None, 503):
            return status
        time.sleep(0.25)
    return status
