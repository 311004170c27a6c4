"""The Hevy -> FIT exercise table: every entry exists in both FIT profiles, and the lookup order holds."""

import pytest
from fit_tool.profile import profile_type
from garmin_fit_sdk import Profile

from integrations.garmin.exercises import FitExercise, exercise_for, exercise_table, template_titles
from integrations.garmin.fit_profile import category_number, exercise_names, is_fit_exercise, name_number
from sandbox.workouts import FINISHERS, LEGS, PULL, PUSH

SDK_TYPES = Profile["types"]


def sdk_name_number(category: str, name: str) -> int:
    """The number Garmin's own SDK profile gives the name (its types map number -> name)."""
    numbers = {value: int(key) for key, value in SDK_TYPES[f"{category}_exercise_name"].items()}
    return numbers[name]


def test_the_table_covers_hevys_public_template_list():
    table = exercise_table()
    assert len(table) == len(template_titles()) >= 429
    assert table["79D0BB3A"] == FitExercise("bench_press", "barbell_bench_press")
    assert template_titles()["50C613D0"] == "Farmers Walk"


def test_every_entry_is_in_fit_tools_and_garmins_profile_with_the_same_numbers():
    sdk_categories = {name: int(number) for number, name in SDK_TYPES["exercise_category"].items()}
    wrong = []
    for template_id, exercise in exercise_table().items():
        try:
            same = category_number(exercise.category) == sdk_categories[exercise.category]
            if exercise.name is not None:
                fit_tool = name_number(exercise.category, exercise.name)
                same = same and fit_tool == sdk_name_number(exercise.category, exercise.name)
        except KeyError:
            same = False
        if not same:
            wrong.append((template_id, exercise))
    assert wrong == []


def test_every_generated_exercise_is_found_by_its_template_id():
    generated = [e for split in (PUSH, PULL, LEGS) for group in split.values() for e in group] + FINISHERS
    for exercise in generated:
        assert exercise_for(exercise.template_id, exercise.title).matched_by == "template", exercise.title


def test_an_override_wins_but_only_when_the_profile_has_it():
    overrides = {"79D0BB3A": ("bench_press", "smith_machine_bench_press"), "C6272009": ("deadlift", "no_such_lift")}
    assert exercise_for("79D0BB3A", "Bench Press (Barbell)", overrides) == FitExercise(
        "bench_press", "smith_machine_bench_press", "override"
    )
    assert exercise_for("C6272009", "Deadlift (Barbell)", overrides).matched_by == "template"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Squat (Barbell)", FitExercise("squat", "barbell_back_squat", "title")),  # an id we do not know
        ("paused  bench press", FitExercise("bench_press", None, "keyword")),
        ("Landmine Press (Half Kneeling)", FitExercise("shoulder_press", None, "keyword")),
        ("Bulgarian Split Squat Pause", FitExercise("lunge", None, "keyword")),
        ("Cable Upright Row", FitExercise("shrug", None, "keyword")),
        ("Glute Kickback Cable", FitExercise("hip_stability", None, "keyword")),
        ("Suitcase Carry", FitExercise("carry", None, "keyword")),
        ("Sandbag Shouldering", FitExercise("total_body", None, "generic")),
        ("", FitExercise("total_body", None, "generic")),
    ],
)
def test_unknown_templates_fall_back_to_title_keywords_then_total_body(title, expected):
    assert exercise_for("not-a-hevy-id", title) == expected


def test_every_keyword_category_is_a_fit_category():
    from integrations.garmin.exercises import KEYWORD_CATEGORIES

    assert all(is_fit_exercise(category, None) for _, category in KEYWORD_CATEGORIES)


def test_profile_names_read_both_spellings_of_names_starting_with_a_digit():
    assert name_number("plank", "45_degree_plank") == name_number("plank", "n45_degree_plank") == 0
    assert "45_degree_plank" in exercise_names("plank")
    assert not is_fit_exercise("plank", "levitation") and not is_fit_exercise("juggling", None)
    assert len(exercise_names("bench_press")) == len(profile_type.BenchPressExerciseName)
