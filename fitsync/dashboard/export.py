"""A route's sync history as CSV: the columns of its list, the list's filters, streamed row by row.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula, and item
titles and error messages come from upstreams: such cells get a leading apostrophe.
"""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..routes import ROUTES
from .forms import ItemFilterForm
from .items import LIST_COLUMNS, route_items
from .summary import summarize

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500


class Echo:
    """A file whose write returns the line: csv.writer then yields rows for a streaming response."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def header(route: str) -> list[str]:
    source = ROUTES[route].source_role
    return [source.title_label, "Date", *source.facts({}), "Status", "Attempts", "Destination", "Reason"]


def row_of(item, unit: str, zone) -> list[str]:
    summary = summarize(item, unit)
    when = timezone.localtime(item.occurred_at, zone).isoformat(timespec="minutes") if item.occurred_at else ""
    return [
        summary.title,
        when,
        *summary.facts.values(),
        item.get_status_display(),
        item.attempts,
        summary.link or item.destination_id,
        item.last_error,
    ]


def rows(route: str, items, unit: str, zone):
    """The rows, in the reader's unit and zone: passed in, since the response streams after the view (and
    the middleware's zone) has returned."""
    writer = csv.writer(Echo())
    yield writer.writerow(header(route))
    for item in items.iterator(chunk_size=BATCH):
        yield writer.writerow([safe_cell(cell) for cell in row_of(item, unit, zone)])


@require_GET
def export_csv(request, route: str):
    form = ItemFilterForm(request.GET or None)
    items = form.apply(route_items(request.user, route)).only(*LIST_COLUMNS).order_by("-occurred_at", "pk")
    content = rows(route, items, request.profile.weight_unit, timezone.get_current_timezone())
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"fitsync-{ROUTES[route].list_slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
