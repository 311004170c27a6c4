"""Every exercise template Hevy serves maps to a FIT exercise: built-ins by their id, custom ones by fallback."""

from integrations.garmin.exercises import exercise_for
from integrations.garmin.fit_profile import is_fit_exercise
from integrations.hevy.client import HevyClient

from .conftest import HEVY_KEY


def test_the_mapping_covers_every_template_the_sandbox_serves(upstreams, hevy):
    templates = HevyClient(HEVY_KEY).exercise_templates()
    assert templates and any(t.is_custom for t in templates)
    for template in templates:
        exercise = exercise_for(template.id, template.title)
        assert is_fit_exercise(exercise.category, exercise.name)
        if template.is_custom:
            assert exercise.matched_by in {"keyword", "generic"}, template.title
        else:
            assert exercise.matched_by == "template", template.title
    by_title = {t.title: exercise_for(t.id, t.title) for t in templates if t.is_custom}
    assert by_title["Landmine Press (Half Kneeling)"].category == "shoulder_press"
    assert by_title["Sandbag Shouldering"].matched_by == "generic"
