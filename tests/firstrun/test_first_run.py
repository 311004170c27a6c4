"""The start-up box's parts, without starting anything."""

import pytest

from fitsync.first_run import a_plain_allowed_host, admin_password_file, startup_box, take_admin_password
from fitsync.private_files import write_private


def test_the_probe_names_a_host_the_site_answers_to(settings):
    settings.ALLOWED_HOSTS = ["*", ".example.test", "fitsync.example.test"]
    assert a_plain_allowed_host() == "fitsync.example.test"
    settings.ALLOWED_HOSTS = ["*"]
    assert a_plain_allowed_host() == "localhost"


def test_a_generated_password_is_taken_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    write_private(admin_password_file(), "s3cret-once\n")
    assert take_admin_password() == "s3cret-once"
    assert take_admin_password() is None and not admin_password_file().exists()


@pytest.mark.parametrize("worker_ok", [True, False])
def test_the_box_says_whether_the_worker_has_reported(settings, worker_ok):
    settings.SITE_URL = "http://127.0.0.1:8123"
    box = startup_box(worker_ok, None)
    assert "http://127.0.0.1:8123/" in box and "Admin user: admin" in box
    assert ("has not reported" in box) is not worker_ok
    assert len({len(line) for line in box.splitlines()}) == 1  # a closed box: every line as wide
