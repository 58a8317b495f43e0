"""Name forms and comparison for entity search: the matcher's normalisation plus a fuzzy score.

``search_form`` is ``matching.exact.normalise_name`` (full-width to half-width, spaces out,
brackets unified) followed by traditional-to-simplified conversion (OpenCC ``t2s``) and
lower-casing. ``core_name`` also drops what varies between spellings of one company:
bracketed parts (``（深圳）``, ``（有限合伙）``), leading division names
(``北京市``, ``北京``, ``浙江省杭州市``) and the legal form (``有限公司`` ...).
Division names come from python-stdnum's division table (``stdnum/cn/loc.dat``), so no
gazetteer is written here; only the province short forms and the legal-form list are.

``name_score`` is rapidfuzz's normalised Indel ratio of the full forms, or of the cores (slightly
discounted, so an exact full-name match still ranks first), or of the best partial alignment of
the cores (discounted more: the query is a fragment of the name).

``search_keys`` is what the ``entities`` table stores next to each display name
(``search_name``, ``search_core``) so search finds names through an index; ``trigrams`` are the
pieces the trigram indexes (SQLite FTS5, PostgreSQL ``pg_trgm``) hold of a core name.
Pure: no Flask, no database.
"""

from __future__ import annotations

import functools
import re

import opencc  # type: ignore[import-untyped]  # ships no type hints
from rapidfuzz import fuzz
from stdnum import numdb

from matching.exact import normalise_name

# Province-level short forms used in front of company names (北京星河..., 浙江星河...).
_PROVINCE_SHORT = [
    *("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江"),
    *("安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆"),
    *("四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港"),
    "澳门",
]
_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "合伙企业",
    "公司",
)
_BRACKETED = re.compile(r"\([^()]*\)")
_NAME_IN_LOC = re.compile(r"(?:\[[^\]]*\])?([^,\[\]]+)")
_MAX_REGION_PREFIXES = 3


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def region_names() -> frozenset[str]:
    """Province, prefecture and county names (full, and short for provinces and prefecture
    cities) from python-stdnum's division table."""
    names: set[str] = set(_PROVINCE_SHORT)
    for _length, _low, _high, props, children in numdb.get("cn/loc").prefixes:
        names.update(_loc_names(props.get("province", "")))
        for _l, code, _h, county_props, _c in children:
            for name in _loc_names(county_props.get("county", "")):
                if len(name) < 3 or name in ("市辖区",):
                    continue
                names.add(name)
                if code.endswith("00") and name.endswith("市"):
                    names.add(name[:-1])  # 杭州市 -> 杭州
    return frozenset(names)


def _loc_names(text: str) -> list[str]:
    return [m.group(1).strip() for m in _NAME_IN_LOC.finditer(text) if m.group(1).strip()]


@functools.lru_cache(maxsize=1 << 14)
def search_form(name: str) -> str:
    """The matcher's normalisation, simplified characters, lower case."""
    simplified: str = _t2s().convert(normalise_name(name))
    return simplified.lower()


@functools.lru_cache(maxsize=1 << 14)
def core_name(name: str) -> str:
    """The part of a name that must agree: no brackets, leading divisions or legal form."""
    text = _BRACKETED.sub("", search_form(name))
    names = region_names()
    for _ in range(_MAX_REGION_PREFIXES):
        prefix = next(
            (text[:n] for n in range(min(len(text) - 2, 8), 1, -1) if text[:n] in names), None
        )
        if prefix is None:
            break
        text = text[len(prefix) :]
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form) + 1:
            text = text[: -len(form)]
            break
    return text


def name_score(query: str, candidate: str) -> float:
    """0..1: how well ``candidate`` answers a search for ``query``."""
    return keys_score(search_keys(query), search_keys(candidate))


def keys_score(query: tuple[str, str], candidate: tuple[str, str]) -> float:
    """:func:`name_score` of two names' :func:`search_keys`: search scores the stored keys of
    its candidates rather than normalising each display name again (OpenCC and the division
    prefixes cost more than the comparison)."""
    (q_full, q_core), (c_full, c_core) = query, candidate
    if not q_full or not c_full:
        return 0.0
    full = fuzz.ratio(q_full, c_full) / 100
    core = fuzz.ratio(q_core, c_core) / 100 if q_core and c_core else 0.0
    partial = fuzz.partial_ratio(q_core, c_core) / 100 if len(q_core) >= 2 and c_core else 0.0
    return round(max(full, 0.95 * core, 0.85 * partial), 4)


# The stored search columns' width (the display name's).
SEARCH_KEY_LENGTH = 300
# Trigram indexes cannot look up anything shorter.
TRIGRAM = 3


def search_keys(name: str) -> tuple[str, str]:
    """``(search_form(name), core_name(name))``, cut to the stored columns' width."""
    return search_form(name)[:SEARCH_KEY_LENGTH], core_name(name)[:SEARCH_KEY_LENGTH]


def trigrams(text: str, limit: int = 16) -> list[str]:
    """The distinct 3-character pieces of ``text`` in order (at most ``limit``; none when
    ``text`` is shorter than three characters)."""
    seen: list[str] = []
    for start in range(len(text) - TRIGRAM + 1):
        gram = text[start : start + TRIGRAM]
        if gram not in seen and not gram.isspace():
            seen.append(gram)
        if len(seen) == limit:
            break
    return seen
