"""The Hevy client against the fake: shapes accepted, errors classified once, at the edge."""

from datetime import UTC, datetime

import pytest

from fitsync.errors import AuthExpired, NotFound, RateLimited, TransientError
from integrations.hevy.client import HevyClient
from sandbox.hevy_templates import CUSTOM_TEMPLATES, builtin_templates
from tests.conftest import load_fixture

from .conftest import HEVY_KEY


@pytest.fixture
def client(upstreams):
    return HevyClient(HEVY_KEY)


@pytest.mark.parametrize("wrap_single", [False, True])
def test_it_reads_a_workout_bare_or_wrapped(client, hevy, wrap_single):
    hevy.wrap_single = wrap_single
    stored = hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__supersets.json"))
    workout = client.workout(stored["id"])
    assert (workout.title, workout.start, workout.set_count) == (
        "Push A",
        datetime(2024, 5, 14, 15, 42, 7, tzinfo=UTC),
        25,
    )
    assert [e.superset_id for e in workout.exercises] == [None, 0, 0, 1, 1, None]


def test_it_reads_the_legacy_supersets_key(client, hevy):
    hevy.legacy_supersets_key = True
    stored = hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__supersets.json"))
    assert [e.superset_id for e in client.workout(stored["id"]).exercises] == [None, 0, 0, 1, 1, None]


def test_errors_become_the_engines_classes(client, hevy):
    with pytest.raises(NotFound):
        client.workout("00000000-0000-0000-0000-000000000000")
    hevy.add_fault(status=429, retry_after=30)
    with pytest.raises(RateLimited) as limited:
        client.user_info()
    assert limited.value.retry_after == 30
    hevy.add_fault(status=500)
    with pytest.raises(TransientError):
        client.user_info()
    hevy.add_fault(body=b"{not json", status=200)
    with pytest.raises(TransientError):
        client.user_info()
    with pytest.raises(AuthExpired):  # Hevy's 401 is the bare text "InvalidApiKey"
        HevyClient("wrong").user_info()


@pytest.mark.parametrize("page_past_end", ["404", "empty"])
def test_it_pages_workouts_and_reads_past_the_end_as_empty(client, hevy, page_past_end):
    hevy.page_past_end = page_past_end
    hevy.add_workouts(HEVY_KEY, [{"title": f"W{n}"} for n in range(12)])
    first = client.workouts_page(1, 10)
    assert (first.page_count, len(first.workouts)) == (2, 10)
    assert client.workouts_page(3, 10).workouts == []


def test_it_reads_updated_and_deleted_events(client, hevy):
    kept = hevy.add_workout(HEVY_KEY, {"title": "Kept"})
    gone = hevy.add_workout(HEVY_KEY, {"title": "Gone"})
    hevy.delete_workout(HEVY_KEY, gone["id"])
    page = client.events_page("1970-01-01T00:00:00Z", 1)
    assert [(e.kind, e.workout_id) for e in page.events] == [("deleted", gone["id"]), ("updated", kept["id"])]
    assert page.events[1].workout.title == "Kept"


@pytest.mark.parametrize("page_past_end", ["404", "empty"])
def test_it_reads_every_page_of_exercise_templates(client, hevy, page_past_end):
    hevy.page_past_end = page_past_end
    served = len(builtin_templates()) + len(CUSTOM_TEMPLATES) + 250
    for n in range(250):  # three pages of 100
        hevy.add_custom_template(HEVY_KEY, f"Custom {n}")
    templates = client.exercise_templates()
    assert len(templates) == len({t.id for t in templates}) == served
    bench = next(t for t in templates if t.id == "79D0BB3A")
    assert (bench.title, bench.type, bench.primary_muscle_group, bench.is_custom) == (
        "Bench Press (Barbell)",
        "weight_reps",
        "chest",
        False,
    )
    assert bench.secondary_muscle_groups == ("triceps", "shoulders")
    assert [t.title for t in templates if t.is_custom][-1] == "Custom 249"
