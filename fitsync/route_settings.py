"""A user's options for one route ({name: value}), as the route's destination reads them.

A stand-in until the per-user store of route options lands: nobody has chosen anything yet, so every
route runs on the defaults its own code declares (a destination keeps its option names and defaults in
one dataclass, e.g. `integrations.garmin.strength_destination.StrengthOptions`).
"""


def options_of(owner_id: int, route_name: str) -> dict:
    """The options `owner_id` chose for `route_name`; names missing here take the route's defaults."""
    return {}
