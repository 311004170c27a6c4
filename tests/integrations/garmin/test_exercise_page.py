"""The exercise page: the user's Hevy exercises, the Garmin exercise each becomes, and their own choices.

GIVEN a user with Hevy connected (the Hevy fake behind the HTTP chokepoint: its built-in templates and two
custom ones)
WHEN they open /garmin/exercises/, filter it, choose a Garmin exercise for one and go back to the automatic one
THEN the page shows each template's mapping and how it was found, a choice is stored in the route's options
(beside the options form's values, neither undoing the other), a choice the FIT profile does not have is
refused with a 400 that says why, and a Hevy that is not connected or fails gets a message, never a 500.
"""

import random
import re
from collections import Counter

import pytest

from fitsync import route_settings
from fitsync.routes import ROUTES
from integrations.garmin import exercise_views
from integrations.garmin.exercise_overrides import is_valid, overrides_of
from tests.reliability import hostile

pytestmark = pytest.mark.django_db
HEVY_KEY = "hevy-exercise-page-key"
PAGE = "/garmin/exercises/"
SANDBAG = "0f4d8e21-6a9b-4c3d-8e7f-5a1b2c3d4e5f"  # the fake's custom "Sandbag Shouldering"
LANDMINE = "b7c2e9a4-3f1d-4c5e-9a8b-2d6f0e1c7a35"  # custom "Landmine Press (Half Kneeling)"
BENCH = "79D0BB3A"  # Bench Press (Barbell)


@pytest.fixture
def hevy(mounted_hevy):
    mounted_hevy.add_user(HEVY_KEY)
    return mounted_hevy


@pytest.fixture
def hevy_account(make_account):
    return make_account("hevy", api_key=HEVY_KEY)


def rows(page: str) -> dict[str, tuple[str, str]]:
    """{Hevy title: (Garmin exercise, matched by)} as the table shows them."""
    found = re.findall(
        r'data-label="Hevy exercise">([^<]+?)(?: <span class="badge">custom</span>)?</td>\s*'
        r'<td data-label="Garmin exercise">([^<]+)</td>\s*<td data-label="Matched by"><span[^>]*>([^<]+)</span>',
        page,
    )
    return {title.replace("&#x27;", "'"): (garmin, how.replace("&#x27;", "'")) for title, garmin, how in found}


def test_the_page_lists_every_hevy_template_with_its_garmin_exercise_and_how_it_was_found(
    logged_in, hevy, hevy_account
):
    answer = logged_in.get(PAGE)
    assert answer.status_code == 200
    table = rows(answer.content.decode())
    assert len(table) == 30  # the fake's 28 built-in templates and the user's 2 custom ones
    assert table["Bench Press (Barbell)"] == ("Bench press: Barbell bench press", "Hevy's exercise list")
    assert table["Landmine Press (Half Kneeling)"] == ("Shoulder press (category only)", "A word in the title")
    assert table["Sandbag Shouldering"] == ("Total body (category only)", "No match: generic")
    assert "custom</span>" in answer.content.decode()


def test_the_list_filters_by_title_and_by_how_it_was_matched_and_pages(logged_in, hevy, hevy_account, monkeypatch):
    assert set(rows(logged_in.get(PAGE, {"q": "CURL"}).content.decode())) == {
        "Bicep Curl (Dumbbell)",
        "Hammer Curl (Dumbbell)",
        "Seated Leg Curl (Machine)",
    }
    assert set(rows(logged_in.get(PAGE, {"q": "leg curl"}).content.decode())) == {"Seated Leg Curl (Machine)"}
    assert set(rows(logged_in.get(PAGE, {"how": "generic"}).content.decode())) == {"Sandbag Shouldering"}
    assert logged_in.get(PAGE, {"how": "nonsense"}).status_code == 400

    monkeypatch.setattr(exercise_views, "PAGE_SIZE", 12)
    second = logged_in.get(PAGE, {"page": 2}).content.decode()
    assert len(rows(second)) == 12 and "Page 2 of 3" in second and 'rel="next"' in second
    assert len(hevy.calls("GET", "/v1/exercise_templates")) == 1  # read once, then kept a few minutes


def test_a_choice_is_saved_shown_and_removed(logged_in, user, hevy, hevy_account):
    page = logged_in.get(f"{PAGE}{SANDBAG}/").content.decode()
    assert "Total body (category only)" in page and "No match: generic" in page
    shown = logged_in.post(f"{PAGE}{SANDBAG}/", {"category": "sandbag", "name": "", "show": "1"})
    assert shown.status_code == 200 and 'value="shouldering"' in shown.content.decode()
    assert overrides_of(user.pk) == {}  # showing the names saves nothing
    other = logged_in.post(f"{PAGE}{SANDBAG}/", {"category": "plank", "name": "shouldering", "show": "1"})
    assert other.status_code == 200 and 'role="alert"' not in other.content.decode()  # the old name is no error
    assert logged_in.post(f"{PAGE}{SANDBAG}/", {"category": "nope", "show": "1"}).status_code == 400

    saved = logged_in.post(f"{PAGE}{SANDBAG}/", {"category": "sandbag", "name": "shouldering", "back": "q=sand"})
    assert saved.status_code == 302 and saved["Location"] == f"{PAGE}?q=sand"
    assert overrides_of(user.pk) == {SANDBAG: ("sandbag", "shouldering")}
    listed = logged_in.get(saved["Location"]).content.decode()
    assert rows(listed) == {"Sandbag Shouldering": ("Sandbag: Shouldering", "Your choice")}
    assert "Sandbag Shouldering now becomes Sandbag: Shouldering in Garmin Connect." in listed

    logged_in.post(f"{PAGE}{LANDMINE}/", {"category": "shoulder_press", "name": ""})  # the category alone
    assert overrides_of(user.pk)[LANDMINE] == ("shoulder_press", None)

    removed = logged_in.post(f"{PAGE}{SANDBAG}/automatic/", {"title": "Sandbag Shouldering"})
    assert removed.status_code == 302 and removed["Location"] == PAGE
    assert overrides_of(user.pk) == {LANDMINE: ("shoulder_press", None)}
    assert rows(logged_in.get(PAGE).content.decode())["Sandbag Shouldering"][1] == "No match: generic"


@pytest.mark.parametrize(
    "choice, error",
    [
        ({"category": "sandbag", "name": "barbell_bench_press"}, "“Barbell bench press” is not an exercise in Sandbag"),
        ({"category": "no_such_category", "name": ""}, "Select a valid choice."),
        ({"category": "unknown", "name": ""}, "Select a valid choice."),
        ({"name": "shouldering"}, "This field is required."),
    ],
)
def test_a_choice_the_fit_profile_does_not_have_is_refused(logged_in, user, hevy, hevy_account, choice, error):
    refused = logged_in.post(f"{PAGE}{BENCH}/", choice)
    assert refused.status_code == 400 and error in refused.content.decode()
    assert 'role="alert"' in refused.content.decode()
    assert overrides_of(user.pk) == {}


def test_the_options_form_and_the_exercise_choices_keep_each_other(logged_in, user, hevy, hevy_account):
    route = ROUTES["hevy_garmin"]
    options = logged_in.get(f"/routes/{route.name}/options/").content.decode()
    assert f'href="{PAGE}"' in options  # the route's options page links here
    logged_in.post(f"/routes/{route.name}/options/", {"watch": "merge", "grace_minutes": "12"})
    logged_in.post(f"{PAGE}{BENCH}/", {"category": "bench_press", "name": "close_grip_barbell_bench_press"})
    assert route_settings.options_of(user.pk, route.name)["watch"] == "merge"
    logged_in.post(f"/routes/{route.name}/options/", {"watch": "skip", "grace_minutes": "30"})
    stored = route_settings.options_of(user.pk, route.name)
    assert (stored["watch"], stored["grace_minutes"]) == ("skip", 30)
    assert overrides_of(user.pk) == {BENCH: ("bench_press", "close_grip_barbell_bench_press")}


def test_a_stored_choice_the_profile_no_longer_has_is_ignored(user):
    route_settings.save_options(
        user,
        ROUTES["hevy_garmin"],
        {"exercise_overrides": {"A": ["bench_press", "gone"], "B": "x", "C": ["plank", None]}},
    )
    assert overrides_of(user.pk) == {"C": ("plank", None)}


def test_an_exercise_hevy_does_not_list_is_not_found(logged_in, hevy, hevy_account):
    assert logged_in.get(f"{PAGE}NOTHEVY1/").status_code == 404


def test_without_hevy_the_page_says_connect_it_first(logged_in):
    page = logged_in.get(PAGE)
    assert page.status_code == 200 and "Connect Hevy first" in page.content.decode()
    assert 'href="/hevy/"' in page.content.decode()


@pytest.mark.parametrize(
    "fault, message",
    [
        ({"status": 429, "retry_after": 30}, "Hevy is asking fitsync to slow down"),
        ({"status": 503}, "Hevy did not list your exercises"),
        ({"status": 401}, "Hevy refused fitsync&#x27;s API key"),
    ],
)
def test_when_hevy_fails_the_page_says_so(logged_in, hevy, hevy_account, fault, message):
    hevy.add_fault(path="/v1/exercise_templates", times=10, **fault)
    for path in (PAGE, f"{PAGE}{BENCH}/"):
        page = logged_in.get(path)
        assert page.status_code == 200 and message in page.content.decode()
    hevy.clear_faults()
    assert logged_in.get(PAGE).status_code == 200  # a failure is not kept


def test_reading_the_list_again_asks_hevy_again(logged_in, hevy, hevy_account):
    logged_in.get(PAGE)
    hevy.add_custom_template(HEVY_KEY, "Zercher Carry")
    assert "Zercher Carry" not in rows(logged_in.get(PAGE).content.decode())
    again = logged_in.post(f"{PAGE}reload/", {"back": "q=zercher&evil=https://example.com"})
    assert again["Location"] == f"{PAGE}?q=zercher"
    assert rows(logged_in.get(again["Location"]).content.decode()) == {
        "Zercher Carry": ("Carry (category only)", "A word in the title")
    }


def test_hostile_query_strings_and_forms_get_no_5xx(logged_in, user, hevy, hevy_account):
    logged_in.raise_request_exception = False
    rng, statuses = random.Random(20261201), Counter()
    values = [*hostile.QUERY_VALUES, "override", "generic", "bench_press", "q=a&page=2", "//evil.example", "\x00"]
    for _ in range(100):
        query = hostile.query(rng) | {name: rng.choice(values) for name in ("how", "back") if rng.random() < 0.5}
        statuses[logged_in.get(rng.choice([PAGE, f"{PAGE}{BENCH}/"]), query).status_code] += 1
        form = {name: rng.choice(values) for name in ("category", "name", "show", "back") if rng.random() < 0.6}
        answer = logged_in.post(f"{PAGE}{rng.choice([BENCH, SANDBAG, 'x' * 300])}/", form)
        statuses[answer.status_code] += 1
        if answer.status_code == 302:
            assert answer["Location"].startswith(PAGE), answer["Location"]
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[200] and statuses[400] and statuses[404]
    stored = route_settings.options_of(user.pk, "hevy_garmin").get("exercise_overrides", {})
    assert all(is_valid(*pair) for pair in stored.values())  # only a choice the profile has was ever stored
