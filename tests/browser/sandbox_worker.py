"""`manage.py qcluster` for the browser walk, with garminconnect's anti-bot pauses zeroed first.

The pauses (2-20 s per login step) are module constants of `garminconnect.client.sso`; django-q2 forks
its workers from this process, so zeroing them here reaches every worker. Sandbox tests only: production
logins keep them. Run from the project root: `python -m tests.browser.sandbox_worker`.
"""

import os
import sys


def main() -> None:
    from garminconnect.client import sso

    for flow in ("MOBILE", "LOGIN", "WIDGET"):
        setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
        setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitsync.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "qcluster"])


if __name__ == "__main__":
    main()
