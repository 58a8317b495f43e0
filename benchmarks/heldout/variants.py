"""Surface variants of names, addresses and dates as different departments write them."""

from __future__ import annotations

import random
from datetime import date
from functools import lru_cache

from opencc import OpenCC

from benchmarks.heldout.vocab import HOMOPHONES

_S2T = OpenCC("s2t")


@lru_cache(maxsize=65536)
def traditional(text: str) -> str:
    """Simplified to traditional (OpenCC s2t); cached because OpenCC is slow per call."""
    return str(_S2T.convert(text))


def full_width(text: str) -> str:
    """ASCII letters / digits to full-width (U+FF01…); what some Windows input methods emit."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def swap_bracket_width(text: str) -> str:
    """Full-width brackets to half-width and back: the other width variant for names
    without Latin letters."""
    if "（" in text:
        return text.replace("（", "(").replace("）", ")")
    return text.replace("(", "（").replace(")", "）")


def stray_space(text: str, rng: random.Random) -> str:
    """One space inside the string (never at the ends, where any reader strips it)."""
    if len(text) < 2:
        return text
    pos = rng.randrange(1, len(text))
    return text[:pos] + " " + text[pos:]


def homophone(text: str, rng: random.Random, within: str | None = None) -> str:
    """Replace one character that has a homophone, preferring those inside `within` (the trade
    name) so the typo hits the distinguishing part. Unchanged if none qualifies."""
    region = within if within and within in text else text
    start = text.index(region)
    spots = [start + i for i, ch in enumerate(region) if ch in HOMOPHONES]
    if not spots:
        return text
    pos = rng.choice(spots)
    return text[:pos] + HOMOPHONES[text[pos]] + text[pos + 1 :]


def birth_date_text(birth: date, style: str) -> str:
    """The four ways departments write a birth date."""
    if style == "compact":
        return f"{birth:%Y%m%d}"
    if style == "iso":
        return birth.isoformat()
    if style == "chinese":
        return f"{birth.year}年{birth.month}月{birth.day}日"
    return f"{birth.year}/{birth.month}/{birth.day}"


def full_width_digits(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() and ch.isascii() else ch for ch in text)
