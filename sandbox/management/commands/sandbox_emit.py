"""Ask a running sandbox (manage.py sandbox_serve) to send a Hevy webhook or a Withings notification."""

import json

import requests
from django.core.management.base import BaseCommand, CommandError

from sandbox.django_view import DEFAULT_SANDBOX_URL, sandbox_url_from_settings

TIMEOUT = 90  # Hevy re-sends up to 3 times, 5 s each plus backoff: the answer can take ~30 s


class Command(BaseCommand):
    requires_system_checks: list = []  # it serves fakes: half-built integrations must not stop it
    help = "Send a Hevy webhook (newest or a new workout) or step on the Withings scale, in a running sandbox."

    def add_arguments(self, parser):
        parser.add_argument("service", choices=["hevy", "withings"])
        parser.add_argument(
            "--sandbox-url", default="", help="default: taken from HEVY_API_URL, else " + DEFAULT_SANDBOX_URL
        )
        hevy = parser.add_argument_group("hevy")
        hevy.add_argument("--new", action="store_true", help="log a new workout first and send its webhook")
        hevy.add_argument(
            "--watch", action="store_true", help="with --new: a Garmin watch recorded the new workout too"
        )
        hevy.add_argument("--workout-id", default="", help="default: the newest workout")
        hevy.add_argument("--url", help="the webhook URL (remembered by the sandbox)")
        hevy.add_argument("--authorization", help="the Authorization value fitsync showed (remembered)")
        parser.add_argument_group("withings").add_argument("--weight-kg", help="default: near the last weigh-in")

    def handle(self, *args, **options):
        root = (options["sandbox_url"] or sandbox_url_from_settings()).rstrip("/")
        body = self._hevy_body(options) if options["service"] == "hevy" else self._withings_body(options)
        url = f"{root}/_control/emit/{options['service']}"
        try:
            response = requests.post(url, json=body, timeout=TIMEOUT)
        except requests.RequestException as error:
            hint = "Start one: manage.py sandbox_serve --seed"
            raise CommandError(f"No sandbox answered at {root} ({error}). {hint}") from None
        if response.status_code != 200:
            raise CommandError(f"The sandbox refused: {response.status_code} {response.text[:300]}")
        data = response.json()
        summary = self._hevy_summary(data) if options["service"] == "hevy" else self._withings_summary(data)
        self.stdout.write("\n".join(summary))
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps(data, indent=2))

    def _hevy_summary(self, data: dict) -> list[str]:
        created = " (new)" if data["created"] else ""
        lines = [f"Hevy webhook for workout {data['workout_id']}{created} -> {data['url']}"]
        if data.get("watch_activity"):
            lines.append(f"  a Garmin watch recorded it too: activity {data['watch_activity']['activityId']}")
        lines += [
            f"  attempt {a['number']}: {a['status'] or a['error']} in {a['elapsed']:.2f} s" for a in data["attempts"]
        ]
        return lines

    def _withings_summary(self, data: dict) -> list[str]:
        lines = [f"Withings weigh-in {data['weight_kg']} kg (group {data['grpid']})"]
        lines += [
            f"  notified {d['callbackurl']}: {d['status'] or d['error']} after {d['attempts']} attempt(s)"
            for d in data["deliveries"]
        ]
        return lines or ["  no subscriber: connect Withings in fitsync first"]

    def _hevy_body(self, options) -> dict:
        body = {"new": options["new"], "watch": options["watch"], "workout_id": options["workout_id"]}
        body |= {key: options[key] for key in ("url", "authorization") if options[key] is not None}
        return body

    def _withings_body(self, options) -> dict:
        return {"weight_kg": options["weight_kg"]} if options["weight_kg"] else {}
