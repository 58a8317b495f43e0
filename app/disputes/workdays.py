"""Working days, for the objection answer deadline ("within 10 working days", domain.md).

Written by hand because the calendar rule itself is trivial; what needs a data source is the list
of Chinese public holidays and adjusted working weekends (调休), which the State Council publishes
each year. That source plugs in as a :class:`HolidaySource` (for example an adapter over the
``chinese-calendar`` package); without one, a :class:`WorkingCalendar` counts Monday to Friday
plus whatever holidays and adjusted working days it is given.

No Flask, no database: pure functions of dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

# A calendar with no working day in a whole year is misconfigured; stop instead of looping.
_MAX_GAP_DAYS = 366


class HolidaySource(Protocol):
    """Where public holidays and adjusted working weekends come from."""

    def is_holiday(self, day: date) -> bool:
        """A weekday on which offices are closed."""
        ...

    def is_adjusted_working_day(self, day: date) -> bool:
        """A Saturday or Sunday on which offices work (调休)."""
        ...


@dataclass(frozen=True)
class FixedHolidays:
    """A :class:`HolidaySource` made of explicit dates (configuration, tests)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    adjusted_working_days: frozenset[date] = field(default_factory=frozenset)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def is_adjusted_working_day(self, day: date) -> bool:
        return day in self.adjusted_working_days


@dataclass(frozen=True)
class WorkingCalendar:
    """Monday to Friday, minus the source's holidays, plus its adjusted working weekend days.

    An adjusted working day wins over a holiday on the same date (a source should not say both).
    """

    source: HolidaySource = field(default_factory=FixedHolidays)

    @classmethod
    def with_dates(
        cls, *, holidays: Iterable[date] = (), adjusted_working_days: Iterable[date] = ()
    ) -> WorkingCalendar:
        return cls(FixedHolidays(frozenset(holidays), frozenset(adjusted_working_days)))

    def is_working_day(self, day: date) -> bool:
        if self.source.is_adjusted_working_day(day):
            return True
        return day.weekday() < 5 and not self.source.is_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself does not count).

        ``days == 0`` gives ``start``. Raises ``ValueError`` for a negative count, or when the
        calendar has no working day for a whole year (a misconfigured holiday source).
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        current, counted, gap = start, 0, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted, gap = counted + 1, 0
            else:
                gap += 1
                if gap > _MAX_GAP_DAYS:
                    last = current - timedelta(days=gap)
                    raise ValueError(f"no working day in the year after {last}")
        return current


# What the service uses until a Chinese holiday source is configured.
WEEKDAYS = WorkingCalendar()


class ChineseCalendarHolidays:
    """Public holidays and 调休 working weekends of mainland China (the ``chinese-calendar``
    package, which carries the State Council's yearly notices). For a year the package does not
    know yet, it answers "no holiday", so the calendar falls back to Monday to Friday."""

    def is_holiday(self, day: date) -> bool:
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_holiday(day)) and day.weekday() < 5
        except NotImplementedError:
            return False

    def is_adjusted_working_day(self, day: date) -> bool:
        import chinese_calendar

        try:
            return day.weekday() >= 5 and bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return False


CHINA = WorkingCalendar(ChineseCalendarHolidays())
