"""Records: entities seen through departments, each record with its own noise draws.

Every draw comes from one seeded `random.Random`, in a fixed order, and nothing iterates a set
or a str-keyed hash order, so a seed always yields the same file."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from benchmarks.heldout import entities as ents
from benchmarks.heldout import identifiers as ids
from benchmarks.heldout import model
from benchmarks.heldout import variants as var
from benchmarks.heldout.vocab import DISTRICTS, District

COLUMNS = (
    "record_id",
    "kind",
    "name",
    "code",
    "id_number",
    "birth_date",
    "legal_rep",
    "address",
    "phone",
    "department",
    "true_entity",
)


@dataclass
class Record:
    """One CSV row, plus `tags`: which noise draws fired (for the rate tests; not written)."""

    record_id: str
    kind: str
    name: str
    code: str
    id_number: str
    birth_date: str
    legal_rep: str
    address: str
    phone: str
    department: str
    true_entity: str
    tags: tuple[str, ...] = ()

    def row(self) -> dict[str, str]:
        data = asdict(self)
        return {col: data[col] for col in COLUMNS}


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _records_for_entity(rng: random.Random) -> int:
    ranges, weights = zip(*model.RECORDS_PER_ENTITY, strict=True)
    low, high = rng.choices(ranges, weights=weights)[0]
    return rng.randint(low, high)


def _address(district: District, street: str, rng: random.Random, tags: list[str]) -> str:
    """A full address with the model's variants; moved = another street in the same city."""
    noise = model.ADDRESS_NOISE
    if rng.random() < noise["missing"]:
        tags.append("address_missing")
        return ""
    if rng.random() < noise["moved"]:
        tags.append("address_moved")
        district = rng.choice([d for d in DISTRICTS if d.city == district.city])
        street = ents.street_address(rng)
    city = "" if district.city == district.province else district.city
    province = district.province
    if rng.random() < noise["drop_province"]:
        tags.append("address_drop_province")
        province = "" if city else province  # a municipality keeps its only name
    text = f"{province}{city}{district.district}{street}"
    if rng.random() < noise["full_width_digits"]:
        tags.append("address_full_width")
        text = var.full_width_digits(text)
    if rng.random() < noise["space"]:
        tags.append("address_space")
        text = var.stray_space(text, rng)
    return text


def _company_code(company: ents.Company, rng: random.Random, tags: list[str]) -> str:
    form = _pick(rng, model.COMPANY_CODE_MIX)
    tags.append(f"code_{form}")
    if form == "uscc":
        return company.uscc
    if form == "org_code":
        return ids.org_code_written(company.uscc, hyphen=rng.random() < 0.5)
    if form == "taxpayer15":
        return ids.taxpayer15(company.uscc)
    if form == "uscc_typo":
        return ids.typo_uscc(company.uscc, rng)
    return ""


def _bracket_name(company: ents.Company) -> str:
    """`广州市鑫明贸易有限公司` -> `鑫明贸易（广州）有限公司`, the other registered form."""
    city = ents.city_short(company.district)
    return f"{company.trade}{company.industry}（{city}）{company.legal_form}"


def _company_name(company: ents.Company, rng: random.Random, tags: list[str]) -> str:
    noise = model.COMPANY_NAME_NOISE
    name = company.name
    if rng.random() < noise["region_moved"] and not company.is_branch:
        tags.append("name_region_moved")
        name = _bracket_name(company)
    # 股份有限公司 has no 有限责任公司 form, so the swap applies to the other two forms only.
    if rng.random() < noise["legal_form"] and "股份" not in name:
        tags.append("name_legal_form")
        if "有限责任公司" in name:
            name = name.replace("有限责任公司", "有限公司")
        else:
            name = name.replace("有限公司", "有限责任公司", 1)
    if rng.random() < noise["homophone"]:
        tags.append("name_homophone")
        name = var.homophone(name, rng, within=company.trade)
    if rng.random() < noise["traditional"]:
        tags.append("name_traditional")
        name = var.traditional(name)
    if rng.random() < noise["full_width"]:
        tags.append("name_full_width")
        wide = var.full_width(name)
        name = wide if wide != name else var.swap_bracket_width(name)
    if rng.random() < noise["space"]:
        tags.append("name_space")
        name = var.stray_space(name, rng)
    return name


def company_record(
    company: ents.Company, record_id: str, rng: random.Random, changed_rep: str
) -> Record:
    tags: list[str] = []
    department = _pick(rng, model.DEPARTMENT_MIX["company"])
    code = _company_code(company, rng, tags)
    name = _company_name(company, rng, tags)
    legal_rep = company.legal_rep
    if rng.random() < model.LEGAL_REP_MISSING:
        tags.append("legal_rep_missing")
        legal_rep = ""
    elif rng.random() < model.LEGAL_REP_CHANGED:
        tags.append("legal_rep_changed")
        legal_rep = changed_rep
    address = _address(company.district, company.street_address, rng, tags)
    phone = ""
    if rng.random() < model.COMPANY_PHONE_PRESENT:
        phone = company.phone
        if rng.random() < model.COMPANY_PHONE_DIFFERENT:
            tags.append("phone_different")
            phone = ents.landline(company.district, rng)
    return Record(record_id, "company", name, code, "", "", legal_rep, address, phone,
                  department, company.entity_id, tuple(tags))  # fmt: skip


def _person_id(person: ents.Person, form: str, rng: random.Random) -> str:
    if form == "ric18":
        return person.ric
    if form == "ric15":
        return ids.ric_to_15(person.ric)
    if form == "masked":
        return ids.masked_ric(person.ric)
    if form == "typo":
        return ids.typo_ric(person.ric, rng)
    if form == "transposed":
        return ids.transpose_ric(person.ric, rng)
    return ""


def _person_name(person: ents.Person, rng: random.Random, tags: list[str]) -> str:
    noise = model.PERSON_NAME_NOISE
    name = person.name
    if rng.random() < noise["traditional"]:
        tags.append("name_traditional")
        name = var.traditional(name)
    if rng.random() < noise["homophone"]:
        tags.append("name_homophone")
        name = var.homophone(name, rng, within=name[1:])
    if rng.random() < noise["space"]:
        tags.append("name_space")
        name = var.stray_space(name, rng)
    return name


def person_record(person: ents.Person, record_id: str, rng: random.Random) -> Record:
    tags: list[str] = []
    department = _pick(rng, model.DEPARTMENT_MIX["person"])
    form = _pick(rng, model.PERSON_ID_MIX[department])
    tags.append(f"id_{form}")
    id_number = _person_id(person, form, rng)
    name = _person_name(person, rng, tags)
    birth = ""
    if form == "none" or rng.random() < model.BIRTH_DATE_WITH_ID:
        style = rng.choice(model.BIRTH_DATE_FORMATS)
        tags.append(f"birth_{style}")
        birth = var.birth_date_text(person.birth, style)
    address = ""
    if rng.random() < model.PERSON_ADDRESS_PRESENT:
        address = _address(person.home, person.street_address, rng, tags)
    phone = person.phone if rng.random() < model.PERSON_PHONE_PRESENT else ""
    return Record(record_id, "person", name, "", id_number, birth, "", address, phone,
                  department, person.entity_id, tuple(tags))  # fmt: skip


def generate(n_records: int, seed: int) -> list[Record]:
    """N records about as many entities as the records-per-entity distribution needs, in a
    shuffled order (feeds do not arrive grouped by entity). Deterministic for a seed."""
    rng = random.Random(seed)
    companies: list[ents.Company] = []
    used_uscc: set[str] = set()
    used_ric: set[str] = set()
    records: list[Record] = []
    serial = 0
    while len(records) < n_records:
        serial += 1
        count = min(_records_for_entity(rng), n_records - len(records))
        if rng.random() < model.COMPANY_SHARE:
            company = ents.new_company(f"C{serial:06d}", rng, companies, used_uscc)
            companies.append(company)
            new_rep = ents.person_name(rng)
            for _ in range(count):
                records.append(company_record(company, "", rng, new_rep))
        else:
            person = ents.new_person(f"P{serial:06d}", rng, used_ric)
            for _ in range(count):
                records.append(person_record(person, "", rng))
    rng.shuffle(records)
    # Ids are given after the shuffle so that neighbouring ids do not reveal an entity.
    for number, record in enumerate(records, start=1):
        record.record_id = f"R{number:07d}"
    return records
