"""The service's own scoring model: trained on its records by ``credithub matching train``,
stored, used by linking at ingest (``resolution.record_matching``), and named on every link
the matcher decides."""

from __future__ import annotations

import random
import re
from types import MappingProxyType
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, MatchingModel, MatchLink
from matching.match_model import MatchModel, default_model
from matching.model import DEFAULT_WEIGHTS
from matching.records import MatchRecord, prepare
from matching.training import train
from resolution.matching_models import current_model, store_model
from tests.resolution.test_record_linking import penalty, push


def _trade_names(count: int) -> list[str]:
    rng = random.Random(8)
    chars = "星河远航鑫明泰飞昌达永太华信恒通光乐创新宏源金瑞天宇博雅"
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.sample(chars, 3)))
    return sorted(names)


def _companies(count: int) -> list[dict[str, Any]]:
    """Two penalty records a company, neither with a code: the registered name and the
    bracketed-region variant, with the same legal representative."""
    items = []
    for i, trade in enumerate(_trade_names(count)):
        rep = f"李{trade[:2]}"
        items.append(penalty(f"A{i}", f"北京{trade}科技有限公司", CF_FRDB=rep))
        items.append(penalty(f"B{i}", f"{trade}科技（北京）有限公司", CF_FRDB=rep))
    return items


def _link_of(session: Session, doc: str) -> MatchLink:
    record = session.scalars(select(CreditRecord).where(CreditRecord.decision_number == doc)).one()
    return session.scalars(
        select(MatchLink).where(MatchLink.source_record_id == record.source_record_id)
    ).one()


def test_without_a_stored_model_the_hand_set_weights_are_used(session: Session) -> None:
    assert current_model(session=session).version == default_model().version


def test_the_newest_stored_model_is_current_and_reads_back_unchanged(session: Session) -> None:
    records = [
        prepare(MatchRecord(f"{n}{i}", name=name, kind="legal_entity", address=f"海淀路{i}号"))
        for i, trade in enumerate(_trade_names(80))
        for n, name in (("a", f"北京{trade}科技有限公司"), ("b", f"{trade}科技（北京）有限公司"))
    ]
    model = train(records)
    assert model.trained
    store_model(session=session, model=model)
    session.flush()
    loaded = current_model(session=session)
    assert loaded.version == model.version and loaded.content() == model.content()

    # Storing the defaults again makes them current; the trained row stays on record.
    store_model(session=session, model=default_model())
    assert current_model(session=session).version == default_model().version
    assert session.scalar(
        select(MatchingModel.records).where(MatchingModel.version == model.version)
    ) == len(records)


def test_a_model_with_a_negative_zero_weight_reads_back_on_either_backend(
    session: Session,
) -> None:
    """PostgreSQL's JSONB has no -0.0: stored as it is, the model's version (a hash of its
    content) would no longer match and linking would refuse the model. It is stored as the
    same weights with 0.0, under that content's version."""
    weights = {t: dict(levels) for t, levels in DEFAULT_WEIGHTS.items()}
    weights["identifiers"]["different"] = -0.0
    model = MatchModel(weights=weights, priors=MappingProxyType({"default": -8.0}))
    row = store_model(session=session, model=model)
    session.flush()
    session.expire_all()
    loaded = current_model(session=session)
    assert loaded.version == row.version
    assert loaded.weights["identifiers"]["different"] == 0.0
    assert loaded.config().weights == model.config().weights  # scores the same


def test_a_damaged_stored_model_is_refused(session: Session) -> None:
    row = store_model(session=session, model=default_model())
    row.document = {**row.document, "priors": {"default": 4.0}}
    session.flush()
    with pytest.raises(ValueError, match="does not match its content"):
        current_model(session=session)


def test_matching_train_then_ingest_links_record_the_models_version(
    runner: FlaskCliRunner, session_factory: sessionmaker[Session]
) -> None:
    push(session_factory, _companies(70))
    with session_factory() as session:
        before = _link_of(session, "B3")
        assert before.explanation["rule"] == "matched"
        assert before.model_version == default_model().version
        assert before.explanation["model_version"] == default_model().version
        # A record an identifier (here: the exact name) decided names no model.
        assert _link_of(session, "A3").model_version is None

    result = runner.invoke(args=["matching", "train"])
    assert result.exit_code == 0, result.output
    assert "trained on 140 records" in result.output
    with session_factory() as session:
        version = session.scalars(select(MatchingModel.version)).one()
    assert f"model {version} " in result.output and version != default_model().version
    # The records linked before it that it could link differently (those sharing a blocking
    # key with another entity's record) were decided again with it, once.
    decided = re.search(r"relinked in .*: (\d+) records decided again", result.output)
    assert decided is not None and 0 < int(decided.group(1)) <= 140, result.output
    again = runner.invoke(args=["matching", "relink"])
    assert again.exit_code == 0, again.output
    assert "0 records decided again" in again.output

    # A later variant of company 3 (half-width brackets, no legal representative, no code).
    trade = _trade_names(70)[3]
    push(session_factory, [penalty("C3", f"{trade}科技(北京)有限公司")])
    with session_factory() as session:
        link = _link_of(session, "C3")
        assert link.model_version == version
        assert link.explanation["model_version"] == version
        assert link.explanation["rule"] == "matched"
        assert link.entity_id == _link_of(session, "A3").entity_id


def test_matching_train_on_an_empty_database_is_a_clear_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["matching", "train"])
    assert result.exit_code != 0
    assert "0 accepted records in the database: nothing to train on" in result.output
