"""Reading the catalogue of data resources."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Department, Feed


def list_catalogue(*, session: Session) -> list[dict[str, Any]]:
    """Every feed with its catalogue fields; adapter settings (URLs, credentials) stay out."""
    rows = session.execute(select(Feed, Department).join(Department).order_by(Feed.code))
    return [
        {
            "code": feed.code,
            "name": feed.name,
            "department_code": dept.code,
            "department_name": dept.name,
            "classification": feed.classification,
            "summary": feed.summary,
            "format": feed.format,
            "record_category": feed.record_category.value,
            "data_items": feed.data_items or [],
            "update_cycle": feed.update_cycle,
            "sharing_type": feed.sharing_type.value,
            "sharing_conditions": feed.sharing_conditions or {},
            "sharing_method": feed.sharing_method,
            "open_data": feed.open_data,
            "release_date": feed.release_date,
            "adapter": feed.adapter.value,
            "schedule": feed.schedule,
            "enabled": feed.enabled,
            "watermark": feed.watermark,
        }
        for feed, dept in rows
    ]
