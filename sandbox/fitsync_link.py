"""What the sandbox reads from the fitsync it serves (the demo's, in the same database): Hevy's webhook secret.

In the demo nobody should have to copy the Authorization value from fitsync's Hevy page into the sandbox's
Hevy settings, as one does with real Hevy: when the sandbox page holds no value of its own, the fake sends
the secret fitsync currently expects (also right after "Make a new webhook secret").
"""

from django.db import DatabaseError


def current_hevy_secret() -> str:
    """The webhook secret of the most recently updated connected Hevy account, or "" when there is none."""
    from fitsync.models import AccountStatus, Credential, Provider

    credentials = Credential.objects.filter(account__provider=Provider.HEVY, account__status=AccountStatus.CONNECTED)
    try:
        return credentials.order_by("-updated_at").values_list("webhook_secret", flat=True).first() or ""
    except DatabaseError:  # fitsync's tables not migrated yet: the demo is still starting
        return ""
