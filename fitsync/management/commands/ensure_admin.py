"""Create the first admin user once, from FITSYNC_ADMIN_* settings or with a generated password."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from fitsync.first_run import admin_password_file
from fitsync.private_files import write_private


class Command(BaseCommand):
    help = "Create the admin user named by FITSYNC_ADMIN_USERNAME if it does not exist yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file", type=Path, help="write a generated password to this file (0600), not to the output"
        )
        parser.add_argument(
            "--show-at-start",
            action="store_true",
            help="keep a generated password for the box `manage.py serve` shows once fitsync answers",
        )

    def handle(self, *args, password_file: Path | None = None, show_at_start: bool = False, **options):
        users = get_user_model().objects
        username = settings.FITSYNC_ADMIN_USERNAME
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin user '{username}' exists.")
            return
        password = settings.FITSYNC_ADMIN_PASSWORD or secrets.token_urlsafe(12)
        check_password(password, users.model(username=username, email=settings.FITSYNC_ADMIN_EMAIL))
        users.create_superuser(username, settings.FITSYNC_ADMIN_EMAIL, password)
        if settings.FITSYNC_ADMIN_PASSWORD:
            self.stdout.write(f"Created admin user '{username}' with the password from FITSYNC_ADMIN_PASSWORD.")
        elif show_at_start:
            write_private(admin_password_file(), f"{password}\n")
            self.stdout.write(f"Created admin user '{username}'; its password is shown once fitsync has started.")
        elif password_file:  # a container's output ends up in `docker logs`, kept and shipped around
            write_private(password_file, f"{password}\n")
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user '{username}'; its password is in {password_file} (readable by this user "
                    "only). Read it once, change it under /admin/ and delete the file."
                )
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user '{username}' with password: {password}\n"
                    "This is shown once. Change it under /admin/ or set FITSYNC_ADMIN_PASSWORD before the first run."
                )
            )


def check_password(password: str, user) -> None:
    """The same rules as every other password (AUTH_PASSWORD_VALIDATORS), as a message, not a traceback."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        reasons = "\n".join(f"  - {message}" for message in error.messages)
        raise CommandError(
            f"FITSYNC_ADMIN_PASSWORD is too weak; no admin user was created:\n{reasons}\n"
            "Set a stronger one (or leave it empty to have one generated and printed once)."
        ) from None
