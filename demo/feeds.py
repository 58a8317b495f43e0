"""The six demo feeds as the departments publish them: feed codes, column layouts and the
periods the files cover.

These are the contract between the generator and everything that reads its output
(``sample_data/catalogue.toml``, the benchmarks, the tests), so they live apart from the code
that fills them.
"""

from __future__ import annotations

from datetime import date

__all__ = [
    "AS_OF",
    "COURT_FIELDS",
    "CUSTOMS_COLUMNS",
    "CUSTOMS_MONTH",
    "FEEDS",
    "FEED_COURT",
    "FEED_CUSTOMS",
    "FEED_HRSS",
    "FEED_PENALTIES",
    "FEED_REGISTRY",
    "FEED_TAX",
    "GROUND_TRUTH_COLUMNS",
    "HRSS_COLUMNS",
    "PENALTY_COLUMNS",
    "PENALTY_MONTHS",
    "REGISTRY_COLUMNS",
    "TAX_FIELDS",
    "TAX_YEARS",
]

FEED_REGISTRY = "samr-registry"
FEED_TAX = "tax-credit-grades"
FEED_PENALTIES = "env-penalties"
FEED_CUSTOMS = "customs-credit"
FEED_COURT = "court-dishonest-debtors"
FEED_HRSS = "hrss-arrears"
FEEDS: tuple[str, ...] = (
    FEED_REGISTRY,
    FEED_TAX,
    FEED_PENALTIES,
    FEED_CUSTOMS,
    FEED_COURT,
    FEED_HRSS,
)

REGISTRY_COLUMNS: tuple[str, ...] = (
    "reg_id",
    "name",
    "uscc",
    "org_code",
    "registration_number",
    "legal_rep",
    "address",
    "established",
    "entity_type",
    "status",
)
TAX_FIELDS: tuple[str, ...] = ("taxpayer_name", "taxpayer_id", "year", "grade", "evaluated_on")
PENALTY_COLUMNS: tuple[str, ...] = (
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_XDR_SHXYM",
    "CF_XDR_ZZJG",
    "CF_FRDB",
    "CF_XDR_ZJLX",
    "CF_XDR_ZJHM",
    "CF_XZCFJDSWH",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_NR_FK",
    "CF_NR_WFFF",
    "CF_NR_ZKDX",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_GSJZQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
    "BZ",
)
CUSTOMS_COLUMNS: tuple[str, ...] = (
    "企业名称",
    "统一社会信用代码",
    "海关编码",
    "信用等级",
    "认定日期",
)
COURT_FIELDS: tuple[str, ...] = (
    "case_number",
    "name",
    "party_type",
    "id_number",
    "legal_rep",
    "court",
    "listed_on",
    "reason",
    "removed_on",
    "updated_at",
)
HRSS_COLUMNS: tuple[str, ...] = (
    "seq_id",
    "party_name",
    "uscc",
    "legal_rep",
    "listed_on",
    "reason",
    "authority",
    "updated_at",
)
GROUND_TRUTH_COLUMNS: tuple[str, ...] = ("feed", "source_key", "entity_key")

# The day the synthetic world is observed: no date in any feed lies after it.
AS_OF = date(2026, 3, 31)
TAX_YEARS: tuple[int, ...] = (2024, 2025)
# Penalty drops are monthly files, named by the month of the decision date.
PENALTY_MONTHS: tuple[tuple[int, int], ...] = (
    (2025, 10),
    (2025, 11),
    (2025, 12),
    (2026, 1),
    (2026, 2),
    (2026, 3),
)
CUSTOMS_MONTH = (2026, 3)
