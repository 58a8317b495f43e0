"""The noise model: every rate of the generator, in one place, as documented in README.md.

These numbers were decided from the domain before the matcher was first run; do not tune them
on matcher scores (that would make the benchmark no longer held out)."""

from __future__ import annotations

# Kind of entity: share of companies (the rest are natural persons).
COMPANY_SHARE = 0.60

# Records per entity: (count or (low, high) inclusive range, probability).
RECORDS_PER_ENTITY: list[tuple[tuple[int, int], float]] = [
    ((1, 1), 0.35),
    ((2, 2), 0.25),
    ((3, 3), 0.15),
    ((4, 4), 0.10),
    ((5, 5), 0.07),
    ((6, 10), 0.08),
]

BRANCH_RATE = 0.08  # company is a branch of an earlier company (a different entity)
SAME_NAME_RATE = 0.03  # company reuses an earlier company's name in another city
COMMON_NAME_RATE = 0.25  # person carries one of the very common names

DEPARTMENTS = ("market", "tax", "courts", "environment", "customs", "social")
DEPARTMENT_MIX: dict[str, dict[str, float]] = {
    "company": {
        "market": 0.30,
        "tax": 0.25,
        "courts": 0.15,
        "environment": 0.10,
        "customs": 0.10,
        "social": 0.10,
    },
    "person": {"market": 0.15, "tax": 0.15, "courts": 0.40, "social": 0.30},
}

# Company code column: one form per record.
COMPANY_CODE_MIX: dict[str, float] = {
    "uscc": 0.70,
    "org_code": 0.08,
    "taxpayer15": 0.07,
    "none": 0.10,
    "uscc_typo": 0.05,
}

# Company name variants: independent draws.
COMPANY_NAME_NOISE: dict[str, float] = {
    "region_moved": 0.10,
    "legal_form": 0.10,
    "homophone": 0.06,
    "traditional": 0.08,
    "full_width": 0.06,
    "space": 0.06,
}

LEGAL_REP_MISSING = 0.10
LEGAL_REP_CHANGED = 0.03

ADDRESS_NOISE: dict[str, float] = {
    "missing": 0.10,
    "moved": 0.05,
    "drop_province": 0.25,
    "full_width_digits": 0.10,
    "space": 0.05,
}
PERSON_ADDRESS_PRESENT = 0.50
PERSON_HOME_IN_ID_DISTRICT = 0.70

COMPANY_PHONE_PRESENT = 0.35
COMPANY_PHONE_DIFFERENT = 0.10
PERSON_PHONE_PRESENT = 0.30

# Person identifier form, by department: courts publish masked numbers.
_PERSON_ID_OTHER = {
    "ric18": 0.62,
    "ric15": 0.08,
    "masked": 0.05,
    "typo": 0.04,
    "transposed": 0.03,
    "none": 0.18,
}
_PERSON_ID_COURTS = {
    "ric18": 0.40,
    "ric15": 0.05,
    "masked": 0.30,
    "typo": 0.04,
    "transposed": 0.03,
    "none": 0.18,
}
PERSON_ID_MIX: dict[str, dict[str, float]] = {
    dept: (_PERSON_ID_COURTS if dept == "courts" else _PERSON_ID_OTHER) for dept in DEPARTMENTS
}

BIRTH_DATE_WITH_ID = 0.50  # birth date column filled when the record has some id form
BIRTH_DATE_FORMATS = ("compact", "iso", "chinese", "slash")

PERSON_NAME_NOISE: dict[str, float] = {
    "traditional": 0.08,
    "homophone": 0.03,
    "space": 0.03,
}
