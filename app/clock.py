"""Today's date as the service sees it: China Standard Time, or the configured fixed date
(``CREDITHUB_TODAY``) so demos and tests control publicity periods and deadlines."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from .web_db import runtime

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    fixed = runtime().config.fixed_today
    return fixed or datetime.now(CHINA).date()
