from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The fake upstreams' Django glue (the /sandbox/ mount, the demo commands): installed only when
    FITSYNC_SANDBOX=1, so production never loads it."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox (fake upstreams)"
