"""What the optional routes' browser tests share: a route's card on the overview, turning it on and off there,
the jobs the webhook and notification views queued run as a worker runs them, and screenshot checks."""

import re

import pytest

from fitsync import route_settings, sync
from fitsync.models import SyncItem

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def route_card(page, name: str):
    return page.locator("article.route").filter(has=page.locator(f"#route-{name}"))


def turn_on(page, route, user):
    """The card says the route is off and what it does; its "Turn on" button turns it on for `user`."""
    name, label, summary = route.name, route.label, route.summary
    card = route_card(page, name)
    expect(card.locator("h3 .badge")).to_have_text("Off")
    expect(card.locator(f"#summary-{name}")).to_have_text(summary)
    expect(card.get_by_role("button", name="Sync now")).to_have_count(0)
    card.scroll_into_view_if_needed()
    button = card.get_by_role("button", name=f"Turn on {label}")
    expect(button).to_have_accessible_description(summary)
    button.click()
    expect(page.get_by_role("status")).to_contain_text(f"{label} is on: new data from")
    expect(card.locator("h3 .badge")).to_have_count(0)
    expect(card.get_by_role("button", name=f"Turn off {label}")).to_be_visible()
    assert route_settings.is_on(user.pk, route)
    return card


def turn_off(page, route, user, shot) -> None:
    """ "Turn off" asks first (Cancel changes nothing), then the card is back to its summary."""
    name, label, summary = route.name, route.label, route.summary
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    route_card(page, name).get_by_role("button", name=f"Turn off {label}").click()
    expect(page.get_by_role("heading", name=f"Turn off {label}?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("what it already wrote stays")
    shot("turn-off-confirm")
    page.get_by_role("link", name="Cancel").click()
    expect(route_card(page, name).get_by_role("button", name=f"Turn off {label}")).to_be_visible()
    route_card(page, name).get_by_role("button", name=f"Turn off {label}").click()
    page.get_by_role("button", name="Turn off", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"{label} is off.")
    card = route_card(page, name)
    expect(card.locator("h3 .badge")).to_have_text("Off")
    expect(card.locator(f"#summary-{name}")).to_have_text(summary)
    card.scroll_into_view_if_needed()
    shot("turned-off", full_page=False)
    assert not route_settings.is_on(user.pk, route)


def run_jobs(sent_jobs: list[int], route: str) -> list[str]:
    """The route's queued item jobs, run as a worker runs them (other routes' items stay queued)."""
    ran = []
    for pk in list(sent_jobs):
        if SyncItem.objects.filter(pk=pk, route=route).exists():
            sent_jobs.remove(pk)
            ran.append(sync.run_item(pk))
    return ran


def open_options(page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    page.get_by_role("link", name=f"Options of {label}").click()
    expect(page.get_by_role("heading", name=f"{label}: options", level=1)).to_be_visible()


def save_options(page, label: str) -> None:
    page.get_by_role("button", name="Save options").click()
    expect(page.get_by_role("status")).to_contain_text(f"Options of {label} saved.")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def in_dark_mode(page, shot, step: str) -> None:
    """The same page in the system's dark mode: dark surfaces, light text, nothing wider than the screen."""
    page.emulate_media(color_scheme="dark")
    page.reload()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    numbers = [int(part) for part in re.findall(r"\d+", background)[:3]]
    assert sum(numbers) < 3 * 60, background
    assert fits_the_width(page)
    shot(step)
    page.emulate_media(color_scheme="light")
