"""Workouts and Weights lists, item detail, and the resync/skip/bulk actions (R11, R12)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.models import ItemStatus, SyncAttempt, SyncItem
from tests.seed import WEIGHTS, WORKOUTS, make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def hevy(make_account):
    return make_account("hevy")


@pytest.fixture
def withings(make_account):
    return make_account("withings")


def item(source_id: str) -> SyncItem:
    return SyncItem.objects.get(source_id=source_id)


def test_it_lists_workouts_newest_first_with_sets_volume_and_destination_link(logged_in, hevy):
    make_items(hevy, WORKOUTS, 30)
    html = logged_in.get("/workouts/").content.decode()
    assert html.index("Workout 0<") < html.index("Workout 1<") < html.index("Workout 24<")
    assert "Workout 25<" not in html and "Page 1 of 2" in html
    # 3 exercises x 4 sets; weights 40..43 kg x reps 5..8
    assert '<td data-label="Sets" class="num">12</td>' in html
    assert 'href="https://intervals.icu/activities/900000"' in html


def test_it_lists_weights_with_weight_and_body_fat(logged_in, withings):
    make_items(withings, WEIGHTS, 2)
    html = logged_in.get("/weights/").content.decode()
    assert '<td data-label="Weight" class="num">80.0 kg</td>' in html
    assert '<td data-label="Body fat" class="num">20.0 %</td>' in html
    assert "/modern/weight" in html and "Upload held weights" in html


def test_it_filters_by_status_date_and_title(logged_in, hevy):
    make_items(hevy, WORKOUTS, 5)
    make_items(hevy, WORKOUTS, 2, start=100, status=ItemStatus.FAILED)
    failed = logged_in.get("/workouts/?status=failed").content.decode()
    assert "Workout 100<" in failed and "Workout 0<" not in failed and "422 invalid activity" in failed
    today = timezone.localdate()
    recent = logged_in.get(f"/workouts/?since={today - timedelta(days=1)}&until={today}").content.decode()
    assert "Workout 0<" in recent and "Workout 3<" not in recent
    assert "Workout 101<" in logged_in.get("/workouts/?q=orkout 101").content.decode()
    assert "Nothing here with these filters." in logged_in.get("/workouts/?q=yoga").content.decode()


def test_it_labels_every_filter_input(logged_in):
    html = logged_in.get("/workouts/").content.decode()
    for field in ("status", "since", "until", "q"):
        assert f'<label for="id_{field}">' in html and f'id="id_{field}"' in html


def test_it_shows_an_items_source_what_was_sent_and_attempts(logged_in, hevy):
    make_items(hevy, WORKOUTS, 1, status=ItemStatus.FAILED)
    workout = item("w-0")
    SyncItem.objects.filter(pk=workout.pk).update(sent={"name": "Workout 0", "type": "WeightTraining"})
    SyncAttempt.objects.create(item=workout, outcome="failed", error="Intervals.icu: 422 invalid activity")
    html = logged_in.get(f"/items/{workout.pk}/").content.decode()
    assert '<th scope="row">Bench Press (Barbell)</th><td>40 kg × 5 · 41 kg × 6 · 42 kg × 7 · 43 kg × 8</td>' in html
    assert "<code>type</code></th><td>WeightTraining" in html and "<code>title</code></th><td>Workout 0" in html
    assert "<td>failed</td><td>Intervals.icu: 422 invalid activity</td>" in html
    for button in ("Resync", "Force resync", "Skip"):
        assert f">{button}</button>" in html


def test_it_hides_other_users_items(logged_in, make_account, django_user_model):
    other = make_account("hevy", owner=django_user_model.objects.create_user("grace"))
    make_items(other, WORKOUTS, 1)
    assert logged_in.get(f"/items/{item('w-0').pk}/").status_code == 404
    assert logged_in.post(f"/items/{item('w-0').pk}/resync/").status_code == 404
    assert "Workout 0<" not in logged_in.get("/workouts/").content.decode()


def test_it_resyncs_a_failed_item_once_however_often_clicked(
    logged_in, hevy, sent_jobs, django_capture_on_commit_callbacks
):
    make_items(hevy, WORKOUTS, 1, status=ItemStatus.FAILED)
    pk = item("w-0").pk
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            logged_in.post(f"/items/{pk}/resync/")
    assert sent_jobs == [pk]
    refreshed = item("w-0")
    assert refreshed.status == ItemStatus.PENDING and refreshed.attempts == 0 and not refreshed.force


def test_it_sets_force_only_on_force_resync(logged_in, hevy, sent_jobs):
    make_items(hevy, WORKOUTS, 1)
    response = logged_in.post(f"/items/{item('w-0').pk}/force-resync/", follow=True)
    assert item("w-0").force and "the destination copy will be replaced" in response.content.decode()


def test_it_skips_an_item(logged_in, hevy):
    make_items(hevy, WORKOUTS, 1, status=ItemStatus.FAILED)
    logged_in.post(f"/items/{item('w-0').pk}/skip/")
    assert item("w-0").status == ItemStatus.SKIPPED and item("w-0").last_error == "Skipped from the dashboard."


def test_it_leaves_a_running_item_alone(logged_in, hevy, sent_jobs):
    make_items(hevy, WORKOUTS, 1, status=ItemStatus.RUNNING)
    response = logged_in.post(f"/items/{item('w-0').pk}/skip/", follow=True)
    assert item("w-0").status == ItemStatus.RUNNING and "syncing right now" in response.content.decode()


def test_it_accepts_actions_only_as_posts_with_csrf(client, user, hevy):
    from django.test import Client

    make_items(hevy, WORKOUTS, 1, status=ItemStatus.FAILED)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(f"/items/{item('w-0').pk}/resync/").status_code == 403
    assert strict.get(f"/items/{item('w-0').pk}/resync/").status_code == 405
    assert strict.post("/bulk/resync-failed/").status_code == 403
    assert item("w-0").status == ItemStatus.FAILED


def test_it_resyncs_all_failed_with_one_job_each_under_repeated_clicks(
    logged_in, hevy, withings, sent_jobs, django_capture_on_commit_callbacks
):
    make_items(hevy, WORKOUTS, 3, status=ItemStatus.FAILED)
    make_items(hevy, WORKOUTS, 2, start=10)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            logged_in.post("/bulk/resync-failed/", {"route": WORKOUTS, "next": "/workouts/"})
    failed_ids = set(SyncItem.objects.filter(source_id__in=["w-0", "w-1", "w-2"]).values_list("pk", flat=True))
    assert sorted(sent_jobs) == sorted(failed_ids)
    assert SyncItem.objects.filter(status=ItemStatus.SYNCED).count() == 2


def test_it_uploads_held_weights_with_the_cap_lifted_once(
    logged_in, withings, sent_jobs, django_capture_on_commit_callbacks
):
    make_items(withings, WEIGHTS, 4, status=ItemStatus.HELD)
    with django_capture_on_commit_callbacks(execute=True):
        responses = [logged_in.post("/bulk/upload-held/", {"route": WEIGHTS}) for _ in range(20)]
    assert len(sent_jobs) == 4 and len(set(sent_jobs)) == 4
    assert set(SyncItem.objects.values_list("status", "lift_cap")) == {(ItemStatus.PENDING, True)}
    assert responses[0]["Location"] == "/"


def test_it_never_redirects_a_bulk_action_off_site(logged_in):
    response = logged_in.post("/bulk/resync-failed/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_workouts_sets_read_as_in_its_descriptions_and_a_malformed_set_breaks_nothing(logged_in, hevy):
    make_items(hevy, WORKOUTS, 1)
    workout = item("w-0")
    sets = [
        {"kind": "warmup", "weight_kg": "20", "reps": 10},
        {"kind": "failure", "weight_kg": "NaN", "reps": "abc", "rpe": "9"},
        {"duration_s": "65"},
        "not a set",
    ]
    snapshot = {**workout.snapshot, "exercises": [{"title": "Plank", "sets": sets}]}
    SyncItem.objects.filter(pk=workout.pk).update(snapshot=snapshot)
    response = logged_in.get(f"/items/{workout.pk}/")
    assert response.status_code == 200
    expected = "warm-up 20 kg × 10 · no values logged @ RPE 9 to failure · 1:05 · no values logged"
    assert f'<th scope="row">Plank</th><td>{expected}</td>' in response.content.decode()
