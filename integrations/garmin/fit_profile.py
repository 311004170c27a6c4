"""Exercise categories and names of the FIT profile, as fit-tool ships it: names in, numbers out.

The FIT `set` message stores an exercise as two numbers, `category` (the `exercise_category` type) and
`category_subtype` (a number from that category's `<category>_exercise_name` type). fitsync keeps the
profile's names (`bench_press`, `barbell_bench_press`) and turns them into numbers only here, so a
name that is not in the profile fails loudly instead of writing some other exercise.
"""

from enum import Enum
from functools import cache

from fit_tool.profile import profile_type


def category_number(category: str) -> int:
    """The `exercise_category` value; KeyError for a category the profile does not have."""
    return profile_type.ExerciseCategory[category.upper()].value


def name_number(category: str, name: str) -> int:
    """The value of `name` in the category's exercise-name type; KeyError when it has no such name."""
    names = _names_type(category)
    if names is None:
        raise KeyError(f"{category} has no exercise names")
    return _member(names, name).value


def is_fit_exercise(category: str, name: str | None) -> bool:
    """Whether the pair exists in the profile (a category alone is valid: Garmin shows the category)."""
    try:
        category_number(category)
        if name is not None:
            name_number(category, name)
    except KeyError:
        return False
    return True


@cache
def categories() -> tuple[str, ...]:
    """Every exercise category of the profile, in its order (not `unknown`, which names no exercise)."""
    return tuple(member.name.lower() for member in profile_type.ExerciseCategory if member.name != "UNKNOWN")


def exercise_names(category: str) -> tuple[str, ...]:
    """Every name of a category, as the profile spells them (for a form that lets the user choose)."""
    names = _names_type(category)
    return tuple(_profile_name(member) for member in names) if names else ()


@cache
def _names_type(category: str) -> type[Enum] | None:
    category_number(category)
    class_name = "".join(part.capitalize() for part in category.split("_")) + "ExerciseName"
    return getattr(profile_type, class_name, None)


def _member(names: type[Enum], name: str) -> Enum:
    # fit-tool prefixes Python-illegal names with "n" (`n45_degree_plank`); Garmin's SDK writes `45_degree_plank`.
    key = name.upper()
    return names[key] if key in names.__members__ else names["N" + key]


def _profile_name(member: Enum) -> str:
    name = member.name.lower()
    return name[1:] if name[:1] == "n" and name[1:2].isdigit() else name
