"""The upstream failures every role is held to, named as they read in test ids ([hevy-429-retry-after]).

Each adapter scripts a fault in its own service's dialect (an HTTP status, or a status in a 200 body);
the contract is what the engine must make of it.
"""

from dataclasses import dataclass

from fitsync.errors import PermanentError, RateLimited, TransientError


@dataclass(frozen=True)
class Fault:
    name: str
    error: type  # the fitsync.errors class the role must raise
    state: str  # what the engine must then do with the work: retrying or failed
    retry_after: int | None = None  # the Retry-After the upstream sends, seconds


FAULTS = [
    Fault("429-retry-after", RateLimited, "retrying", retry_after=120),
    Fault("429", RateLimited, "retrying"),
    Fault("4xx", PermanentError, "failed"),
    Fault("5xx", TransientError, "retrying"),
]
