"""What each entity appears as in each feed: how many records it gets and where, and each
record's row as the department writes it, noise included.

:class:`RecordPlanner` builds the rows of one entity at a time into a :class:`Chunk`; document
numbers (registry ids, decision and case numbers, customs codes, sequence ids) are left empty
and handed out by :mod:`demo.writers` after the chunk is shuffled.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from demo import vocab
from demo.draws import Weighted, random_date
from demo.feeds import (
    AS_OF,
    FEED_COURT,
    FEED_CUSTOMS,
    FEED_HRSS,
    FEED_PENALTIES,
    FEED_TAX,
    FEEDS,
    PENALTY_MONTHS,
    TAX_YEARS,
)
from demo.noise import Noise, masked_id
from demo.population import EntityKind, SyntheticEntity

__all__ = ["Chunk", "RecordPlanner"]

# The departments as the catalogue lists them (the penalty standard repeats the authority).
_EPB_NAME = "北京市生态环境局"
_EPB_USCC = "11110000400005724E"
_HRSS_NAME = "北京市人力资源和社会保障局"


def _utc_stamp(rng: random.Random, day: date) -> str:
    # Departments update during Beijing office hours, 08:00-18:00, i.e. 00:00-10:00 UTC.
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=rng.randrange(36_000))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Chunk:
    """One chunk's records per feed, written (and numbered) after shuffling."""

    registry: list[tuple[str, list[str]]] = field(default_factory=list)
    tax: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    penalties: list[tuple[str, list[str], date]] = field(default_factory=list)
    customs: list[tuple[str, list[Any], str]] = field(default_factory=list)
    court: list[tuple[str, dict[str, Any], str, int]] = field(default_factory=list)
    hrss: list[tuple[str, list[Any]]] = field(default_factory=list)


# Noise rates per feed: (variant, probability); the rest of the mass is the clean code.
_TAX_CODES = (("taxpayer", 0.10), ("lower", 0.02), ("fullwidth", 0.015), ("bad_check", 0.015))
_PENALTY_CODES = (
    ("missing", 0.03),
    ("org_code", 0.04),
    ("lower", 0.02),
    ("fullwidth", 0.02),
    ("bad_check", 0.02),
    ("spaced", 0.01),
)
_CUSTOMS_CODES = (
    ("missing", 0.03),
    ("org_code", 0.03),
    ("lower", 0.02),
    ("fullwidth", 0.02),
    ("bad_check", 0.02),
)
_COURT_CODES = (
    ("missing", 0.02),
    ("org_code", 0.04),
    ("lower", 0.02),
    ("fullwidth", 0.01),
    ("bad_check", 0.02),
)
_HRSS_CODES = (
    ("missing", 0.03),
    ("org_code", 0.03),
    ("taxpayer", 0.02),
    ("lower", 0.02),
    ("bad_check", 0.02),
)
_REGISTRY_CODES = (("lower", 0.01), ("fullwidth", 0.01), ("bad_check", 0.01), ("spaced", 0.005))

# How many records (1-5) an entity appears in, by kind.
_RECORD_COUNTS: dict[EntityKind, Weighted[int]] = {
    EntityKind.COMPANY: Weighted(list(zip(range(1, 6), (30, 30, 20, 12, 8), strict=True))),
    EntityKind.INDIVIDUAL_BUSINESS: Weighted(
        list(zip(range(1, 6), (45, 30, 15, 7, 3), strict=True))
    ),
    EntityKind.NATURAL_PERSON: Weighted(list(zip(range(1, 6), (55, 25, 12, 5, 3), strict=True))),
}
_ORG_PENALTIES = Weighted([(c, w) for c, w, _ in vocab.PENALTY_CATEGORIES])
_PERSON_PENALTIES = Weighted([(c, w) for c, _, w in vocab.PENALTY_CATEGORIES if w])
_TAX_GRADES = Weighted(vocab.TAX_GRADES)
_ORG_VIOLATIONS = tuple(v for v in vocab.VIOLATIONS if not v.for_persons)
_PERSON_VIOLATIONS = tuple(v for v in vocab.VIOLATIONS if v.for_persons)
_CUSTOMS_LEVELS = Weighted(vocab.CUSTOMS_LEVELS)


class RecordPlanner:
    """Plans and builds the records of one entity after another. Its RNG is the records' (the
    writers shuffle and number with the same one), never the population's."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.noise = Noise(rng)

    def plan(self, entity: SyntheticEntity, chunk: Chunk) -> None:
        rng = self.rng
        total = _RECORD_COUNTS[entity.kind].pick(rng)
        tax_years: list[int] = []
        if entity.kind is EntityKind.NATURAL_PERSON:
            options = [(FEED_COURT, 3.0, 4), (FEED_PENALTIES, 2.0, 3)]
            extra = total
        else:
            chunk.registry.append((entity.key, self._registry_row(entity)))
            extra = total - 1
            if entity.kind is EntityKind.COMPANY:
                established = entity.established or AS_OF
                tax_years = [y for y in TAX_YEARS if established.year <= y]
                options = [
                    (FEED_TAX, 4.0, len(tax_years)),
                    (FEED_PENALTIES, 2.0, 3),
                    (FEED_CUSTOMS, 1.5, 1),
                    (FEED_COURT, 1.5, 3),
                    (FEED_HRSS, 1.0, 2),
                ]
            else:
                options = [(FEED_PENALTIES, 2.0, 3), (FEED_COURT, 1.0, 2), (FEED_HRSS, 1.0, 2)]
        counts = dict.fromkeys(FEEDS, 0)
        for _ in range(extra):
            # A weighted draw among the feeds that still have room for this entity.
            room = sum(weight for feed, weight, cap in options if counts[feed] < cap)
            if not room:
                break
            draw = rng.random() * room
            for feed, weight, cap in options:
                if counts[feed] < cap:
                    chosen = feed
                    draw -= weight
                    if draw < 0:
                        break
            counts[chosen] += 1
        if counts[FEED_TAX] == len(tax_years):
            years = tax_years
        elif counts[FEED_TAX]:
            years = [rng.choice(tax_years)]
        else:
            years = []
        for year in years:
            chunk.tax.append((entity.key, self._tax_record(entity, year)))
        for _ in range(counts[FEED_PENALTIES]):
            row, decided = self._penalty_row(entity)
            chunk.penalties.append((entity.key, row, decided))
        if counts[FEED_CUSTOMS]:
            row, prefix = self._customs_row(entity)
            chunk.customs.append((entity.key, row, prefix))
        for _ in range(counts[FEED_COURT]):
            record, court_code, year = self._court_record(entity)
            chunk.court.append((entity.key, record, court_code, year))
        for _ in range(counts[FEED_HRSS]):
            chunk.hrss.append((entity.key, self._hrss_row(entity)))

    # ----------------------------------------------------------------- record builders

    def _registry_row(self, entity: SyntheticEntity) -> list[str]:
        noise = self.noise
        code = ""
        old_only = entity.registration_number is not None and noise.chance(0.09)
        if entity.uscc is not None and not old_only:
            code = noise.uscc(entity.uscc, _REGISTRY_CODES)[1]
        org = ""
        registration = ""
        if entity.registration_number is not None:
            show_org = entity.org_code is not None and (old_only or noise.chance(0.6))
            show_reg = noise.chance(0.7) or not show_org
            if show_org and entity.org_code is not None:
                org = f"{entity.org_code[:8]}-{entity.org_code[8]}"
            if show_reg:
                registration = entity.registration_number
        return [
            "",  # reg_id, numbered when written
            noise.registry_name(entity),
            code,
            org,
            registration,
            entity.legal_rep or "",
            entity.address or "",
            entity.established.isoformat() if entity.established else "",
            entity.entity_type or "",
            entity.status or "",
        ]

    def _tax_record(self, entity: SyntheticEntity, year: int) -> dict[str, Any]:
        assert entity.uscc is not None
        evaluated = date(year + 1, 3, 1) + timedelta(days=self.rng.randrange(31))
        return {
            "taxpayer_name": self.noise.name(entity),
            "taxpayer_id": self.noise.uscc(entity.uscc, _TAX_CODES)[1],
            "year": year,
            "grade": _TAX_GRADES.pick(self.rng),
            "evaluated_on": evaluated.isoformat(),
        }

    def _party_code(
        self, entity: SyntheticEntity, variants: Sequence[tuple[str, float]]
    ) -> tuple[str, str]:
        if entity.uscc is None:
            return "missing", ""
        return self.noise.uscc(entity.uscc, variants)

    def _penalty_row(self, entity: SyntheticEntity) -> tuple[list[str], date]:
        rng = self.rng
        person = entity.kind is EntityKind.NATURAL_PERSON
        year, month = rng.choice(PENALTY_MONTHS)
        first = date(year, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        decided = random_date(rng, first, min(last, AS_OF))
        found = decided - timedelta(days=rng.randint(20, 90))
        violation = rng.choice(_PERSON_VIOLATIONS if person else _ORG_VIOLATIONS)
        category = (_PERSON_PENALTIES if person else _ORG_PENALTIES).pick(rng)
        content, fine, confiscated, licence = self._penalty_sanction(entity, violation, category)
        # Publicity periods (domain.md): minor 3 months, general 1 year, serious 3 years.
        days = {"警告": 92, "罚款": 365}.get(category, 3 * 365)
        until = (decided + timedelta(days=days)).isoformat()
        # The party's columns draw before its name: the order of draws is the output's.
        party = self._penalty_party(entity)
        facts = (
            f"经查，当事人于{found.year}年{found.month}月{found.day}日"
            f"被发现存在{violation.act}的违法行为。"
        )
        row = [
            self.noise.name(entity),
            *party,
            "",  # CF_XZCFJDSWH, numbered when written
            violation.act,
            facts,
            violation.basis,
            category,
            content,
            fine,
            confiscated,
            licence,
            decided.isoformat(),
            until,
            until,
            _EPB_NAME,
            _EPB_USCC,
            _EPB_NAME,
            _EPB_USCC,
            "当事人已履行完毕" if rng.random() < 0.1 else "",
        ]
        return row, decided

    def _penalty_sanction(
        self, entity: SyntheticEntity, violation: vocab.Violation, category: str
    ) -> tuple[str, str, str, str]:
        """``(CF_NR, CF_NR_FK, CF_NR_WFFF, CF_NR_ZKDX)``: what the decision imposes, the fine
        and the confiscated amount (10,000 yuan) and the licence revoked."""
        rng = self.rng
        fine = ""
        confiscated = ""
        licence = ""
        if category == "罚款":
            step = 0.01 if violation.fine_max < 1 else 0.1
            amount = round(
                round(rng.uniform(violation.fine_min, violation.fine_max) / step) * step, 2
            )
            fine = f"{amount:.6f}"
            content = f"罚款人民币{round(amount * 10_000)}元"
            if entity.kind is not EntityKind.NATURAL_PERSON and rng.random() < 0.05:
                confiscated = f"{round(rng.uniform(0.1, 5), 2):.6f}"
        elif category == "警告":
            content = "警告"
        elif category == "责令停产停业":
            content = "责令停产整治"
        else:
            content = "吊销排污许可证"
            licence = f"排污许可证（证书编号：{entity.uscc}001V）" if entity.uscc else "排污许可证"
        return content, fine, confiscated, licence

    def _penalty_party(self, entity: SyntheticEntity) -> tuple[str, str, str, str, str, str]:
        """``(CF_XDR_LB, CF_XDR_SHXYM, CF_XDR_ZZJG, CF_FRDB, CF_XDR_ZJLX, CF_XDR_ZJHM)``: the
        party's kind and codes; a person is named by a resident id, anyone else by codes."""
        rng = self.rng
        noise = self.noise
        if entity.kind is EntityKind.NATURAL_PERSON:
            id_number = noise.resident_id(entity.resident_id or "")
            return "自然人", "", "", "", "身份证" if id_number else "", id_number
        kind_label = (
            "个体工商户" if entity.kind is EntityKind.INDIVIDUAL_BUSINESS else "法人及非法人组织"
        )
        variant, code = self._party_code(entity, _PENALTY_CODES)
        org = ""
        if entity.org_code is not None and (
            variant == "org_code" or (entity.registration_number and rng.random() < 0.2)
        ):
            org = f"{entity.org_code[:8]}-{entity.org_code[8]}"
        if variant == "org_code":
            code = ""
        return kind_label, code, org, noise.legal_rep(entity), "", ""

    def _customs_row(self, entity: SyntheticEntity) -> tuple[list[Any], str]:
        code = self._party_code(entity, _CUSTOMS_CODES)[1]
        rated = random_date(self.rng, date(2018, 1, 1), AS_OF)
        if entity.established is not None and rated < entity.established:
            rated = random_date(self.rng, min(entity.established, AS_OF), AS_OF)
        level = _CUSTOMS_LEVELS.pick(self.rng)
        return [self.noise.name(entity), code, "", level, rated], entity.district.code[:4]

    def _court_record(self, entity: SyntheticEntity) -> tuple[dict[str, Any], str, int]:
        rng = self.rng
        district = entity.district
        listed = random_date(rng, date(2019, 1, 1), AS_OF - timedelta(days=10))
        removed: date | None = None
        if rng.random() < 0.15:
            candidate = listed + timedelta(days=rng.randint(30, 900))
            removed = candidate if candidate <= AS_OF else None
        changed = removed or listed + timedelta(days=rng.randint(0, 3))
        if entity.kind is EntityKind.NATURAL_PERSON:
            party_type = "自然人"
            # Public lists never show a whole resident number; some keep the birth date.
            id_number = masked_id(entity.resident_id or "", keep_birth=rng.random() < 0.2)
            legal_rep: str | None = None
        else:
            party_type = "法人或其他组织"
            id_number = self._party_code(entity, _COURT_CODES)[1]
            legal_rep = self.noise.legal_rep(entity) or None
        record = {
            "case_number": "",  # numbered when written
            "name": self.noise.name(entity),
            "party_type": party_type,
            "id_number": id_number,
            "legal_rep": legal_rep,
            "court": f"{district.city}{district.name}人民法院",
            "listed_on": listed.isoformat(),
            "reason": rng.choice(vocab.COURT_REASONS),
            "removed_on": removed.isoformat() if removed else None,
            "updated_at": _utc_stamp(rng, min(changed, AS_OF)),
        }
        # Enforcement cases are filed the year before listing or in the same year.
        filed = listed.year - (1 if rng.random() < 0.3 else 0)
        return record, f"{district.court_abbr}{district.code[2:]}", filed

    def _hrss_row(self, entity: SyntheticEntity) -> list[Any]:
        rng = self.rng
        code = self._party_code(entity, _HRSS_CODES)[1]
        listed = random_date(rng, date(2021, 1, 1), AS_OF - timedelta(days=5))
        district = entity.district
        authority = (
            f"北京市{district.name}人力资源和社会保障局"
            if district.city == "北京市" and rng.random() < 0.6
            else _HRSS_NAME
        )
        return [
            None,  # seq_id, numbered when written
            self.noise.name(entity),
            code,
            self.noise.legal_rep(entity),
            listed.isoformat(),
            rng.choice(vocab.HRSS_REASONS),
            authority,
            _utc_stamp(rng, listed + timedelta(days=rng.randint(0, 5))),
        ]

    # ----------------------------------------------------------------- output
