"""Normalisers for company names, person names and addresses.

Character clean-up uses the standard library (NFKC turns full-width into half-width) and
OpenCC (traditional to simplified). The gazetteer is python-stdnum's division table
(``numdb.get("cn/loc")``), read once. What is written here by hand is the part no installed
library does: splitting a Chinese company name into region / trade name / industry / legal form /
branch, and an address into province / city / district / street / rest.

Every function is pure and cached by value, so a record is normalised once however often it is
compared. None of them raises: empty or odd input gives empty fields.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from opencc import OpenCC  # type: ignore[import-untyped]  # ships no type hints
from stdnum import numdb

__all__ = [
    "Address",
    "CompanyName",
    "Gazetteer",
    "gazetteer",
    "normalise_address",
    "normalise_company_name",
    "normalise_person_name",
    "normalise_text",
    "pinyin",
    "region_compatible",
    "same_legal_form",
    "sound_alike",
    "soundex",
    "to_simplified",
]

# Longest first, so 股份有限公司 wins over 有限公司.
LEGAL_FORMS: tuple[str, ...] = tuple(
    sorted(
        (
            "集团股份有限公司",
            "集团有限责任公司",
            "集团有限公司",
            "股份有限公司",
            "有限责任公司",
            "有限公司",
            "股份合作公司",
            "股份公司",
            "总公司",
            "公司",
            "普通合伙企业",
            "有限合伙企业",
            "合伙企业",
            "个人独资企业",
            "专业合作社",
            "合作社",
            "事务所",
            "工作室",
            "经营部",
            "门市部",
            "商行",
            "商店",
            "集团",
            "厂",
            "店",
            "部",
            "馆",
            "铺",
        ),
        key=len,
        reverse=True,
    )
)
# Markers that make a name a branch whatever precedes them.
_BRANCH_ALWAYS = ("分公司", "分店", "分厂", "分部", "分行", "支行", "分社", "分所", "分中心")
# Markers that only mean "branch" after a full company name (a shop may be called 门市部).
_BRANCH_AFTER_FORM = ("办事处", "营业部", "门市部", "经营部", "服务部")
_BRANCH_RE = re.compile(
    "(第[一二三四五六七八九十0-9]+)?("
    + "|".join(sorted(_BRANCH_ALWAYS + _BRANCH_AFTER_FORM, key=len, reverse=True))
    + ")$"
)
INDUSTRIES: tuple[str, ...] = tuple(
    sorted(
        (
            "科技",
            "信息技术",
            "信息科技",
            "网络科技",
            "网络技术",
            "网络",
            "贸易",
            "商贸",
            "国际贸易",
            "进出口",
            "建设工程",
            "建筑工程",
            "装饰工程",
            "工程",
            "建设",
            "餐饮管理",
            "餐饮",
            "物流",
            "医药",
            "电子",
            "文化传媒",
            "传媒",
            "房地产开发",
            "房地产",
            "环保科技",
            "机械设备",
            "生物技术",
            "生物科技",
            "实业",
            "投资管理",
            "投资",
            "企业管理咨询",
            "咨询",
            "新能源",
            "化工",
            "食品",
            "建材",
            "汽车服务",
            "发展",
            "技术",
            "服务",
            "管理",
        ),
        key=len,
        reverse=True,
    )
)
_PUNCT_RE = re.compile(r"[\s\u3000·•・‧.,，。、;；:：!！?？'\"“”‘’`~^*_\-—/\\|<>《》〈〉+=#@&%$]")
_BRACKET_TABLE = str.maketrans({"[": "(", "]": ")", "【": "(", "】": ")", "{": "(", "}": ")"})
_PARTNERSHIP_RE = re.compile(r"\((有限合伙|普通合伙|特殊普通合伙)\)$")
_BRACKETED_RE = re.compile(r"\(([^()]*)\)")
_STREET_RE = re.compile(r"^(.+?(?:大街|大道|胡同|路|街|道|巷|里|弄))(.*)$")


# --------------------------------------------------------------------------- characters


@functools.cache
def _converter() -> OpenCC:
    return OpenCC("t2s")


# Characters t2s leaves as they are, learnt one by one: a set test in C replaces a per-character
# Python loop on every text (most text has no traditional character at all).
_UNCHANGED: set[str] = set()


def _needs_conversion(text: str) -> bool:
    if _UNCHANGED.issuperset(text):
        return False
    changes = False
    for ch in set(text).difference(_UNCHANGED):
        if _converter().convert(ch) != ch:
            changes = True
        else:
            _UNCHANGED.add(ch)
    return changes


@functools.lru_cache(maxsize=1 << 18)
def to_simplified(text: str) -> str:
    """Traditional to simplified characters (OpenCC ``t2s``).

    OpenCC is slow per call, so text none of whose characters t2s would change (almost all
    of it) passes straight through; the rest is converted whole, phrases included.
    """
    if text.isascii() or not _needs_conversion(text):
        return text
    result: str = _converter().convert(text)
    return result


def _nfkc_simplified(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text)).translate(_BRACKET_TABLE)


@functools.lru_cache(maxsize=1 << 18)
def normalise_text(text: str | None) -> str:
    """NFKC, simplified characters, upper case, brackets, punctuation and spaces removed."""
    if not text:
        return ""
    cleaned = _PUNCT_RE.sub("", _nfkc_simplified(text)).upper()
    return cleaned.replace("(", "").replace(")", "")


def normalise_person_name(name: str | None) -> str:
    """A person's name for comparison: same clean-up as :func:`normalise_text` (middle dots
    of minority and foreign names included)."""
    return normalise_text(name)


# Sounds that speakers of many dialects (and pinyin input-method users) do not tell apart:
# front and back nasal finals, flat and retroflex initials ("fuzzy pinyin" of input methods).
_FUZZY = (("ing", "in"), ("eng", "en"), ("ang", "an"), ("zh", "z"), ("ch", "c"), ("sh", "s"))


def _fuzzy(syllable: str) -> str:
    for long, short in _FUZZY:
        syllable = syllable.replace(long, short)
    return syllable


@functools.cache
def _table() -> dict[str, str]:
    """pypinyin's own single-character table (code point -> readings, commonest first),
    read directly: importing pypinyin loads its phrase dictionary too, about a second that a
    character-by-character reading never uses."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin is not installed", name="pypinyin")
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    table: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return table


def _readings(ch: str) -> tuple[str, ...]:
    """A character's readings, commonest first, as ``pypinyin.pinyin(ch, style=NORMAL,
    heteronym=True)`` gives them (a test compares the two on every character); () if none."""
    text = _table().get(str(ord(ch)))
    # Readings that differ only in tone become one (in order), as in pypinyin.
    return tuple(dict.fromkeys(map(_toneless, text.split(",")))) if text else ()


def _toneless(reading: str) -> str:
    # pypinyin's NORMAL style: tone marks dropped, ü written v, ê kept.
    parts = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    parts = parts.replace("e\u0302", "\u00ea")
    return "".join(ch for ch in parts if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=1 << 15)
def _sound(ch: str) -> str:
    """The commonest reading of one character, toneless and fuzzy; the character itself if
    it has none (Latin letters, digits)."""
    if ch.isascii():
        return ch
    readings = _readings(ch)
    return _fuzzy(readings[0]) if readings else ch


@functools.lru_cache(maxsize=1 << 18)
def pinyin(text: str) -> str:
    """The toneless pinyin of (normalised) text in fuzzy form (see ``_FUZZY``), one syllable
    per character joined by ``-`` (``"鑫明"`` and ``"鑫名"`` both give ``"xin-min"``).
    Homophones (an input method's wrong pick of a character of one sound) agree here. Each
    character takes its commonest reading (pypinyin's table), character by character."""
    return "-".join(map(_sound, text))


@functools.lru_cache(maxsize=1 << 15)
def _sounds(ch: str) -> frozenset[str]:
    if ch.isascii():
        return frozenset((ch,))
    readings = _readings(ch)
    return frozenset(_fuzzy(r) for r in readings) if readings else frozenset((_fuzzy(ch),))


def sound_alike(x: str, y: str) -> bool:
    """Two texts of one length whose characters differ only where they share a reading
    (every reading of a character with several, in fuzzy form): 航 / 行 (hang), 星 / 心
    (xing / xin), 鑫明 / 鑫名."""
    if len(x) != len(y):
        return False
    return all(a == b or _sounds(a) & _sounds(b) for a, b in zip(x, y, strict=True))


_SOUNDEX = str.maketrans("BFPVCGJKQSXZDTLMNR", "111122222222334556")


@functools.lru_cache(maxsize=1 << 18)
def soundex(word: str) -> str:
    """American Soundex of an upper-case Latin word (``"ROBERT"`` and ``"RUPERT"`` give
    ``"R163"``); "" for an empty word."""
    if not word:
        return ""
    codes = word.translate(_SOUNDEX)
    out = word[0]
    last = codes[0]
    for ch, code in zip(word[1:], codes[1:], strict=True):
        if code.isdigit() and code != last:
            out += code
            if len(out) == 4:
                break
        if ch not in "HW":
            last = code
    return out.ljust(4, "0")


# --------------------------------------------------------------------------- gazetteer


@dataclass(frozen=True)
class Gazetteer:
    """Division names from python-stdnum's ``cn/loc`` table.

    ``names`` maps a name (full, and short without its 省/市/区/县/... suffix) to division codes:
    2 digits for a province, 4 for a prefecture, 6 for a county. ``leading`` holds the names
    allowed to start a company name (provinces, prefectures, full county names).
    """

    names: dict[str, tuple[str, ...]]
    leading: frozenset[str]
    max_length: int


_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@functools.cache
def gazetteer() -> Gazetteer:
    """Build the gazetteer once (about 0.2 s)."""
    names: dict[str, set[str]] = {}
    leading: set[str] = set()

    def add(names_text: str, code: str, lead: bool, short_lead: bool) -> None:
        # Renamed divisions list every name they had: "[1983-1992]旧名,[1993-]新名".
        for part in names_text.split(","):
            add_one(re.sub(r"^\[[^\]]*\]", "", part), code, lead, short_lead)

    def add_one(name: str, code: str, lead: bool, short_lead: bool) -> None:
        if not name or name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            return
        short = _short(name)
        for form in {name, short}:
            names.setdefault(form, set()).add(code)
        if lead:
            leading.add(name)
            if short_lead:
                leading.add(short)

    for _, low, _, props, children in numdb.get("cn/loc").prefixes:
        province = props.get("province")
        if province:
            add(province, low, True, True)
        for _, sub, _, sub_props, _ in children:
            county = sub_props.get("county")
            if not county or sub == "0000":
                continue
            if sub.endswith("00"):
                add(county, low + sub[:2], True, True)
            else:
                add(county, low + sub, True, False)
    frozen = {name: tuple(sorted(codes)) for name, codes in names.items()}
    return Gazetteer(frozen, frozenset(leading), max(len(n) for n in leading))


def _pick_code(codes: tuple[str, ...], context: str) -> str:
    """Of several divisions with one name, the one inside ``context``; else the first."""
    for code in codes:
        if context and code.startswith(context):
            return code
    return codes[0]


@functools.cache
def _leading_starts() -> frozenset[str]:
    """The first two characters of every leading region name (all have two or more)."""
    return frozenset(name[:2] for name in gazetteer().leading)


def _strip_leading_regions(text: str) -> tuple[str, str]:
    """Strip province / city / county names from the front; return (rest, division code)."""
    gaz = gazetteer()
    starts = _leading_starts()
    region = ""
    while True:
        if text[:2] not in starts:
            # No region name starts so (most names): the longest-first search finds none.
            return text, region
        # Longest name first; keep at least two characters of name after the region.
        for length in range(min(gaz.max_length, len(text) - 2), 1, -1):
            name = text[:length]
            if name in gaz.leading:
                codes = gaz.names[name]
                if region and not any(code.startswith(region) for code in codes):
                    # Not inside the region already read: a street or trade name that is
                    # also a place name elsewhere (广州市越秀区 then 中山路, 中山 in Dalian).
                    return text, region
                region = _pick_code(codes, region)
                text = text[length:]
                break
        else:
            return text, region


def region_of(text: str) -> str:
    """Division code of a region name (full or short, e.g. 北京, 朝阳区); "" if unknown."""
    codes = gazetteer().names.get(text)
    return codes[0] if codes else ""


def region_compatible(a: str, b: str) -> bool:
    """Two division codes agree when either is missing or one contains the other."""
    return not a or not b or a.startswith(b) or b.startswith(a)


# --------------------------------------------------------------------------- company names


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company (or shop) name split into its parts.

    ``full``: the cleaned whole name; ``core``: trade name + industry (what must agree);
    ``base``: region-free name of the head office incl. legal form (for branch checks);
    ``region``: division code of the leading or bracketed region ("" if none);
    ``branch``: the branch marker (分公司, ...) or ""; ``branch_place``: the place or ordinal
    before it.
    """

    full: str
    core: str
    trade: str
    industry: str
    region: str
    legal_form: str
    branch: str
    branch_place: str

    @property
    def is_branch(self) -> bool:
        return bool(self.branch)


# Legal forms that name one form: 有限公司 is the short name of 有限责任公司 (Company Law).
_FORM_ALIASES = {"有限责任公司": "有限公司", "集团有限责任公司": "集团有限公司"}


def same_legal_form(a: str, b: str) -> bool:
    """Whether two legal forms of :data:`LEGAL_FORMS` are one (either may be "")."""
    return _FORM_ALIASES.get(a, a) == _FORM_ALIASES.get(b, b)


def _split_legal_form(text: str) -> tuple[str, str]:
    partnership = _PARTNERSHIP_RE.search(text)
    extra = ""
    if partnership:
        extra = partnership.group(1)
        text = text[: partnership.start()]
    for form in LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            return text[: -len(form)], form + extra
    return text, extra


def _split_branch(text: str) -> tuple[str, str, str]:
    """(parent name, branch marker, branch place)."""
    match = _BRANCH_RE.search(text)
    if not match or match.start() == 0:
        return text, "", ""
    marker = match.group(2)
    before = text[: match.start()]
    ordinal = match.group(1) or ""
    # The parent's name ends with its legal form; the place sits between it and the marker.
    best = -1
    for form in LEGAL_FORMS:
        if len(form) < 2:
            continue
        pos = before.rfind(form)
        if pos > 0:
            best = max(best, pos + len(form))
    if best < 0:
        if marker in _BRANCH_AFTER_FORM:
            return text, "", ""
        return before, marker, ordinal
    return before[:best], marker, before[best:] + ordinal


@functools.lru_cache(maxsize=1 << 20)
def normalise_company_name(name: str | None) -> CompanyName:
    """Split a company name: ``"星河科技（北京）有限公司上海分公司"`` gives core 星河科技,
    region 11 (北京), legal form 有限公司, branch 分公司 at 上海."""
    if not name:
        return CompanyName("", "", "", "", "", "", "", "")
    text = _PUNCT_RE.sub("", _nfkc_simplified(name)).upper()
    full = text.replace("(", "").replace(")", "")
    parent, branch, place = _split_branch(text)
    parent, form = _split_legal_form(parent)
    region = ""
    bracketed = _BRACKETED_RE.findall(parent)
    for inner in bracketed:
        code = region_of(inner)
        if code:
            region = code
    parent = _BRACKETED_RE.sub(lambda m: "" if region_of(m.group(1)) else m.group(1), parent)
    parent = parent.replace("(", "").replace(")", "")
    rest, leading = _strip_leading_regions(parent)
    if leading:
        compatible = region_compatible(leading, region)
        region = leading if compatible and len(leading) >= len(region) else region or leading
    industry = ""
    trade = rest
    for word in INDUSTRIES:
        if rest.endswith(word) and len(rest) > len(word):
            industry, trade = word, rest[: -len(word)]
            break
    return CompanyName(
        full=full,
        core=rest,
        trade=trade,
        industry=industry,
        region=region,
        legal_form=form,
        branch=branch,
        branch_place=place.replace("(", "").replace(")", ""),
    )


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class Address:
    """An address split with the gazetteer: division codes and the text after them."""

    full: str
    province: str
    city: str
    district: str
    street: str
    rest: str

    @property
    def region(self) -> str:
        return self.district or self.city or self.province


@functools.lru_cache(maxsize=1 << 20)
def normalise_address(address: str | None) -> Address:
    """``"北京市朝阳区建国路88号"`` gives province 11, district 110105, street 建国路,
    rest 88号. Unknown places stay in ``street``/``rest``."""
    if not address:
        return Address("", "", "", "", "", "")
    full = normalise_text(address)
    rest, code = _strip_leading_regions(full)
    province = code[:2] if code else ""
    city = code[:4] if len(code) >= 4 else ""
    district = code if len(code) == 6 else ""
    match = _STREET_RE.match(rest)
    street, tail = (match.group(1), match.group(2)) if match else ("", rest)
    return Address(full, province, city, district, street, tail)
