"""Identifiers computed from the standards in /work/shared/domain.md (GB 11714 organization
code, GB 32100 USCC, GB 11643 resident id), plus the ways clerks get them wrong. The check
characters are computed here from the published formulas and cross-checked against
python-stdnum in the tests: the generator must not borrow the matcher's code."""

from __future__ import annotations

import random
from datetime import date

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"


def org_code_check(body: str) -> str:
    """GB 11714 check of an 8-char organization code body (0-9, A-Z worth 0-35)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def uscc_check(first17: str) -> str:
    """GB 32100 check character: (31 - weighted sum mod 31) mod 31 in the 31-char alphabet."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def ric_check(first17: str) -> str:
    """GB 11643 ISO 7064 MOD 11-2 check character."""
    total = sum(int(ch) * w for ch, w in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def new_org_code(rng: random.Random) -> str:
    """A 9-char organization code. Half look like pre-2015 numeric codes, half like the
    `MA…` codes issued with USCCs; only USCC-alphabet characters, so it embeds in a USCC."""
    if rng.random() < 0.5:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    else:
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    return body + org_code_check(body)


def make_uscc(division: str, org_code: str, prefix: str = "91") -> str:
    """USCC = registration authority + entity type (`91`: market regulation, company) +
    6-digit division + 9-char org code + check."""
    first17 = prefix + division + org_code
    return first17 + uscc_check(first17)


def taxpayer15(uscc: str) -> str:
    """The old 15-char taxpayer number: division + organization code (chars 3-17 of the USCC)."""
    return uscc[2:17]


def org_code_written(uscc: str, hyphen: bool) -> str:
    """The organization code inside a USCC, written bare or as `XXXXXXXX-X`."""
    org = uscc[8:17]
    return f"{org[:8]}-{org[8]}" if hyphen else org


def make_ric(division: str, birth: date, sequence: int) -> str:
    """18-digit resident id: division + YYYYMMDD + 3-digit sequence (odd = male) + check."""
    first17 = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return first17 + ric_check(first17)


def ric_to_15(ric: str) -> str:
    """First-generation 15-digit number: the 18-digit one without the century and the check."""
    return ric[:6] + ric[8:17]


def ric_from_15(old: str) -> str:
    """Upgrade a 15-digit number by inserting `19` and appending the check (domain.md)."""
    first17 = old[:6] + "19" + old[6:]
    return first17 + ric_check(first17)


def masked_ric(ric: str) -> str:
    """The form public lists print: region, eight stars, the last four characters."""
    return ric[:6] + "*" * 8 + ric[-4:]


def typo_uscc(uscc: str, rng: random.Random) -> str:
    """One character replaced by another alphabet character. A single substitution always
    changes the weighted sum by a non-multiple of 31 (31 is prime), so the check fails."""
    pos = rng.randrange(18)
    new = rng.choice([ch for ch in USCC_ALPHABET if ch != uscc[pos]])
    return uscc[:pos] + new + uscc[pos + 1 :]


def typo_ric(ric: str, rng: random.Random) -> str:
    """One of the first 17 digits replaced: MOD 11-2 detects every single substitution."""
    pos = rng.randrange(17)
    new = rng.choice([d for d in "0123456789" if d != ric[pos]])
    return ric[:pos] + new + ric[pos + 1 :]


def transpose_ric(ric: str, rng: random.Random) -> str:
    """Two adjacent different digits among the first 17 swapped: adjacent MOD 11-2 weights
    differ, so the check fails. Positions with equal neighbours are skipped."""
    spots = [i for i in range(16) if ric[i] != ric[i + 1]]
    pos = rng.choice(spots)
    return ric[:pos] + ric[pos + 1] + ric[pos] + ric[pos + 2 :]
