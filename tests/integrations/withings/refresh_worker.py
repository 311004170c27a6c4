"""A separate process that needs a Withings access token: the multi-process refresh race.

Run as `python tests/integrations/withings/refresh_worker.py <account_id> <start_at>` with
DATABASE_URL pointing at the test database and WITHINGS_API_URL at a sandbox server. Prints the
access token it ended up with, after using it once for getmeas.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitsync.settings")


def main(account_id: int, start_at: float) -> None:
    import django

    django.setup()
    from fitsync.models import ConnectedAccount
    from integrations.withings import auth, client, mapping

    account = ConnectedAccount.objects.get(pk=account_id)
    time.sleep(max(0.0, start_at - time.time()))  # every process starts the race at the same moment
    token = auth.access_token(account)
    auth.with_token(account, lambda t: client.get_measures(t, mapping.MEASTYPES, lastupdate=0))
    print(token, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
