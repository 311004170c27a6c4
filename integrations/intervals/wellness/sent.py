"""The item page's words for what a weigh-in's write sent to its wellness day (`item.sent`, as
`writes.sent_record` makes it), and where that day is in Intervals.icu's web app."""

from datetime import date

from fitsync.roles import SentSummary

from .fields import CUSTOM, STANDARD

LABELS = {field.name: field.label for field in STANDARD} | {
    field.name: f"{field.label}, in your custom field {field.name}" for field in CUSTOM
}
# The calendar at a day: a path one public client links to (docs/upstream.md); the calendar shows the day's
# wellness entries.
CALENDAR_URL = "https://intervals.icu/calendar/{day}"


def day_link(day: str) -> str:
    return CALENDAR_URL.format(day=day) if day else ""


def wellness_summary(sent: dict) -> SentSummary:
    day = str(sent.get("day") or "")
    values = sent.get("values") if isinstance(sent.get("values"), dict) else {}
    facts = {"Wellness day": day_text(day)}
    if sent.get("deleted"):
        facts["Deleted"] = "The weigh-in was deleted at Withings: its day was computed again from the weigh-ins left"
    facts["Values"] = (
        "The day's, from every weigh-in of the day, picked as the route's options say"
        if values
        else "None: no weigh-in is left on this day"
    )
    cleared = [LABELS.get(name, name) for name in sent.get("cleared") or []]
    if cleared:
        facts["Cleared"] = f"{', '.join(cleared)}: no weigh-in of the day has a value for it any more"
    rows = [(LABELS.get(name, name), str(value)) for name, value in values.items()]
    return SentSummary(facts, "The day's values at Intervals.icu", ("Field", "Value"), rows)


def day_text(day: str) -> str:
    """ "Tue 1 Dec 2026" for "2026-12-01"; the text as it is when it is no day."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return day or "–"
    return f"{when:%a} {when.day} {when:%b %Y}"
