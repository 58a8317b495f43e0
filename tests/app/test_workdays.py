"""Working days for objection deadlines: weekends, extra holidays, adjusted working weekends.

2026-05-01 is a Friday. Holiday dates below are examples, not the State Council's calendar.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.disputes.workdays import WEEKDAYS, FixedHolidays, WorkingCalendar


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 5, 1), 10, date(2026, 5, 15)),  # Fri -> two weeks later, weekends skipped
        (date(2026, 5, 6), 2, date(2026, 5, 8)),  # Wed -> Fri
        (date(2026, 5, 8), 1, date(2026, 5, 11)),  # Fri -> Mon
        (date(2026, 5, 9), 1, date(2026, 5, 11)),  # Sat -> Mon
        (date(2026, 5, 10), 5, date(2026, 5, 15)),  # Sun -> Fri
        (date(2026, 5, 9), 0, date(2026, 5, 9)),  # no days: the start itself
    ],
)
def test_weekends_are_skipped(start: date, days: int, due: date) -> None:
    assert WEEKDAYS.add_working_days(start, days) == due


def test_holidays_are_skipped_and_adjusted_weekend_days_count() -> None:
    calendar = WorkingCalendar.with_dates(
        holidays=[date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)],
        adjusted_working_days=[date(2026, 5, 9)],
    )
    assert not calendar.is_working_day(date(2026, 5, 4))  # a Monday holiday
    assert calendar.is_working_day(date(2026, 5, 9))  # a working Saturday
    # Thu 04-30 + 10: May 6, 7, 8, 9 (Sat, worked), 11, 12, 13, 14, 15, 18.
    assert calendar.add_working_days(date(2026, 4, 30), 10) == date(2026, 5, 18)
    # Without the calendar the same count ends three days earlier.
    assert WEEKDAYS.add_working_days(date(2026, 4, 30), 10) == date(2026, 5, 14)


def test_a_holiday_source_plugs_in() -> None:
    class GoldenWeek:
        def is_holiday(self, day: date) -> bool:
            return day.month == 10 and day.day <= 7

        def is_adjusted_working_day(self, day: date) -> bool:
            return day == date(2026, 10, 10)

    calendar = WorkingCalendar(GoldenWeek())
    # Wed 09-30 + 1: Oct 1-7 off, Oct 8 (Thu) is the first working day.
    assert calendar.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Oct 8, 9, 10 (Sat, worked).
    assert calendar.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_bad_counts_and_calendars_without_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        WEEKDAYS.add_working_days(date(2026, 5, 1), -1)

    class AlwaysClosed(FixedHolidays):
        def is_holiday(self, day: date) -> bool:
            return True

    with pytest.raises(ValueError, match="no working day"):
        WorkingCalendar(AlwaysClosed()).add_working_days(date(2026, 5, 1), 1)
