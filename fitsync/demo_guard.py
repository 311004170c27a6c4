"""With DEBUG=0, refuse a database that holds the demo login (demo/demo, a password everyone knows).

It gets there when the demo ran on the real database (before the demo had its own data/demo/). A database
check: it runs in `manage.py migrate`, which every start runs first (`./fitsync.sh run`, the container's
entrypoint), and in `manage.py check --database default`; not on every command, which need not reach the
database. The demo itself runs with DEBUG=1.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

DEMO_USERNAME = "demo"


@register(Tags.database)
def no_demo_login_in_production(app_configs=None, databases=None, **kwargs):
    if settings.DEBUG or not databases or "default" not in databases:
        return []
    from django.contrib.auth import get_user_model

    try:
        found = get_user_model().objects.filter(username=DEMO_USERNAME).exists()
    except DatabaseError:  # not migrated yet: no users at all
        return []
    if not found:
        return []
    return [
        Error(
            f"The user '{DEMO_USERNAME}' (the demo's login, password '{DEMO_USERNAME}') exists in this database "
            "and DEBUG is off.",
            hint="The demo ran on the real database once. Remove the login and its data with "
            "`./fitsync.sh manage seed_demo --remove` (or in a container: python manage.py seed_demo --remove).",
            id="fitsync.E100",
        )
    ]
