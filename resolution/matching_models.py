"""The scoring model the service links with: the newest one ``credithub matching train`` stored
(``core.models.MatchingModel``), or the hand-set default weights while none is stored.

A stored document is checked when it is read (``MatchModel.from_dict``: its version must match
its content), so a row edited by hand is refused instead of silently scoring differently.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import MatchingModel
from matching.match_model import MatchModel, default_model

__all__ = ["current_model", "store_model"]


def store_model(*, session: Session, model: MatchModel) -> MatchingModel:
    """Store ``model`` as the one to link with from now on (a model of the same version
    already stored is made current again). Does not commit."""
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
