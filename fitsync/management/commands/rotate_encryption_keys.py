"""Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS.

Rotate: put the new key first (keep the old ones after it), run this, then drop the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from fitsync.models import Credential


class Command(BaseCommand):
    help = "Re-encrypt all secrets with the newest key in FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        fields = Credential.SECRET_FIELDS
        count = 0
        with transaction.atomic():
            # values() decrypts with whichever key fits; update() encrypts again with the first key.
            for row in Credential.objects.values("pk", *fields):
                secrets = {f: row[f] for f in fields if row[f]}
                if secrets:
                    Credential.objects.filter(pk=row["pk"]).update(**secrets)
                    count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} credential(s).")
