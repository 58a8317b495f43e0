"""Today's date as the service sees it: China Standard Time, unless a fixed date is configured
(``CREDITHUB_TODAY``) so demos and tests control publicity periods and deadlines."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today(fixed: date | None = None) -> date:
    """``fixed`` when given, else today's date in China."""
    return fixed or datetime.now(CHINA).date()
