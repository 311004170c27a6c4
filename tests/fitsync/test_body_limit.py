"""Bodies fitsync never accepts are refused unread: over 1 MB (413), chunked (411), file parts (400).
And the framing the web worker uses to know when a request is whole (fitsync/whole_request_worker.py)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fitsync.body_limit import limit_request_body
from fitsync.whole_request_worker import HAND_OVER_NOW, expects_continue, request_length

MB = 1024 * 1024


class UnreadableInput(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")


def call(environ_overrides: dict) -> tuple[str, list]:
    calls, answers = [], []

    def app(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [])
        return [b"ok"]

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhooks/hevy/", "wsgi.input": UnreadableInput()}
    body = limit_request_body(app)({**environ, **environ_overrides}, lambda status, headers: answers.append(status))
    return (answers[0] if answers else None), calls, b"".join(body)


@pytest.mark.parametrize(
    "environ, status",
    [
        ({"CONTENT_LENGTH": str(MB + 1)}, "413 Content Too Large"),
        ({"CONTENT_LENGTH": str(200 * MB), "CONTENT_TYPE": "multipart/form-data; boundary=x"}, "413 Content Too Large"),
        ({"HTTP_TRANSFER_ENCODING": "chunked"}, "411 Length Required"),
        ({"HTTP_TRANSFER_ENCODING": "gzip, Chunked"}, "411 Length Required"),
    ],
)
def test_refused_bodies_never_reach_the_app_and_are_not_read(environ, status):
    answered, calls, body = call(environ)
    assert answered == status and calls == [] and body.startswith(b"fitsync: ")


@pytest.mark.parametrize("length", ["", "0", str(MB), "not-a-number"])
def test_bodies_within_the_limit_reach_the_app(length):
    answered, calls, _ = call({"CONTENT_LENGTH": length})
    assert answered == "200 OK" and len(calls) == 1


def test_the_served_application_is_the_guarded_one():
    from fitsync.wsgi import application

    answers = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(2 * MB),
        "wsgi.input": UnreadableInput(),
    }
    application(environ, lambda status, headers: answers.append(status))
    assert answers == ["413 Content Too Large"]


@pytest.mark.django_db
def test_a_file_part_is_refused_before_it_is_stored(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # stock handlers would write the file to tmp_path at once
    upload = SimpleUploadedFile("big.bin", b"x" * 4096)
    response = Client().post("/accounts/login/", {"username": "a", "file": upload})
    assert response.status_code == 400
    assert list(tmp_path.iterdir()) == []


HEAD = b"POST /webhooks/hevy/ HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", None),  # headers not finished
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27),
        (HEAD + b"Content-Length: 5\r\n\r\nab", 66),  # whole at 66 bytes, 63 so far
        (HEAD + b"content-length:  5 \r\n\r\nabcdeGET", 68),  # the rest is the next (pipelined) request
        (HEAD + b"Content-Length: 1048577\r\n\r\n", HAND_OVER_NOW),  # over 1 MB: refused unread
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\n", HAND_OVER_NOW),
        (HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", HAND_OVER_NOW),  # gunicorn answers 400
        (HEAD + b"Content-Length: -5\r\n\r\n", HAND_OVER_NOW),
    ],
)
def test_request_length(data, expected):
    assert request_length(data) == expected


def test_expect_100_continue_is_recognised_in_the_headers_only():
    assert expects_continue(HEAD + b"Expect: 100-Continue\r\nContent-Length: 9\r\n\r\n")
    assert not expects_continue(HEAD + b"Content-Length: 26\r\n\r\nExpect: 100-continue\r\n\r\n")
