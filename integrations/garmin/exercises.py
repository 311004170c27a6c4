"""A Hevy exercise -> the FIT exercise Garmin shows for it (pure; the table is read once).

`exercise_for(template_id, title, overrides)` tries, in order:
1. the user's override for the template id ({template_id: (category, name)}), if the profile has it;
2. Hevy's template id in `exercise_map.json` (every template of Hevy's public list; template ids do
   not change with the app's language, titles do);
3. the exact title of a template in that table (an exercise whose id we do not know);
4. keywords in the title (custom exercises: "Paused Bench" -> bench_press), category only;
5. the generic category `total_body` with no name.

A name of None means the category alone: Garmin then shows the category's label, where a made-up
name would show some other exercise (hevy2garmin#273: subtype 0 of cardio is "Bob and Weave Circle").
Every table entry exists in the FIT profile (tests/integrations/garmin/test_exercises.py).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .fit_profile import is_fit_exercise

TABLE_FILE = Path(__file__).with_name("exercise_map.json")
GENERIC_CATEGORY = "total_body"

# First match wins; the more specific phrases come before the words they contain.
KEYWORD_CATEGORIES: tuple[tuple[str, str], ...] = (
    (r"leg curl|hamstring curl|good morning|nordic", "leg_curl"),
    (r"split squat|lunge", "lunge"),
    (r"squat|leg press|thruster", "squat"),
    (r"deadlift|rdl|rack pull", "deadlift"),
    (r"bench press|chest press|floor press|svend", "bench_press"),
    (r"shoulder press|overhead press|military press|arnold|push press|landmine press", "shoulder_press"),
    (r"pull ?-?ups?|chin ?-?ups?|pulldown|pullover", "pull_up"),
    (r"push ?-?ups?", "push_up"),
    (r"lateral raise|front raise|rear delt|y raise", "lateral_raise"),
    (r"fly|flye|flys|crossover|pec deck", "flye"),
    (r"glute kickback|abduction|adduction|clamshell|fire hydrant", "hip_stability"),
    (r"triceps?|skull ?crusher|pushdown|pressdown|kickback|dips?", "triceps_extension"),
    (r"curl", "curl"),
    (r"shrug|upright row", "shrug"),
    (r"rows?|rowing|erg|face pull", "row"),
    (r"calf|calves", "calf_raise"),
    (r"crunch|ab wheel|rollout", "crunch"),
    (r"sit ?-?ups?|v ?-?ups?", "sit_up"),
    (r"plank|mountain climber", "plank"),
    (r"leg raise|knee raise|toes to bar", "leg_raise"),
    (r"hip thrust|glute bridge|bridge|kettlebell swing", "hip_raise"),
    (r"back extension|hyperextension|superman", "hyperextension"),
    (r"clean|snatch|jerk|high pull", "olympic_lift"),
    (r"farmers?|carry|suitcase", "carry"),
    (r"burpee", "total_body"),
    (r"jump|box|plyo|slam", "plyo"),
    (r"treadmill|run|jog|sprint|walk|hike|hiking", "run"),
    (r"bike|cycling|spinning", "indoor_bike"),
    (r"stretch|mobility|warm ?-?up|yoga", "warm_up"),
    (r"twist|woodchop|chop", "chop"),
    (r"core|hollow|l-sit|dragon flag", "core"),
)


@dataclass(frozen=True)
class FitExercise:
    """A FIT exercise by its profile names; `matched_by` says which rule found it (for the dashboard)."""

    category: str
    name: str | None = None
    matched_by: str = "template"  # override, template, title, keyword, generic


def exercise_for(
    template_id: str, title: str, overrides: Mapping[str, tuple[str, str | None]] | None = None
) -> FitExercise:
    override = (overrides or {}).get(template_id)
    if override and is_fit_exercise(*override):
        return FitExercise(override[0], override[1], "override")
    known = exercise_table().get(template_id)
    if known:
        return known
    by_title = _by_title().get(_normal(title))
    if by_title:
        return FitExercise(by_title.category, by_title.name, "title")
    return _by_keyword(title) or FitExercise(GENERIC_CATEGORY, None, "generic")


@cache
def exercise_table() -> dict[str, FitExercise]:
    """Hevy template id -> FIT exercise, from exercise_map.json."""
    rows = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    return {tid: FitExercise(row["category"], row["name"]) for tid, row in rows.items()}


@cache
def template_titles() -> dict[str, str]:
    """Hevy template id -> Hevy's English title, as the table lists them."""
    rows = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    return {tid: row["title"] for tid, row in rows.items()}


@cache
def _by_title() -> dict[str, FitExercise]:
    table = exercise_table()
    return {_normal(title): table[tid] for tid, title in template_titles().items()}


def _by_keyword(title: str) -> FitExercise | None:
    text = _normal(title)
    for pattern, category in KEYWORD_CATEGORIES:
        if re.search(rf"\b(?:{pattern})\b", text):
            return FitExercise(category, None, "keyword")
    return None


def _normal(title: str) -> str:
    return " ".join(title.casefold().split())
