"""POST /webhooks/withings/<token>/: a 200 and one queued fetch for every POST with a valid token, whatever
its encoding or fields; 404 for an unknown token; dedupe; the job queued after commit; fuzzed bodies."""

import logging

import pytest
import time_machine
from django.test.client import BOUNDARY, encode_multipart
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fitsync.models import ConnectedAccount, InboundEvent
from integrations.withings import auth
from integrations.withings.notification import BODY_LIMIT
from tests.conftest import load_fixture

from .conftest import USER

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
WEIGHT = {"userid": USER, "appli": 1, "startdate": 1737353412, "enddate": 1737353413}


@pytest.fixture
def url(account):
    return reverse("withings:webhook", args=[auth.ensure_webhook_token(account)])


@pytest.fixture
def deliver(client, url, django_capture_on_commit_callbacks):
    """POST a notification and run its on-commit callbacks (the job is sent after commit) as the server does;
    `fields` are sent as multipart/form-data."""

    def send(body: str | bytes = "", content_type: str = FORM, fields: dict | None = None):
        if fields is not None:
            body, content_type = encode_multipart(BOUNDARY, fields), MULTIPART
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, url, body, content_type)

    return send


def post(client, url, body: str | bytes, content_type: str = FORM):
    """A raw POST: the body's bytes as given, whatever charset the content type names."""
    return client.generic("POST", url, body.encode() if isinstance(body, str) else body, content_type=content_type)


def fetches(account: ConnectedAccount) -> list:
    return [("fetch_new", account.pk)]


def fetched(jobs_sent) -> list:
    """The tasks sent and their account (the window a notification names is checked on its own)."""
    return [(task, args[0]) for task, args in jobs_sent.sent]


def test_it_queues_a_fetch_after_commit_for_a_weight_notification(
    client, url, account, jobs_sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        answer = post(client, url, load_fixture("withings/notify__weight.txt"))
        assert jobs_sent.sent == []  # nothing is sent before the event is committed
    assert answer.status_code == 200 and answer.content == b"ok"
    for callback in callbacks:
        callback()
    assert fetched(jobs_sent) == fetches(account)
    # The window goes with the fetch: a deleted weigh-in shows only in a read of its measurement date.
    assert jobs_sent.sent[0][1] == (account.pk, "webhook", 1737353412, 1737353413)
    event = InboundEvent.objects.get()
    assert (event.source, event.account) == ("withings", account)
    assert event.payload == load_fixture("withings/notify__weight.txt")


def test_it_reads_a_multipart_form_data_notification(account, jobs_sent, deliver, caplog):
    caplog.set_level(logging.INFO, logger="fitsync.webhooks.unsupported")
    answer = deliver(fields={**WEIGHT, "appli": 44})  # sleep: read, and so ignored
    assert (answer.status_code, answer.content) == (200, b"ignored") and jobs_sent.sent == []
    answer = deliver(fields=WEIGHT)
    assert (answer.status_code, answer.content) == (200, b"ok") and fetched(jobs_sent) == fetches(account)


@pytest.mark.parametrize("file_settings", [{}, {"FILE_UPLOAD_HANDLERS": [], "DATA_UPLOAD_MAX_NUMBER_FILES": 0}])
def test_it_skips_a_file_part_of_a_multipart_notification(
    account, jobs_sent, deliver, settings, file_settings, tmp_path
):
    for name, value in file_settings.items():
        setattr(settings, name, value)
    attachment = tmp_path / "scale.bin"
    attachment.write_bytes(b"\x00\x01 not a notification")
    with attachment.open("rb") as handle:
        answer = deliver(fields={**WEIGHT, "file": handle})
    assert (answer.status_code, answer.content) == (200, b"ok") and fetched(jobs_sent) == fetches(account)


@pytest.mark.parametrize(
    "body",
    [
        f"userid={USER}&appli=1&startdate=1737353412&enddate=1737353413&deviceid=abc&date=2025-01-20&foo=bar",
        f"userid={USER}&appli=1&startdate=1737353412&enddate=1737353413&flag",  # a field without "="
        f"userid={USER}&appli=1",  # no dates
        f"userid={USER}&appli=1&date=2025-01-20",  # a date, but not startdate/enddate
        f"userid={USER}&appli=01",  # appli 1 with a leading zero
        f"userid={USER}&appli=1&startdate=5&enddate=2",  # dates the wrong way round
    ],
)
def test_it_fetches_for_a_weight_notification_with_extra_missing_or_odd_fields(account, body, jobs_sent, deliver):
    answer = deliver(body)
    assert (answer.status_code, answer.content) == (200, b"ok") and fetched(jobs_sent) == fetches(account)
    assert InboundEvent.objects.get().payload == body


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("", FORM),
        ("userid=abc&appli=1&startdate=1&enddate=2", FORM),
        (f"userid={USER}&startdate=1&enddate=2", FORM),  # no appli: it may well be a weigh-in
        (f"userid={USER}&appli=1&startdate=x&enddate=2", FORM),
        (f"userid={USER}&appli=-1&startdate=1&enddate=2", FORM),
        ("%%%", FORM),
        (b"\xff\xfe\x00garbage", FORM),
        (f"userid={USER}&appli=1&startdate={'9' * 40}&enddate={'9' * 41}", FORM),
        (f"userid={USER}&appli=\u0661&startdate=1&enddate=2", FORM),  # an Arabic-Indic "1": isdigit, not ASCII
        ('{"userid": 1, "appli": 1}', "application/json"),
        (f"userid={USER}&appli=1", "multipart/form-data; boundary=nowhere"),  # says multipart, is not
        ("--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n--x--", "multipart/form-data; boundary=x"),  # no name
        (f"userid={USER}&appli=1", ""),
    ],
)
def test_it_still_fetches_once_for_a_body_it_cannot_fully_read(account, body, content_type, jobs_sent, deliver, caplog):
    caplog.set_level(logging.INFO, logger="fitsync.webhooks")
    answer = deliver(body, content_type)
    assert (answer.status_code, answer.content) == (200, b"ok")
    assert fetched(jobs_sent) == fetches(account) and InboundEvent.objects.count() == 1
    assert "fetching anyway" in caplog.text


def test_it_fetches_without_reading_a_body_over_the_limit(account, jobs_sent, deliver):
    answer = deliver(f"userid={USER}&appli=1&pad={'x' * BODY_LIMIT}")
    assert (answer.status_code, answer.content) == (200, b"ok") and fetched(jobs_sent) == fetches(account)
    assert InboundEvent.objects.get().payload == ""


def test_it_answers_a_duplicate_delivery_without_a_second_job(jobs_sent, deliver):
    with time_machine.travel("2025-01-20 06:10:00+00:00") as traveller:
        first = deliver(load_fixture("withings/notify__weight.txt"))
        traveller.shift(10)  # Withings' retry after a lost answer
        second = deliver(load_fixture("withings/notify__weight.txt"))
    assert (first.status_code, second.status_code, second.content) == (200, 200, b"duplicate")
    assert len(jobs_sent.sent) == 1 and InboundEvent.objects.count() == 1


def test_it_collapses_identical_undated_notifications_within_a_minute(jobs_sent, deliver):
    with time_machine.travel("2025-01-20 06:10:00+00:00") as traveller:
        answers = [deliver(f"userid={USER}&appli=1").content for _ in range(3)]
        answers.append(deliver(fields={"userid": USER, "appli": 1}).content)  # same fields
        traveller.shift(60)
        answers.append(deliver(f"userid={USER}&appli=1").content)
    assert answers == [b"ok", b"duplicate", b"duplicate", b"duplicate", b"ok"] and len(jobs_sent.sent) == 2


def test_it_fetches_again_once_the_previous_fetch_finished(account, jobs_sent, deliver):
    with time_machine.travel("2025-01-20 06:10:00+00:00") as traveller:
        deliver(f"userid={USER}&appli=1")
        traveller.shift(5)
        account.mark_success()  # the queued fetch ran: a new change needs a new fetch, even in the same minute
        again = deliver(f"userid={USER}&appli=1")
    assert again.content == b"ok" and len(jobs_sent.sent) == 2


def test_it_fetches_again_for_a_later_edit_of_the_same_weigh_in(jobs_sent, deliver):
    with time_machine.travel("2025-01-20 06:10:00+00:00") as traveller:
        deliver(load_fixture("withings/notify__weight.txt"))
        traveller.shift(180)  # the user corrected the measurement in the app: same startdate/enddate
        again = deliver(load_fixture("withings/notify__weight.txt"))
    assert again.content == b"ok" and len(jobs_sent.sent) == 2


@pytest.mark.parametrize("method", ["head", "get"])
def test_it_answers_probes_with_200(client, url, method):
    assert getattr(client, method)(url).status_code == 200


@pytest.mark.parametrize("method", ["post", "head", "get"])
def test_it_answers_404_for_an_unknown_token(client, account, method, caplog, jobs_sent):
    caplog.set_level(logging.DEBUG)
    answer = getattr(client, method)(reverse("withings:webhook", args=["not-a-token-of-ours"]))
    assert answer.status_code == 404 and "not-a-token-of-ours" not in caplog.text
    assert jobs_sent.sent == [] and not InboundEvent.objects.exists()


def test_it_refuses_other_methods(client, url):
    assert client.put(url, "userid=1").status_code == 405


@pytest.mark.parametrize(
    "body",
    [
        f"userid={USER}&appli=44&date=2025-01-20",  # sleep: we do not handle it
        f"userid={USER}&appli=46&action=update",  # profile change
        "userid=99999&appli=1&startdate=1737353412&enddate=1737353413",  # not this account's user
    ],
)
def test_it_ignores_well_formed_notifications_it_does_not_handle(client, url, body, jobs_sent, caplog):
    caplog.set_level(logging.INFO, logger="fitsync.webhooks.unsupported")
    answer = post(client, url, body)
    assert (answer.status_code, answer.content) == (200, b"ignored")
    assert jobs_sent.sent == [] and not InboundEvent.objects.exists() and caplog.records


def test_it_never_logs_the_token(client, url, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, url, "userid=abc")
    client.put(url, "")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert caplog.records and token not in caplog.text


FIELD_NAMES = st.sampled_from(["userid", "appli", "startdate", "enddate", "date", "x"])
FIELD_VALUES = st.one_of(st.integers(-10, 10**12).map(str), st.text(max_size=20))


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.text(max_size=300),
        st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=6).map(
            lambda d: "&".join(f"{k}={v}" for k, v in d.items())
        ),
        st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=6).map(lambda d: encode_multipart("x", d)),
    ),
    content_type=st.sampled_from(
        [
            FORM,
            "application/json",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
            "multipart/form-data",
            'multipart/form-data; boundary="x"; charset=nope',
        ]
    ),
)
def test_it_answers_200_and_never_a_5xx_on_fuzzed_bodies(client, url, jobs_sent, body, content_type):
    answer = post(client, url, body, content_type=content_type)
    assert answer.status_code == 200 and answer.content in (b"ok", b"duplicate", b"ignored")
