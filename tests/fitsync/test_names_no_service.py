"""The engine and the dashboard name no service: what differs between services lives on their roles,
and only the route table (`fitsync/routes.py`), `fitsync/providers.py` and `fitsync/settings.py` name them."""

import re
from pathlib import Path

from fitsync.providers import Provider

ROOT = Path(__file__).resolve().parents[2]
SERVICE_BLIND = [
    "fitsync/sync.py",
    "fitsync/jobs.py",
    "fitsync/tasks.py",
    "fitsync/item_states.py",
    "fitsync/feeds.py",
    "fitsync/roles.py",
    "fitsync/routes.py",
    "fitsync/urls.py",
    "fitsync/dashboard/*.py",
    "fitsync/templatetags/*.py",
    "templates/base.html",
    "templates/fitsync/*.html",
]
NAMES = re.compile(r"\b(" + "|".join(re.escape(p.value) for p in Provider) + r")", re.IGNORECASE)


def outside_the_table(path: Path) -> str:
    """routes.py without its two tables (ROUTES and SCHEDULES), which are where services are named."""
    text = path.read_text()
    if path.name != "routes.py":
        return text
    start, end = text.index("\nROUTES = {"), text.index("\n]\n", text.index("\nSCHEDULES"))
    return text[:start] + text[end:]


def test_the_engine_and_the_dashboard_name_no_service():
    files = sorted({path for pattern in SERVICE_BLIND for path in ROOT.glob(pattern)})
    assert len(files) > 15
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(outside_the_table(path).splitlines(), 1)
        if NAMES.search(line)
    ]
    assert found == []


def test_it_would_notice_a_service_name():
    assert NAMES.search('if item.route == "hevy_intervals":') and NAMES.search("Garmin has no page")


def route_names() -> re.Pattern:
    from fitsync.routes import ROUTES

    return re.compile(r"\b(" + "|".join(re.escape(name) for name in ROUTES) + r")\b")


def test_no_service_names_a_route():
    """A service's fetch or import concerns every route from it: its code never picks one by name (a run's
    route comes from the route table, or the run is the source's, `SyncRun.EVERY_ROUTE`)."""
    files = sorted(path for path in (ROOT / "integrations").rglob("*") if path.suffix in (".py", ".html"))
    assert len(files) > 40
    names = route_names()
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if names.search(line)
    ]
    assert found == []


def test_it_would_notice_a_route_name():
    assert route_names().search('ROUTE = "withings_garmin"') and not route_names().search("withings_garmin_x")
