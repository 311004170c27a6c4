"""The item page's words for a wellness write's `sent`, and the day's link in Intervals.icu's calendar."""

from integrations.intervals.wellness.sent import day_link, day_text, wellness_summary


def test_a_write_lists_the_days_values_by_their_fields():
    summary = wellness_summary(
        {"day": "2026-03-02", "values": {"weight": "81.35", "bodyFat": "20.90", "MuscleMass": "61.20"}, "cleared": []}
    )
    assert summary.facts == {
        "Wellness day": "Mon 2 Mar 2026",
        "Values": "The day's, from every weigh-in of the day, picked as the route's options say",
    }
    assert summary.rows == [
        ("Weight (kg)", "81.35"),
        ("Body fat (%)", "20.90"),
        ("Muscle mass (kg), in your custom field MuscleMass", "61.20"),
    ]


def test_a_delete_that_left_the_day_empty_says_what_it_cleared():
    summary = wellness_summary({"day": "2026-03-02", "values": {}, "cleared": ["weight", "Unknown"], "deleted": True})
    assert summary.facts["Deleted"].startswith("The weigh-in was deleted at Withings")
    assert summary.facts["Values"] == "None: no weigh-in is left on this day"
    assert summary.facts["Cleared"] == "Weight (kg), Unknown: no weigh-in of the day has a value for it any more"
    assert summary.rows == []


def test_the_day_links_to_the_calendar_and_reads_as_a_date():
    assert day_link("2026-03-02") == "https://intervals.icu/calendar/2026-03-02" and day_link("") == ""
    assert day_text("not a day") == "not a day" and day_text("") == "–"
