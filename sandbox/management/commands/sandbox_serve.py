"""Run the four fake upstreams and the sandbox control page on one port until Ctrl-C."""

import threading

from django.core.management.base import BaseCommand

from sandbox.control import mount_table
from sandbox.django_view import build_for_fitsync
from sandbox.registry import SERVICES
from sandbox.server import SandboxServer


class Command(BaseCommand):
    requires_system_checks: list = []  # it serves fakes: half-built integrations must not stop it
    help = "Serve fake Hevy, Intervals.icu, Withings and Garmin (and the sandbox page) on 127.0.0.1."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument("--seed", action="store_true", help="add the demo users and a year of history")
        parser.add_argument("--latency-ms", type=int, default=0, help="added to every upstream call")
        parser.add_argument(
            "--withings-redirect-uri",
            action="append",
            default=[],
            metavar="URL",
            help="a callback URL to register for the demo Withings app (repeatable; default: SITE_URL's)",
        )

    def handle(self, *args, **options):
        sandbox = build_for_fitsync(options["seed"], withings_redirect_uris=options["withings_redirect_uri"])
        for fake in sandbox.fakes().values():
            fake.latency = options["latency_ms"] / 1000
        server = SandboxServer(mount_table(sandbox), options["host"], options["port"]).start()
        self._announce(server, options["seed"])
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()

    def _announce(self, server: SandboxServer, seeded: bool) -> None:
        self.stdout.write(f"Sandbox on {server.url} ({'demo data seeded' if seeded else 'empty'})")
        for name in SERVICES:
            self.stdout.write(f"  {name:<10} {server.url_for(name)}")
        self.stdout.write(f"  control    {server.url}/  (demo credentials, Garmin MFA code, buttons)")
        self.stdout.write("Ctrl-C stops it.")
        self.stdout.flush()
