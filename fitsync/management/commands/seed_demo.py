"""Create the demo login and say where everything is; run by `./fitsync.sh demo` after the sandbox starts."""

import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from fitsync.demo_guard import DEMO_USERNAME
from sandbox.django_view import sandbox_url_from_settings

DEMO_PASSWORD = DEMO_USERNAME


class Command(BaseCommand):
    help = "Create the fitsync login demo/demo if missing and print how to try the demo."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox-url", default="", help="default: taken from HEVY_API_URL")
        parser.add_argument("--wait", type=float, default=20.0, help="seconds to wait for the sandbox to answer")
        parser.add_argument(
            "--remove", action="store_true", help="delete the demo login and everything it owns (allowed with DEBUG=0)"
        )

    def handle(self, *args, sandbox_url: str, wait: float, remove: bool, **options):
        if remove:
            return self._remove()
        if not settings.DEBUG and not getattr(settings, "FITSYNC_SANDBOX", False):
            raise CommandError("seed_demo creates a demo/demo login: only with DEBUG=1 or FITSYNC_SANDBOX=1.")
        users = get_user_model().objects
        if users.filter(username=DEMO_USERNAME).exists():
            self.stdout.write(f"The fitsync login '{DEMO_USERNAME}' exists.")
        else:
            users.create_user(DEMO_USERNAME, password=DEMO_PASSWORD)
            self.stdout.write(f"Created the fitsync login '{DEMO_USERNAME}' / '{DEMO_PASSWORD}'.")
        root = (sandbox_url or sandbox_url_from_settings()).rstrip("/")
        info = self._demo_info(root, wait)
        self.stdout.write("\n".join(self._instructions(root, info)))

    def _remove(self) -> None:
        """The demo login goes, and with it (on delete cascade) its connected accounts, items and runs."""
        deleted, per_model = get_user_model().objects.filter(username=DEMO_USERNAME).delete()
        if not deleted:
            self.stdout.write(f"No user '{DEMO_USERNAME}' here.")
            return
        counts = ", ".join(f"{count} {label.rsplit('.', 1)[-1]}" for label, count in sorted(per_model.items()))
        self.stdout.write(f"Removed the demo login '{DEMO_USERNAME}' and what it owned: {counts}.")

    def _demo_info(self, root: str, wait: float) -> dict | None:
        """The sandbox's credentials, polling until it answers (it starts alongside this command)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return requests.get(f"{root}/_control/demo", timeout=2).json()
            except (requests.RequestException, ValueError):
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.25)

    def _instructions(self, root: str, info: dict | None) -> list[str]:
        lines = [
            "",
            f"fitsync demo: sign in at {settings.SITE_URL}/accounts/login/ as {DEMO_USERNAME} / {DEMO_PASSWORD}",
            f"Sandbox page (credentials, Garmin MFA code, webhooks, faults): {root}/",
        ]
        if info is None:
            return [*lines, f"  (no sandbox answered at {root} yet: start it with manage.py sandbox_serve --seed)"]
        hevy, intervals, garmin = info["hevy"], info["intervals"], info["garmin"]
        return [
            *lines,
            f"  Hevy API key:        {hevy['api_key']}",
            f"  Intervals.icu:       athlete {intervals['athlete_id']}, API key {intervals['api_key']}",
            f"  Withings:            click 'Allow this app' for {info['withings']['account']}",
            f"  Garmin Connect:      {garmin['email']} / {garmin['password']} (MFA code on the sandbox page)",
            "Hevy → Garmin Connect and Withings → Intervals.icu are off until you turn them on on their cards;",
            "  a new Hevy workout waits for a Garmin watch until its end plus the grace minutes of the route's",
            "  Options (the sandbox page logs a workout a watch recorded too).",
            "",
        ]
