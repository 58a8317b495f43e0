"""A world for credit-check tests: lists, penalties, grades and ratings stored by the real
pipeline, parties to check, and tokens of the departments that check them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.models import RecordCategory, Role, SharingType
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.credit import (
    USCC_HUAXIN,
    USCC_XIAMEN,
    USCC_XINGHE,
    ingest,
    list_entry,
    make_credit_feed,
    penalty,
    registry,
)

Headers = dict[str, str]
SAMPLE_MEASURES = Path(__file__).resolve().parents[2] / "sample_data" / "measures.toml"
URL = "/api/v1/credit-checks"


@dataclass
class World:
    ids: dict[str, str]
    headers: dict[str, Headers]

    def check(
        self, client: FlaskClient, who: str, identifier: str, matter: str, status: int = 201
    ) -> Any:
        body = {"identifier": identifier, "matter": matter, "reference": "采购〔2026〕7号"}
        response = client.post(URL, json=body, headers=self.headers[who])
        assert response.status_code == status, response.json
        return response.json


def build_world(session_factory: sessionmaker[Session]) -> World:
    """A court's dishonest-debtor list, a not-shared wage-arrears list, penalties, tax grades
    shared with FIN only, customs ratings; 张三 on the court list, three companies and two
    look-alike names."""
    with session_factory() as session:
        dept = {
            code: make_department(session, code=code, name=code)
            for code in ("SAMR", "COURT", "HRSS", "EPB", "TAX", "CUSTOMS", "FIN", "DRC")
        }

        def feed(code: str, owner: str, category: RecordCategory, **extra: Any) -> Any:
            return make_credit_feed(
                session, code=code, department=dept[owner], record_category=category, **extra
            )

        samr = feed("samr-registry", "SAMR", RecordCategory.REGISTRY)
        court = feed("court-debtors", "COURT", RecordCategory.LIST_ENTRY)
        hrss = feed(
            "hrss-arrears", "HRSS", RecordCategory.LIST_ENTRY, sharing_type=SharingType.NOT_SHARED
        )
        epb = feed("env-penalties", "EPB", RecordCategory.PENALTY)
        tax = feed(
            "tax-grades",
            "TAX",
            RecordCategory.TAX_GRADE,
            sharing_type=SharingType.CONDITIONAL,
            sharing_conditions={"departments": ["FIN"], "roles": ["regulator"]},
        )
        customs = feed("customs", "CUSTOMS", RecordCategory.CUSTOMS_RATING)
        ids: dict[str, str] = {}
        ids["zhang"] = ingest(session, court, [list_entry("c1")])[0].entity_id or ""
        ids["xinghe"] = ingest(session, samr, [registry("r1")])[0].entity_id or ""
        ids["huaxin"] = (
            ingest(
                session, samr, [registry("r2", party_name="北京华信贸易有限公司", uscc=USCC_HUAXIN)]
            )[0].entity_id
            or ""
        )
        ids["xingchen"] = (
            ingest(
                session,
                samr,
                [registry("r3", party_name="北京星河科技发展有限公司", uscc=USCC_XIAMEN)],
            )[0].entity_id
            or ""
        )
        ingest(
            session,
            hrss,
            [
                list_entry(
                    "h1",
                    party_name="北京星河科技有限公司",
                    id_number=None,
                    uscc=USCC_XINGHE,
                    list_name="拖欠农民工工资失信联合惩戒对象名单",
                    listed_on="2026-02-01",
                )
            ],
        )
        ingest(session, epb, [penalty("p1", penalty_category="吊销许可证", fine_amount=None)])
        ingest(
            session,
            tax,
            [{"source_id": "t1", "party_name": "北京华信贸易有限公司", "uscc": USCC_HUAXIN,
              "year": 2025, "grade": "A"}],
        )  # fmt: skip
        ingest(
            session,
            customs,
            [{"source_id": "k1", "party_name": "北京华信贸易有限公司", "uscc": USCC_HUAXIN,
              "grade": "高级认证企业", "decision_date": "2026-01-05"}],
        )  # fmt: skip
        session.commit()
    headers = {
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
        **{
            code.lower(): make_token(session_factory, Role.DEPARTMENT, department_code=code)
            for code in ("FIN", "HRSS", "DRC")
        },
    }
    return World(ids, headers)
