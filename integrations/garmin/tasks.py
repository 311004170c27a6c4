"""django-q2 entry points for Garmin: the account id in (never a password or a token), a short summary out."""

from . import auth, keepalive, login_state


def login(account_id: int) -> str:
    """Run the login the connect page started (the password waits, encrypted, in the credential)."""
    return auth.run_login(account_id)


def resume_login(account_id: int) -> str:
    """Finish a login that waits for its MFA code (the code waits, encrypted, in the credential)."""
    return auth.run_mfa(account_id)


def import_tokens(account_id: int) -> str:
    """Check and store a pasted token file (it waits, encrypted, in the credential)."""
    return auth.run_token_import(account_id)


def keep_signed_in() -> str:
    """Daily: refresh every Garmin sign-in so its 30-day refresh token never runs out unused."""
    return keepalive.keep_all_signed_in()


def wipe_expired_handovers() -> str:
    """Every minute: drop passwords and MFA states the login job did not pick up in time."""
    return f"wiped {login_state.wipe_expired_handovers()} handovers"
