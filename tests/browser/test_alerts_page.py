"""The alerts page as a person uses it: paste an Apprise URL, save, send a test, see it arrive."""

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
pytestmark = pytest.mark.browser


def test_it_saves_a_url_and_sends_a_test(page, shot, log_in, alert_receiver):
    log_in()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    expect(page.get_by_text("Alerts are off until you save an Apprise URL.")).to_be_visible()
    shot("1-empty")

    page.get_by_label("Apprise URLs").fill("not a url")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Line 1 is not a URL Apprise understands.")
    shot("2-refused")

    page.get_by_label("Apprise URLs").fill(alert_receiver.apprise_url)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Alert settings saved.")
    page.get_by_role("button", name="Send a test").click()
    expect(page.get_by_role("status")).to_contain_text("Test alert sent to 1 URL(s).")
    assert alert_receiver.titles() == ["fitsync: test alert"]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shot("3-test-sent")

    alert_receiver.add_fault(status=500)
    page.get_by_role("button", name="Send a test").click()
    expect(page.get_by_role("status")).to_contain_text("The test was not delivered:")
    shot("4-test-failed")
