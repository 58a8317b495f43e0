"""``credithub resolve`` on CSV files, Chinese and not."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

from click.testing import CliRunner

from cli.resolve import _read_records, parse_maps, resolve_command
from matching.match_model import MatchModel, default_model
from matching.records import MatchRecord


def run(
    tmp_path: Path, text: str, *args: str, encoding: str = "utf-8"
) -> tuple[int, str, dict[str, str]]:
    source = tmp_path / "in.csv"
    source.write_bytes(text.encode(encoding))
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(resolve_command, [str(source), "--out", str(out), "--quiet", *args])
    clusters: dict[str, str] = {}
    if out.exists():
        with out.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["record_id", "entity_id", "confidence"]
        clusters = {r["record_id"]: r["entity_id"] for r in rows}
    return result.exit_code, result.output, clusters


def test_non_chinese_people_with_joined_name_columns(tmp_path: Path) -> None:
    text = (
        "id,given_name,surname,dob,member_no,city\n"
        "1,John,Smith,1980-01-02,X123,London\n"
        "2,Jon,Smith,1980-01-02,X123,London\n"
        "3,Jane,Doe,1975-05-05,,Paris\n"
        "4,Mary,Major,1990-09-09,Z9,Rome\n"
    )
    code, output, clusters = run(
        tmp_path,
        text,
        "--id-column",
        "id",
        "--map",
        "name=given_name+surname",
        "--map",
        "birth_date=dob",
        "--map",
        "code=member_no",
        "--map",
        "address=city",
    )
    assert code == 0, output
    assert clusters["1"] == clusters["2"]
    assert len({clusters["1"], clusters["3"], clusters["4"]}) == 3
    assert "4 records -> 3 entities" in output


def test_chinese_companies_in_gbk_with_default_column_names(tmp_path: Path) -> None:
    text = (
        "name,code,address\n"
        "北京星河科技有限公司,91110000600037341L,北京市海淀区中关村大街1号\n"
        "星河科技（北京）有限公司,60003734-1,北京市海淀区中关村大街1号\n"
        "北京星河科技有限公司上海分公司,91310000MA1FL0000X,上海市浦东新区\n"
        "上海星河科技有限公司,91110108551385082Q,上海市徐汇区\n"
    )
    code, output, clusters = run(tmp_path, text, encoding="gbk")
    assert code == 0, output
    assert clusters["1"] == clusters["2"]  # the org code inside the USCC
    assert clusters["3"] != clusters["1"]  # a branch is not its parent
    assert clusters["4"] != clusters["1"]  # same trade name, another city and USCC


def test_bad_options_and_input_are_clear_errors(tmp_path: Path) -> None:
    code, output, _ = run(tmp_path, "a,b\n1,2\n", "--map", "nickname=a")
    assert code != 0 and "FIELD=COL" in output
    code, output, _ = run(tmp_path, "a,b\n1,2\n", "--map", "name=zzz")
    assert code != 0 and "no column" in output
    code, output, _ = run(tmp_path, "id,name\n1,甲\n1,乙\n", "--id-column", "id")
    assert code != 0 and "repeated" in output


def test_chinese_persons_by_name_birth_date_and_gender(tmp_path: Path) -> None:
    text = (
        "name,code,birth_date,gender\n"
        "赵子涵,110105198503020310,,\n"
        "赵子涵,,1985年3月2日,男\n"
        "赵子涵,,1985-03-02,女\n"  # the same day, another gender: another person
        "赵子涵,,,\n"  # a name alone links nobody
    )
    code, output, clusters = run(tmp_path, text)
    assert code == 0, output
    assert clusters["1"] == clusters["2"]
    assert len({clusters["1"], clusters["3"], clusters["4"]}) == 3


def test_kind_option_says_what_records_without_a_kind_are(tmp_path: Path) -> None:
    """A file of persons with no kind column: a record with only a name and a birth date is a
    person's only when --kind says so, and then links to the person whose id carries that date.
    A row's own kind (from --kind-column) still wins."""
    text = "name,code,birth_date\n赵子涵,110105198503020310,\n赵子涵,,1985年3月2日\n"
    code, output, unknown = run(tmp_path, text)
    assert code == 0, output
    assert unknown["1"] != unknown["2"]  # of unknown kind, a bare name + date is no person's
    code, output, persons = run(tmp_path, text, "--kind", "person")
    assert code == 0, output
    assert persons["1"] == persons["2"]
    with_column = (
        "kind,name,code,birth_date\n,赵子涵,110105198503020310,\n02,赵子涵,,1985年3月2日\n"
    )
    code, output, mixed = run(tmp_path, with_column, "--kind", "person", "--kind-column", "kind")
    assert code == 0, output
    assert mixed["1"] != mixed["2"]  # the second row says it is a legal person
    code, output, _ = run(tmp_path, text, "--kind", "robot")
    assert code != 0 and "person" in output


def _companies_csv(count: int = 150) -> str:
    """``count`` companies of two rows each (the second a name variant, without its code
    half the time): enough candidate pairs to learn weights from."""
    rng = random.Random(11)
    chars = "星河远航鑫明泰飞昌达永太华信恒通光乐创新宏源金瑞天宇博雅"
    lines = ["id,name,code,address"]
    for i in range(count):
        trade = "".join(rng.sample(chars, 3))
        address = f"北京市海淀区{rng.choice('东西南北')}街{i}号"
        lines.append(f"a{i},北京{trade}科技有限公司,X{i:06d},{address}")
        code = f"X{i:06d}" if rng.random() < 0.5 else ""
        lines.append(f"b{i},{trade}科技（北京）有限公司,{code},{address}")
    return "\n".join(lines) + "\n"


def _version(output: str) -> str:
    found = re.search(r"model (fs-[0-9a-f]+) \(([^)]*)\)", output)
    assert found, output
    return found.group(1)


def test_resolve_trains_on_its_input_and_saves_the_model_it_used(tmp_path: Path) -> None:
    text = _companies_csv()
    saved = tmp_path / "model.json"
    code, output, trained = run(tmp_path, text, "--id-column", "id", "--save-model", str(saved))
    assert code == 0, output
    assert "trained on 300 records in" in output and "converged" in output
    version = _version(output)
    model = MatchModel.from_json(saved.read_text(encoding="utf-8"))
    assert model.version == version and model.trained
    assert model.training["records_given"] == 300

    # The saved model scores the same file exactly as the run that trained it, untrained.
    code, output, loaded = run(tmp_path, text, "--id-column", "id", "--model", str(saved))
    assert code == 0, output
    assert f"model {version} (loaded from {saved})" in output
    assert loaded == trained

    code, output, _ = run(tmp_path, text, "--id-column", "id", "--default-weights")
    assert code == 0, output
    assert f"model {default_model().version} (hand-set default weights)" in output


def test_resolve_trains_on_its_input_by_default_within_the_caps(
    tmp_path: Path,
) -> None:
    text = _companies_csv()
    _, trained_output, trained = run(tmp_path, text, "--id-column", "id")
    _, default_output, default = run(tmp_path, text, "--id-column", "id", "--default-weights")
    assert _version(trained_output) != _version(default_output)
    # The learned weights stay within a few bits of the hand-set ones (matching.training):
    # they join at least the rows the hand-set ones join (all but 金华信, 金华 read as a
    # region), and never two companies.
    joined = {
        name: sum(clusters[f"a{i}"] == clusters[f"b{i}"] for i in range(150))
        for name, clusters in (("trained", trained), ("default", default))
    }
    assert joined["trained"] >= joined["default"] == 149
    assert len(set(trained.values())) == 300 - joined["trained"]


def test_a_file_too_small_to_learn_from_keeps_the_hand_set_weights(tmp_path: Path) -> None:
    code, output, _ = run(tmp_path, "name,code\n星河科技有限公司,X1\n星河科技有限公司,X1\n")
    assert code == 0, output
    assert f"model {default_model().version} (too few candidate pairs" in output


def test_a_bad_model_file_or_conflicting_options_are_clear_errors(tmp_path: Path) -> None:
    text = "name,code\n星河科技有限公司,X1\n"
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "credithub-match-model/1", "weights": []}', encoding="utf-8")
    code, output, clusters = run(tmp_path, text, "--model", str(bad))
    assert code != 0 and "weights: expected an object of tables" in output and not clusters

    saved = tmp_path / "model.json"
    assert run(tmp_path, _companies_csv(), "--id-column", "id", "--save-model", str(saved))[0] == 0
    document = json.loads(saved.read_text(encoding="utf-8"))
    document["weights"]["name"]["exact"] += 1  # the version no longer matches the content
    saved.write_text(json.dumps(document), encoding="utf-8")
    code, output, _ = run(tmp_path, text, "--model", str(saved))
    assert code != 0 and "the file was changed after it was saved" in output

    code, output, _ = run(tmp_path, text, "--model", str(saved), "--default-weights")
    assert code != 0 and "exclude each other" in output


FEBRL_HEADER = (
    "rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,"
    "date_of_birth,soc_sec_id\n"
)
FEBRL_MAPS = (
    "--id-column",
    "rec_id",
    "--kind",
    "person",
    "--map",
    "name=given_name+surname",
    "--map",
    "address=street_number+address_1+address_2",
    "--map",
    "suburb=suburb",
    "--map",
    "state=state",
    "--map",
    "postcode=postcode",
    "--map",
    "birth_date=date_of_birth",
    "--map",
    "code=soc_sec_id",
)


def test_a_febrl_shaped_file_resolves_with_its_columns_mapped(tmp_path: Path) -> None:
    """FEBRL's own columns, mapped and nothing else: a typo in a name, a mistyped birth date,
    a missing social-security number still link; another person of the same name and birth
    date in another suburb and state with another number does not."""
    text = FEBRL_HEADER + (
        "rec-1-org,jessica,white,12,miller street,,kingston,2604,act,19750312,5827361\n"
        "rec-1-dup-0,jessika,white,12,miller street,,kingston,2604,act,19750312,5827361\n"
        "rec-2-org,james,miller,7,banks avenue,,bondi,2026,nsw,19700101,4410023\n"
        "rec-2-dup-0,james,miler,7,banks avenue,,bondi,2026,nsw,19700110,\n"
        "rec-3-org,james,miller,41,king street,,perth,6000,wa,19700101,9001234\n"
        "rec-4-org,liam,nguyen,3,hill road,,geelong,3220,vic,19881120,1234567\n"
    )
    code, output, clusters = run(tmp_path, text, *FEBRL_MAPS)
    assert code == 0, output
    assert clusters["rec-1-org"] == clusters["rec-1-dup-0"]
    assert clusters["rec-2-org"] == clusters["rec-2-dup-0"]
    assert len({clusters[r] for r in ("rec-1-org", "rec-2-org", "rec-3-org", "rec-4-org")}) == 4
    assert "6 records -> 4 entities" in output


def test_suburb_and_state_are_read_as_the_end_of_the_address(tmp_path: Path) -> None:
    """Every mapped field reaches the matcher: suburb and state follow the street."""
    header = FEBRL_HEADER.strip().split(",")
    row = "rec-1,jo,white,12,miller street,flat 2,kingston,2604,act,19750312,5827361"
    maps = tuple(m for m in FEBRL_MAPS[4:] if m != "--map")
    mapping = parse_maps(maps, header)
    reader = csv.DictReader([",".join(header), row])
    (record,) = _read_records(reader, mapping, "rec_id", None, True, MatchRecord)
    assert record.address == "12 miller street flat 2 kingston act"
    assert (record.postcode, record.birth_date, record.codes) == ("2604", "19750312", ("5827361",))
    code, output, _ = run(tmp_path, FEBRL_HEADER, "--map", "suburb=nowhere")
    assert code != 0 and "no column" in output


def test_the_review_queue_is_one_question_per_pair_of_entities(tmp_path: Path) -> None:
    """Four records of a very common name and one birth date: a, b and c link through a home
    address and a phone (a–c alone would be unsure), x has nothing more. Four unsure record
    pairs, one question: is x the person of a, b and c?"""
    text = (
        "id,name,birth_date,address,phone\n"
        "a,王伟,1980-01-02,北京市朝阳区建国路1号,\n"
        "b,王伟,1980-01-02,北京市朝阳区建国路1号,13912345678\n"
        "c,王伟,1980-01-02,,13912345678\n"
        "x,王伟,1980-01-02,,\n"
    )
    reviews = tmp_path / "reviews.jsonl"
    args = ("--id-column", "id", "--kind", "person", "--default-weights")
    code, output, clusters = run(tmp_path, text, *args, "--reviews", str(reviews))
    assert code == 0, output
    assert clusters == {"a": "a", "b": "a", "c": "a", "x": "x"}
    assert (
        "4 records -> 2 entities; 1 entity pairs would go to review (25.00% of records; "
        "4 unsure record pairs: 1 settled by other links, 0 kept apart by a rule or a reviewer)"
    ) in output
    (line,) = reviews.read_text(encoding="utf-8").splitlines()
    item = json.loads(line)
    assert (item["left_entity"], item["right_entity"], item["support"]) == ("a", "x", 3)
    pair = item["pair"]
    assert pair["decision"] == "unsure" and {pair["left"], pair["right"]} <= {"a", "b", "c", "x"}
    # Field by field, with each comparison's level and weight, and the total.
    assert all({"field", "level", "weight"} <= set(c) for c in pair["comparisons"])
    assert isinstance(pair["total_weight"], float | int) and pair["probability"] == 0.5
    assert set(pair["thresholds"]) == {"positive", "review"}


def test_workers_option_gives_the_same_clusters_and_rejects_zero(tmp_path: Path) -> None:
    text = _companies_csv()
    code, output, serial = run(tmp_path, text, "--id-column", "id", "--workers", "1")
    assert code == 0, output
    code, output, parallel = run(tmp_path, text, "--id-column", "id", "--workers", "2")
    assert code == 0, output
    assert parallel == serial
    code, output, _ = run(tmp_path, text, "--id-column", "id", "--workers", "0")
    assert code != 0 and "--workers" in output
