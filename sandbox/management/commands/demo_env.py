"""Point an env file at the sandbox: upstream base URLs, demo Withings app, DEBUG and FITSYNC_SANDBOX.

Lines for other keys (SECRET_KEY, FIELD_ENCRYPTION_KEYS ...) are kept as they are; keys it sets are
replaced in place or appended. Run by `./fitsync.sh demo` on data/demo/.env before anything else; the
demo's FITSYNC_DATA_DIR (data/demo/) keeps its database apart from the real one.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from fitsync.private_files import write_private
from sandbox.garmin_sso import DI_TOKEN_PATH
from sandbox.registry import DEMO_WITHINGS_CLIENT_ID, DEMO_WITHINGS_CLIENT_SECRET

HEADER = "# Sandbox upstreams for the demo (written by manage.py demo_env)"


def demo_values(sandbox_url: str, site_url: str, data_dir: Path | None = None) -> dict[str, str]:
    root = sandbox_url.rstrip("/")
    garmin = f"{root}/garmin"  # one fake answers for every Garmin host
    return {
        **({"FITSYNC_DATA_DIR": str(data_dir.resolve())} if data_dir else {}),
        "HEVY_API_URL": f"{root}/hevy",
        "INTERVALS_API_URL": f"{root}/intervals",
        "WITHINGS_API_URL": f"{root}/withings",
        "WITHINGS_ACCOUNT_URL": f"{root}/withings",
        "WITHINGS_CLIENT_ID": DEMO_WITHINGS_CLIENT_ID,
        "WITHINGS_CLIENT_SECRET": DEMO_WITHINGS_CLIENT_SECRET,
        "GARMIN_SSO_URL": garmin,
        "GARMIN_CONNECTAPI_URL": garmin,
        "GARMIN_CONNECT_URL": garmin,
        "GARMIN_DI_TOKEN_URL": garmin + DI_TOKEN_PATH,
        "SITE_URL": site_url.rstrip("/"),
        "FITSYNC_SANDBOX": "1",
        "DEBUG": "1",
        # The Garmin fake serves only the mobile sign-in; other strategies would wait out anti-bot pauses.
        "GARMIN_LOGIN_STRATEGIES": "mobile+cffi,mobile+requests",
    }


def update_env_text(text: str, values: dict[str, str]) -> str:
    """`text` with each KEY=... line of `values` replaced, and the missing keys appended."""
    lines, seen = [], set()
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().removeprefix("export ").strip() if "=" in line else ""
        if key in values and not line.lstrip().startswith("#"):
            if key not in seen:
                lines.append(f"{key}={values[key]}")
            seen.add(key)  # a second line for the same key would override ours: drop it
            continue
        lines.append(line)
    missing = [key for key in values if key not in seen]
    if missing:
        if HEADER not in lines:
            lines += ["", HEADER] if lines and lines[-1] != "" else [HEADER]
        lines += [f"{key}={values[key]}" for key in missing]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Add or update the sandbox settings in an env file, keeping its secrets."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8765")
        parser.add_argument("--site-url", default="http://127.0.0.1:8000")
        parser.add_argument("--data-dir", type=Path, help="the demo's own data directory (its database)")

    def handle(self, *args, path: Path, sandbox_url: str, site_url: str, data_dir: Path | None, **options):
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        write_private(path, update_env_text(existing, demo_values(sandbox_url, site_url, data_dir)))
        self.stdout.write(f"{path}: fitsync now talks to the sandbox at {sandbox_url.rstrip('/')}")
