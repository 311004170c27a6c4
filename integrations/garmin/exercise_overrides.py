"""A user's own choices of FIT exercise per Hevy exercise template, kept in the strength route's options.

Stored under `RouteSetting.options["exercise_overrides"]` as {template id: [category, name or null]}, beside
the options form's values (`fitsync.route_settings` changes only the keys a save names). Read back as
`exercises.exercise_for` takes them: {template id: (category, name or None)}; an entry the FIT profile no
longer has (or of a wrong shape) is left out, so the automatic choice applies to it again.
"""

from fitsync import route_settings
from fitsync.routes import ROUTES, Route, resolve

from .fit_profile import categories, is_fit_exercise
from .strength_activity import activity_from_workout

KEY = "exercise_overrides"

Override = tuple[str, str | None]


def strength_route() -> Route:
    """The route whose uploads use the choices: the one the table maps with `activity_from_workout` (a
    service's code never names a route; the table does)."""
    for route in ROUTES.values():
        if resolve(route.mapping) is activity_from_workout:
            return route
    raise LookupError("no route uploads strength activities")


def overrides_of(owner_id: int, route_name: str = "") -> dict[str, Override]:
    """The user's choices for the route (by default the strength route)."""
    stored = route_settings.options_of(owner_id, route_name or strength_route().name).get(KEY)
    if not isinstance(stored, dict):
        return {}
    chosen = {}
    for template_id, pair in stored.items():
        if isinstance(pair, list | tuple) and len(pair) == 2 and is_valid(*pair):
            chosen[str(template_id)] = (pair[0], pair[1])
    return chosen


def is_valid(category, name) -> bool:
    """A category of the profile (not `unknown`), and a name of that category or none."""
    named = name is None or isinstance(name, str)
    return isinstance(category, str) and category in categories() and named and is_fit_exercise(category, name)


def choose(owner, template_id: str, category: str, name: str | None) -> None:
    if not is_valid(category, name):
        raise ValueError(f"{category}/{name} is not an exercise of the FIT profile")
    _change(owner, lambda chosen: {**chosen, template_id: [category, name]})


def forget(owner, template_id: str) -> None:
    """Back to the automatic choice."""
    _change(owner, lambda chosen: {tid: pair for tid, pair in chosen.items() if tid != template_id})


def _change(owner, change) -> None:
    def changed(options: dict) -> dict:
        stored = options.get(KEY)
        return {**options, KEY: change(stored if isinstance(stored, dict) else {})}

    route_settings.change_options(owner, strength_route(), changed)
