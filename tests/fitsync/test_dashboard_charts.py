"""Charts: server-rendered SVG of weight, body fat (with a 7-day trend) and weekly volume."""

from datetime import UTC, datetime, timedelta

import pytest

from fitsync.dashboard import charts
from fitsync.dashboard.chart_views import weekly_volume
from tests.seed import WEIGHTS, WORKOUTS, make_items, workout_snapshot

DAY0 = datetime(2025, 3, 1, 7, 0, tzinfo=UTC)


def test_it_averages_the_trailing_seven_days():
    points = [(DAY0 + timedelta(days=i), float(v)) for i, v in enumerate([80, 82, 81, 83, 80, 79, 78, 90])]
    trend = charts.trailing_mean(points)
    assert trend[0][1] == 80 and trend[1][1] == 81
    assert trend[7][1] == pytest.approx((82 + 81 + 83 + 80 + 79 + 78 + 90) / 7)  # day 0 fell out of the window


def test_it_draws_one_polyline_per_series_with_an_accessible_label():
    points = [(DAY0 + timedelta(days=i), 80.0 + i) for i in range(5)]
    svg = charts.line_chart(
        "Weight <kg>", [charts.Series("Weight", points, "line raw"), charts.Series("Empty", [], "x")]
    )
    assert svg.startswith('<svg class="chart"') and 'role="img" aria-label="Weight &lt;kg&gt;"' in svg
    assert svg.count("<polyline") == 1 and "01 Mar 25" in svg and "05 Mar 25" in svg


def test_it_draws_nothing_without_points():
    assert charts.line_chart("Weight", [charts.Series("Weight", [], "line")]) == ""
    assert charts.bar_chart("Volume", []) == ""


def test_it_sums_volume_per_week_including_empty_weeks(settings):
    settings.TIME_ZONE = "UTC"
    now = datetime.now(UTC)
    rows = [(now, workout_snapshot(0, now)), (now, workout_snapshot(0, now)), (now - timedelta(days=21), {})]
    weeks = weekly_volume(rows, days=28)
    assert len(weeks) in (5, 6) and weeks[-1][1] > 0 and weeks[0][0].weekday() == 0
    assert sum(1 for _, volume in weeks if volume) == 1


@pytest.mark.django_db
def test_it_renders_the_charts_page_from_synced_items(logged_in, make_account):
    make_items(make_account("withings"), WEIGHTS, 40)
    make_items(make_account("hevy"), WORKOUTS, 40)
    html = logged_in.get("/charts/?days=90").content.decode()
    assert html.count('<svg class="chart"') == 3 and html.count("<polyline") == 4
    assert '<rect class="bar"' in html and '<option value="90" selected>' in html


@pytest.mark.django_db
def test_it_says_so_when_there_is_nothing_to_chart(logged_in):
    html = logged_in.get("/charts/").content.decode()
    assert "No weigh-ins in this period." in html and "No workouts with weights in this period." in html


def test_sparse_points_get_markers_and_dense_ones_do_not():
    from datetime import UTC, datetime, timedelta

    from fitsync.dashboard import charts

    start = datetime(2026, 1, 1, tzinfo=UTC)
    few = [(start + timedelta(days=n), 80.0 + n) for n in range(3)]
    many = [(start + timedelta(days=n), 80.0 + n % 5) for n in range(charts.FEW_POINTS + 1)]
    assert charts.line_chart("w", [charts.Series("Weight", few, "line raw", markers=True)]).count("<circle") == 3
    assert "<circle" not in charts.line_chart("w", [charts.Series("Weight", many, "line raw", markers=True)])
    one = charts.line_chart("w", [charts.Series("Weight", few[:1], "line raw", markers=True)])
    assert one.count("<circle") == 1  # a single weigh-in draws no line, but it shows
