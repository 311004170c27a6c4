"""The Withings page's delivery log: accepted, ignored and refused (404 for an unknown token) notifications,
with the reason in our words and never the URL's token."""

import re

import pytest
from django.urls import reverse

from fitsync import deliveries
from fitsync.models import Delivery
from integrations.withings import auth

from .conftest import USER

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
WEIGHT = f"userid={USER}&appli=1&startdate=1737353412&enddate=1737353413"


@pytest.fixture(autouse=True)
def every_unmatched_refusal(monkeypatch):
    monkeypatch.setattr(deliveries, "UNMATCHED_EVERY_SECONDS", 0)


def test_the_withings_page_logs_accepted_ignored_and_refused_notifications(
    client, logged_in, account, jobs_sent, django_capture_on_commit_callbacks
):
    token = auth.ensure_webhook_token(account)
    url = reverse("withings:webhook", args=[token])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.generic("POST", url, WEIGHT, content_type=FORM).status_code == 200
    assert client.generic("POST", url, f"userid={USER}&appli=44", content_type=FORM).status_code == 200
    wrong = reverse("withings:webhook", args=["an-old-token-of-a-removed-subscription"])
    assert client.generic("POST", wrong, WEIGHT, content_type=FORM).status_code == 404

    html = logged_in.get(reverse("withings:connect")).content.decode()
    log = html[html.index('id="deliveries-heading"') :]
    rows = re.findall(r"<tr>(.*?)</tr>", log, re.S)[1:]
    assert [re.search(r"status-(\w+)", row).group(1) for row in rows] == ["refused", "ignored", "accepted"]
    assert "HTTP 404" in rows[0] and "token is not this instance" in rows[0]
    assert "another kind of data" in rows[1] and "HTTP 200" in rows[2]
    assert token not in html and "an-old-token" not in html
    assert token not in str(list(Delivery.objects.values()))


def test_another_users_deliveries_are_not_shown(client, logged_in, account, jobs_sent, django_user_model):
    other = django_user_model.objects.create_user("grace")
    account.owner = other
    account.save()
    url = reverse("withings:webhook", args=[auth.ensure_webhook_token(account)])
    client.generic("POST", url, WEIGHT, content_type=FORM)
    assert Delivery.objects.count() == 1
    assert deliveries.recent(account.owner, "withings") and not deliveries.recent(
        django_user_model.objects.get(username="ada"), "withings"
    )
