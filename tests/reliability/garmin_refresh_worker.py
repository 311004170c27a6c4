"""A separate process that needs a Garmin token about to expire: the multi-process refresh race.

Run as `python tests/reliability/garmin_refresh_worker.py <account_id> <start_at>` with DATABASE_URL
pointing at the test database and the GARMIN_* URLs at a sandbox server. Reads today's weigh-ins once
and prints the DI token it ended up with.
"""

import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitsync.settings")


def main(account_id: int, start_at: float) -> None:
    import django

    django.setup()
    from fitsync.models import ConnectedAccount
    from integrations.garmin import client
    from integrations.garmin.session import garmin_session

    account = ConnectedAccount.objects.get(pk=account_id)
    time.sleep(max(0.0, start_at - time.time()))  # every process starts the race at the same moment
    with garmin_session(account) as garmin:
        client.weigh_ins_between(garmin, date.today(), date.today())
        print(garmin.client.di_token, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
