"""Create the first admin user once, from FITSYNC_ADMIN_* settings or with a generated password."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user named by FITSYNC_ADMIN_USERNAME if it does not exist yet."

    def handle(self, *args, **options):
        users = get_user_model().objects
        username = settings.FITSYNC_ADMIN_USERNAME
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin user '{username}' exists.")
            return
        password = settings.FITSYNC_ADMIN_PASSWORD or secrets.token_urlsafe(12)
        users.create_superuser(username, settings.FITSYNC_ADMIN_EMAIL, password)
        if settings.FITSYNC_ADMIN_PASSWORD:
            self.stdout.write(f"Created admin user '{username}' with the password from FITSYNC_ADMIN_PASSWORD.")
        else:
            self.stdout.write(self.style.WARNING(
                f"Created admin user '{username}' with password: {password}\n"
                "This is shown once. Change it under /admin/ or set FITSYNC_ADMIN_PASSWORD before the first run."
            ))
