"""The noise real feeds carry: other spellings of names, traditional and full-width
characters, typos, stray spaces, changed legal representatives, and codes written in lower
case, full width, with a wrong check character, as the old organization code or taxpayer
number, or not at all.

:class:`Noise` draws from the RNG it is given (the records', never the population's), so the
population stays the same whatever noise the feeds add.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from demo import vocab
from demo.draws import USCC_ALPHABET, person_name
from demo.population import EntityKind, SyntheticEntity

__all__ = ["Noise", "masked_id", "to_fullwidth", "to_traditional"]

_TRADITIONAL_TABLE = str.maketrans(vocab.TRADITIONAL_CHARS)
_FULLWIDTH_TABLE = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def to_traditional(text: str) -> str:
    """Spell the words and characters of the built-in table in traditional characters."""
    for simplified, traditional in vocab.TRADITIONAL_WORDS:
        text = text.replace(simplified, traditional)
    return text.translate(_TRADITIONAL_TABLE)


def to_fullwidth(text: str) -> str:
    """Turn printable ASCII into the full-width forms (U+FF01-U+FF5E) Chinese IMEs produce."""
    return text.translate(_FULLWIDTH_TABLE)


class Noise:
    """Record-level noise. Its RNG is separate from the population's, so the population stays
    the same whatever the feeds do with it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def name(self, entity: SyntheticEntity) -> str:
        rng = self.rng
        name = entity.name
        if entity.kind is EntityKind.NATURAL_PERSON:
            if rng.random() < 0.01:
                name = to_traditional(name)
            if rng.random() < 0.01:
                name = self._typo(name, entity.brand)
            return name
        if entity.alt_names and rng.random() < 0.15:
            name = rng.choice(entity.alt_names)
        if rng.random() < 0.03:
            name = to_traditional(name)
        if rng.random() < 0.025:
            name = self._typo(name, entity.brand)
        if rng.random() < 0.03:
            name = self._width(name)
        if rng.random() < 0.01:
            name = rng.choice((f" {name}", f"{name} ", f"{name}\u3000"))
        return name

    def registry_name(self, entity: SyntheticEntity) -> str:
        # The registry is the master copy: only formatting slips, never another spelling.
        name = entity.name
        if self.rng.random() < 0.01:
            name = self._width(name)
        if self.rng.random() < 0.005:
            name += " "
        return name

    def _width(self, name: str) -> str:
        if "（" in name:
            return name.replace("（", "(").replace("）", ")")
        if any(ch.isascii() for ch in name):
            return to_fullwidth(name)
        return name.replace("有限公司", "有限公司\u3000") if self.rng.random() < 0.3 else name

    def _typo(self, name: str, brand: str) -> str:
        candidates = [i for i, ch in enumerate(brand) if ch in vocab.TYPOS]
        if not brand or brand not in name:
            return name
        if candidates:
            i = self.rng.choice(candidates)
            wrong = vocab.TYPOS[brand[i]]
        else:
            i = self.rng.randrange(len(brand))
            wrong = self.rng.choice([c for c in vocab.BRAND_CHARS if c != brand[i]])
        return name.replace(brand, brand[:i] + wrong + brand[i + 1 :], 1)

    def legal_rep(self, entity: SyntheticEntity) -> str:
        rng = self.rng
        if entity.legal_rep is None or rng.random() < 0.04:
            return ""
        if rng.random() < 0.02:
            # The legal representative changed and this department has the new (or old) one.
            return person_name(rng)
        return entity.legal_rep

    def uscc(self, code: str, variants: Sequence[tuple[str, float]]) -> tuple[str, str]:
        """Pick a variant ("clean" if none fires) and return (variant, mangled code)."""
        draw = self.rng.random()
        for variant, p in variants:
            if draw < p:
                return variant, self._mangle(code, variant)
            draw -= p
        return "clean", code

    def _mangle(self, code: str, variant: str) -> str:
        if variant == "lower":
            return code.lower()
        if variant == "fullwidth":
            return to_fullwidth(code)
        if variant == "bad_check":
            # A typing slip in the last character: the code fails its check but the record is
            # kept (ground truth still names the entity).
            return code[:17] + self.rng.choice(USCC_ALPHABET.replace(code[17], ""))
        if variant == "spaced":
            return f"{code[:8]} {code[8:]}" if self.rng.random() < 0.5 else f"{code[:8]}-{code[8:]}"
        if variant == "org_code":
            return f"{code[8:16]}-{code[16]}"
        if variant == "taxpayer":
            return code[2:17]
        if variant == "missing":
            return ""
        return code

    def resident_id(self, number: str) -> str:
        """A full resident id as a penalty feed carries it (mostly clean)."""
        rng = self.rng
        draw = rng.random()
        if draw < 0.04 and number[6:8] == "19":
            return number[:6] + number[8:17]  # the old 15-digit form
        if draw < 0.07:
            return masked_id(number, keep_birth=False)
        if draw < 0.09:
            return ""
        if number.endswith("X") and rng.random() < 0.5:
            return number[:17] + "x"
        return number


def masked_id(number: str, *, keep_birth: bool) -> str:
    """A resident id as public lists show it: the birth date hidden (region and last four
    shown), or with ``keep_birth`` only the last four hidden."""
    if keep_birth:
        return number[:14] + "****"
    return number[:6] + "********" + number[14:]
