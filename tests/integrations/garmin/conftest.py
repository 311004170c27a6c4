from .fixtures import fake, garmin_account, garmin_url  # noqa: F401
