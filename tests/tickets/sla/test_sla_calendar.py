"""Business-time arithmetic: no database, just calendars and instants."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tickets.sla.calendar import Calendar

SP = ZoneInfo("America/Sao_Paulo")
WEEKDAYS_9_TO_18 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HOUR = 3600


def sp(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


def test_24x7_adds_wall_time():
    calendar = Calendar.always_open()
    assert calendar.add(sp(2025, 3, 7, 23, 30), 2 * HOUR) == sp(2025, 3, 8, 1, 30)
    assert calendar.seconds_between(sp(2025, 3, 7, 23, 30), sp(2025, 3, 8, 1, 30)) == 2 * HOUR


def test_business_hours_carry_over_the_weekend():
    calendar = Calendar.parse("America/Sao_Paulo", WEEKDAYS_9_TO_18)
    # Friday 17:00 + 2 business hours: one hour on Friday, one on Monday.
    assert calendar.add(sp(2025, 3, 7, 17, 0), 2 * HOUR) == sp(2025, 3, 10, 10, 0)
    assert calendar.seconds_between(sp(2025, 3, 7, 17, 0), sp(2025, 3, 10, 10, 0)) == 2 * HOUR


def test_a_clock_started_outside_hours_waits_for_the_opening():
    calendar = Calendar.parse("America/Sao_Paulo", WEEKDAYS_9_TO_18)
    assert calendar.add(sp(2025, 3, 8, 12, 0), 30 * 60) == sp(2025, 3, 10, 9, 30)  # a Saturday
    assert calendar.add(sp(2025, 3, 10, 20, 0), HOUR) == sp(2025, 3, 11, 10, 0)  # Monday evening


def test_holidays_are_skipped():
    # Carnival Monday and Tuesday 2025 are holidays: Friday 17:00 + 2 h lands on Wednesday.
    calendar = Calendar.parse("America/Sao_Paulo", WEEKDAYS_9_TO_18, ["2025-03-03", "2025-03-04"])
    assert calendar.add(sp(2025, 2, 28, 17, 0), 2 * HOUR) == sp(2025, 3, 5, 10, 0)
    assert calendar.seconds_between(sp(2025, 2, 28, 9, 0), sp(2025, 3, 5, 18, 0)) == 18 * HOUR


def test_split_shifts_and_a_day_that_runs_to_midnight():
    calendar = Calendar.parse(
        "America/Sao_Paulo", {"mon": [["08:00", "12:00"], ["14:00", "18:00"]], "tue": [["20:00", "24:00"]]}
    )
    assert calendar.add(sp(2025, 3, 10, 11, 0), 2 * HOUR) == sp(2025, 3, 10, 15, 0)
    assert calendar.add(sp(2025, 3, 10, 17, 0), 3 * HOUR) == sp(2025, 3, 11, 22, 0)
    assert calendar.add(sp(2025, 3, 11, 23, 0), HOUR) == sp(2025, 3, 12, 0, 0)


def test_sao_paulo_has_no_daylight_saving_any_more():
    # Until 2019 clocks moved forward on the first Sunday of November; now every day is 24 h at UTC-3.
    calendar = Calendar.parse("America/Sao_Paulo", {}, ["2024-12-25"])
    start = sp(2024, 11, 2, 12, 0)
    assert calendar.add(start, 24 * HOUR) == sp(2024, 11, 3, 12, 0)
    assert calendar.add(start, 24 * HOUR) == datetime(2024, 11, 3, 15, 0, tzinfo=UTC)
    assert calendar.seconds_between(sp(2024, 11, 3, 0, 0), sp(2024, 11, 4, 0, 0)) == 24 * HOUR
    # The same local day in 2018 still sprang forward: 23 hours.
    assert calendar.seconds_between(sp(2018, 11, 4, 0, 0), sp(2018, 11, 5, 0, 0)) == 23 * HOUR


def test_a_zone_with_daylight_saving_counts_real_elapsed_time():
    # New York springs forward on 2024-03-10: that local day lasts 23 hours; business hours stay 8 h.
    ny = ZoneInfo("America/New_York")
    all_day_with_a_holiday = Calendar.parse("America/New_York", {}, ["2024-12-25"])
    day_start, next_day = datetime(2024, 3, 10, tzinfo=ny), datetime(2024, 3, 11, tzinfo=ny)
    assert all_day_with_a_holiday.seconds_between(day_start, next_day) == 23 * HOUR
    office = Calendar.parse("America/New_York", {"sun": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]})
    assert office.seconds_between(day_start, next_day) == 8 * HOUR
    assert office.add(datetime(2024, 3, 10, 16, tzinfo=ny), 2 * HOUR) == datetime(2024, 3, 11, 10, tzinfo=ny)
    assert office.add(datetime(2024, 3, 10, 16, tzinfo=ny), 2 * HOUR).astimezone(UTC).hour == 14


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": [["18:00", "09:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"funday": [["09:00", "12:00"]]},
        {"mon": [["nine", "twelve"]]},
        {"mon": []},
    ],
)
def test_invalid_business_hours_are_refused(hours):
    with pytest.raises(ValueError):
        Calendar.parse("America/Sao_Paulo", hours)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValueError):
        Calendar.parse("America/Atlantis", {})
