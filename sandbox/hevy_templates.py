"""Hevy's exercise templates as `GET /v1/exercise_templates` lists them, for the Hevy fake.

Fields as Hevy's OpenAPI spec lists them (ExerciseTemplate). The built-in ones are every exercise
`sandbox/workouts.py` generates (their ids and titles are Hevy's, their type is the generator's kind);
the muscle groups and equipment follow Hevy's published list where it gives them and are plausible
otherwise. Each user also has CUSTOM_TEMPLATES, as a person creates them in the app: Hevy gives custom
templates a UUID and `is_custom` true.
"""

from .workouts import FINISHERS, LEGS, PULL, PUSH

# template id -> (primary muscle group, secondary muscle groups, equipment), in Hevy's vocabulary.
DETAILS = {
    "79D0BB3A": ("chest", ("triceps", "shoulders"), "barbell"),  # Bench Press (Barbell)
    "7B8D84E8": ("shoulders", ("triceps",), "barbell"),  # Overhead Press (Barbell)
    "07B38369": ("chest", ("shoulders", "triceps"), "dumbbell"),  # Incline Bench Press (Dumbbell)
    "422B08F1": ("shoulders", (), "dumbbell"),  # Lateral Raise (Dumbbell)
    "94B7239B": ("triceps", (), "machine"),  # Triceps Rope Pushdown
    "6FCD7755": ("chest", ("triceps", "shoulders"), "none"),  # Chest Dip
    "651F844C": ("chest", ("shoulders",), "machine"),  # Cable Fly Crossovers
    "68F8A292": ("triceps", (), "dumbbell"),  # Skullcrusher (Dumbbell)
    "C6272009": ("glutes", ("hamstrings", "lower_back", "traps"), "barbell"),  # Deadlift (Barbell)
    "55E6546F": ("upper_back", ("lats", "biceps"), "barbell"),  # Bent Over Row (Barbell)
    "1B2B1E7C": ("lats", ("biceps", "upper_back"), "none"),  # Pull Up
    "29083183": ("lats", ("biceps",), "none"),  # Chin Up
    "6A6C31A5": ("lats", ("biceps",), "machine"),  # Lat Pulldown (Cable)
    "1DF4A847": ("upper_back", ("lats", "biceps"), "machine"),  # Seated Row (Machine)
    "37FCC2BB": ("biceps", ("forearms",), "dumbbell"),  # Bicep Curl (Dumbbell)
    "7E3BC8B6": ("biceps", ("forearms",), "dumbbell"),  # Hammer Curl (Dumbbell)
    "D04AC939": ("quadriceps", ("glutes", "hamstrings", "lower_back"), "barbell"),  # Squat (Barbell)
    "2B4B7310": ("hamstrings", ("glutes", "lower_back"), "barbell"),  # Romanian Deadlift (Barbell)
    "C7973E0E": ("quadriceps", ("glutes", "hamstrings"), "machine"),  # Leg Press (Machine)
    "11A123F3": ("hamstrings", (), "machine"),  # Seated Leg Curl (Machine)
    "06745E58": ("calves", (), "machine"),  # Standing Calf Raise
    "B537D09F": ("quadriceps", ("glutes", "hamstrings"), "dumbbell"),  # Lunge (Dumbbell)
    "D57C2EC7": ("glutes", ("hamstrings",), "barbell"),  # Hip Thrust (Barbell)
    "C6C9B8A0": ("abdominals", ("shoulders",), "none"),  # Plank
    "F8356514": ("abdominals", (), "none"),  # Hanging Leg Raise
    "0222DB42": ("cardio", (), "machine"),  # Rowing Machine
    "243710DE": ("cardio", (), "machine"),  # Treadmill
    "50C613D0": ("full_body", ("forearms", "traps"), "other"),  # Farmers Walk
}

# Two a person might create: one whose title names a known movement, one whose title names none.
CUSTOM_TEMPLATES = (
    {
        "id": "b7c2e9a4-3f1d-4c5e-9a8b-2d6f0e1c7a35",
        "title": "Landmine Press (Half Kneeling)",
        "type": "weight_reps",
        "primary_muscle_group": "shoulders",
        "secondary_muscle_groups": ["triceps", "chest"],
        "equipment_category": "barbell",
        "is_custom": True,
    },
    {
        "id": "0f4d8e21-6a9b-4c3d-8e7f-5a1b2c3d4e5f",
        "title": "Sandbag Shouldering",
        "type": "weight_reps",
        "primary_muscle_group": "full_body",
        "secondary_muscle_groups": [],
        "equipment_category": "other",
        "is_custom": True,
    },
)


def builtin_templates() -> list[dict]:
    """Every exercise the workout generator uses, once, in Hevy's template shape."""
    exercises = [e for split in (PUSH, PULL, LEGS) for group in split.values() for e in group] + FINISHERS
    return [_template(e.template_id, e.title, e.kind, *DETAILS[e.template_id]) for e in exercises]


def _template(template_id: str, title: str, kind: str, primary: str, secondary: tuple, equipment: str) -> dict:
    return {
        "id": template_id,
        "title": title,
        "type": kind,
        "primary_muscle_group": primary,
        "secondary_muscle_groups": list(secondary),
        "equipment_category": equipment,
        "is_custom": False,
    }
