"""Choosing a Garmin exercise for a Hevy exercise, in a browser, at a phone's and a laptop's size.

GIVEN a user with Hevy connected (the Hevy fake over HTTP: its built-in templates and two custom ones)
WHEN they follow the link on the Hevy → Garmin Connect options page, find "Sandbag Shouldering" by its
title, pick the Sandbag category, show its names, pick Shouldering and save (after a name from another
category was refused)
THEN the list shows their choice, the route's options hold it, and no page trips the content security
policy (nothing here needs JavaScript). Screenshots of each step, per viewport.
"""

import pytest

from fitsync.models import ConnectedAccount, Credential
from integrations.garmin.exercise_overrides import overrides_of
from sandbox.hevy import HevyFake
from sandbox.server import SandboxServer

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser
HEVY_KEY = "hevy-browser-key"
SANDBAG = "0f4d8e21-6a9b-4c3d-8e7f-5a1b2c3d4e5f"


@pytest.fixture
def hevy(browser_user, settings):
    fake = HevyFake()
    fake.add_user(HEVY_KEY)
    account = ConnectedAccount.objects.create(owner=browser_user, provider="hevy", display_name="ada")
    Credential.objects.create(account=account, api_key=HEVY_KEY)
    settings.HEVY_REQUESTS_PER_SECOND = 0
    with SandboxServer({"hevy": fake}) as server:
        settings.HEVY_API_URL = server.url_for("hevy")
        yield fake


def test_a_user_chooses_the_garmin_exercise_for_a_custom_hevy_exercise(page, shot, log_in, hevy, browser_user):
    refused: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    log_in()
    page.goto("/routes/hevy_garmin/options/")
    page.get_by_role("link", name="Exercises in Garmin Connect").click()
    expect(page.get_by_role("heading", name="Exercises in Garmin Connect")).to_be_visible()
    expect(page.get_by_text("30 of your 30 Hevy exercises shown")).to_be_visible()
    shot("1-list", full_page=False)

    page.get_by_label("Title contains").fill("sandbag")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name="Sandbag Shouldering")
    expect(row.get_by_text("Total body (category only)")).to_be_visible()
    expect(row.get_by_text("No match: generic")).to_be_visible()
    row.get_by_role("link", name="Choose the Garmin exercise for Sandbag Shouldering").click()

    expect(page.get_by_role("heading", name="Sandbag Shouldering")).to_be_visible()
    page.get_by_label("Category").select_option("sandbag")
    page.get_by_role("button", name="Show names in this category").click()
    page.get_by_label("Exercise in Sandbag").select_option("shouldering")
    shot("2-choice")
    page.get_by_label("Category").select_option("bench_press")  # changed without showing its names
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text(
        "“Shouldering” is not an exercise in Bench press: choose one from its list."
    )
    expect(page.get_by_label("Exercise in Bench press")).to_be_visible()  # the list of the category picked
    shot("3-refused")
    page.get_by_label("Category").select_option("sandbag")
    page.get_by_role("button", name="Show names in this category").click()
    page.get_by_label("Exercise in Sandbag").select_option("shouldering")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Sandbag Shouldering now becomes Sandbag: Shouldering")
    row = page.get_by_role("row", name="Sandbag Shouldering")
    expect(row.get_by_text("Sandbag: Shouldering")).to_be_visible()
    expect(row.get_by_text("Your choice")).to_be_visible()
    expect(page.get_by_label("Title contains")).to_have_value("sandbag")  # back at the filtered list
    shot("4-saved")
    assert overrides_of(browser_user.pk) == {SANDBAG: ("sandbag", "shouldering")}

    row.get_by_role("button", name="Use automatic for Sandbag Shouldering").click()
    expect(page.get_by_role("row", name="Sandbag Shouldering").get_by_text("No match: generic")).to_be_visible()
    assert overrides_of(browser_user.pk) == {} and refused == []
