"""django-q2's schedules are viewable in the admin but cannot be added, changed or deleted there: a
schedule names any importable callable, which a worker would then run."""

import pytest
from django_q.models import Schedule

pytestmark = pytest.mark.django_db
LIST = "/admin/django_q/schedule/"


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x" * 20))
    return client


@pytest.fixture
def dispatch_schedule():
    return Schedule.objects.get(func="fitsync.tasks.dispatch")  # written on migrate


def test_the_schedules_are_listed_and_viewable(staff, dispatch_schedule):
    listing = staff.get(LIST)
    assert listing.status_code == 200 and "fitsync.tasks.dispatch" in listing.content.decode()
    page = staff.get(f"{LIST}{dispatch_schedule.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_no_schedule_can_be_added(staff):
    assert staff.get(f"{LIST}add/").status_code == 403
    count = Schedule.objects.count()
    response = staff.post(f"{LIST}add/", {"func": "os.system", "args": "'touch /tmp/owned'", "schedule_type": "O"})
    assert response.status_code == 403 and Schedule.objects.count() == count


def test_a_schedule_cannot_be_changed_or_deleted(staff, dispatch_schedule):
    change = {"func": "os.system", "args": "'touch /tmp/owned'", "schedule_type": "I", "minutes": 1, "repeats": -1}
    assert staff.post(f"{LIST}{dispatch_schedule.pk}/change/", change).status_code == 403
    assert staff.post(f"{LIST}{dispatch_schedule.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [dispatch_schedule.pk], "post": "yes"}
    staff.post(LIST, bulk)
    dispatch_schedule.refresh_from_db()
    assert dispatch_schedule.func == "fitsync.tasks.dispatch"
