"""django-q2 entry points for Garmin: the account id in (never a password), a short summary out."""

from . import auth


def login(account_id: int) -> str:
    """Run the login the connect page started (the password waits, encrypted, in the credential)."""
    return auth.run_login(account_id)


def resume_login(account_id: int) -> str:
    """Finish a login that waits for its MFA code (the code waits, encrypted, in the credential)."""
    return auth.run_mfa(account_id)
