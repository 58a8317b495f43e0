"""The scoring model the service links with: the newest one ``credithub matching train`` stored
(``core.models.MatchingModel``), or the hand-set default weights while none is stored.

A stored document is checked when it is read (``MatchModel.from_dict``: its version must match
its content), so a row edited by hand is refused instead of silently scoring differently.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import MatchingModel
from matching.match_model import MatchModel, default_model

__all__ = ["current_model", "portable", "store_model"]


def portable(model: MatchModel) -> MatchModel:
    """``model`` as a JSON column of either backend gives it back: PostgreSQL's JSONB has no
    negative zero (a weight trained to ``-0.0`` reads back ``0``), so the version, a hash of
    the content, would no longer match and the stored model would be refused. The same
    model with ``0.0`` for ``-0.0`` (it scores the same), under the version of that
    content."""
    document = _no_negative_zero(model.to_dict())
    document.pop("version", None)
    return MatchModel.from_dict(document)


def _no_negative_zero(value: Any) -> Any:
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, dict):
        return {k: _no_negative_zero(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_negative_zero(v) for v in value]
    return value


def store_model(*, session: Session, model: MatchModel) -> MatchingModel:
    """Store ``model`` (made :func:`portable`: its stored version may differ from
    ``model.version`` when a weight is ``-0.0``) as the one to link with from now on (a model
    of the same version already stored is made current again). Does not commit."""
    model = portable(model)
    row = session.scalar(select(MatchingModel).where(MatchingModel.version == model.version))
    if row is not None:
        session.delete(row)
        session.flush()
    records = model.training.get("records_given", 0)
    row = MatchingModel(
        version=model.version,
        records=records if isinstance(records, int) else 0,
        document=model.to_dict(),
    )
    session.add(row)
    session.flush()
    return row


def current_model(*, session: Session) -> MatchModel:
    """The newest stored model, or the default weights when none is stored. Raises
    ValueError when the stored document is damaged (its version does not match it)."""
    document = session.scalar(select(MatchingModel.document).order_by(MatchingModel.id.desc()))
    if document is None:
        return default_model()
    return MatchModel.from_dict(document)
