"""Figures computed at scrape time, in the process answering it: they come from the database,
which every worker shares, so one process's answer is the service's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import EntityReview, ReviewStatus


def review_backlog(*, session: Session) -> int:
    """Pairs waiting for a reviewer (an indexed count: ``entity_reviews.status``)."""
    count = session.scalar(
        select(func.count())
        .select_from(EntityReview)
        .where(EntityReview.status == ReviewStatus.PENDING)
    )
    return int(count or 0)


class ScrapeTimeCollector(Collector):
    """The review backlog, read with ``session`` when the registry is collected."""

    def __init__(self, *, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Any]:
        backlog = GaugeMetricFamily(
            "credithub_review_backlog",
            "Entity pairs waiting in the review queue.",
            value=review_backlog(session=self.session),
        )
        yield backlog
