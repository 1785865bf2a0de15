"""The A052 messages of 04/037: the synthetic source and its coherence with the incapacity
episodes, the source checks' rule for versions, what a consultation request asks for, and the
three consultations of specs/04-037.yaml (L051, A052L, the fitness declaration) end to end."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract.errors import AuthorisationError
from flows.extract.export import control_export
from flows.runtime.settings import SPECS_DIR, Paths
from flows.stores import audit_read
from flows.stores.consultations import CONSULTATION_KEY
from flows.stores.keys import create_key
from flows.stores.requests import RequestError, read_consultation_request
from specs.load import SpecError, load_spec
from specs.model import RequestKind
from specs.sources import SOURCE_TABLES, polars_schema
from synthetic.generate import conform, generate, population_tables
from transforms import source_checks as sc
from transforms.requested import messages_asked_for
from transforms.source_checks import DefectKind

MESSAGES = "nic.a052_messages"
SPEC = SPECS_DIR / "04-037.yaml"
INSZ_A, INSZ_B = "85073003328", "90010100123"


def message(insz: str = INSZ_A, number: str = "000000001001", **values: Any) -> dict[str, Any]:
    """One A052 message version, valid unless `values` say otherwise."""
    row: dict[str, Any] = dict(
        insz=insz,
        quarter=20101,
        message_number=number,
        message_version=1,
        created_date=dt.date(2010, 4, 20),
        status="NEW",
        employer_count=1,
        employer_rsz="000100006",
        employer_category="010",
        worker_code="495",
        joint_committee="200",
        occupation_start=dt.date(2005, 1, 1),
        worker_class="2",
        q_hours=3800,
        s_hours=3800,
        day_block_count=1,
        day_type="PAID",
        days=60,
        benefit_type="NORMAL",
        nature="FULL",
        incapacity_start=dt.date(2010, 1, 4),
        incapacity_end=None,
        fitness_decision_source=None,
        fitness_date=None,
        childbirth_date=None,
    )
    return row | values


def relation(rows: list[dict[str, Any]]) -> duckdb.DuckDBPyRelation:
    frame = pl.DataFrame(rows, schema=polars_schema(SOURCE_TABLES[MESSAGES]))
    return duckdb.connect().from_arrow(frame.to_arrow())


def cleaned(rows: list[dict[str, Any]]) -> tuple[dict[str, int], list[tuple]]:
    """The findings on the messages and the (number, version, quarter) kept by the cleaning."""
    empty = {key: pl.DataFrame(schema=polars_schema(t)) for key, t in SOURCE_TABLES.items()}
    con = duckdb.connect()
    sources = {key: con.from_arrow(frame.to_arrow()) for key, frame in empty.items()}
    sources[MESSAGES] = relation(rows)
    findings = sc.find_defects(sources)
    counts = {f.kind.value: f.records for f in findings if f.table == MESSAGES and f.records}
    kept = sc.clean_sources(sources, findings)[MESSAGES]
    return counts, sorted(kept.select("message_number", "message_version", "quarter").fetchall())


# --- the source checks' rule for versions (spec tests) ----------------------------------------


def test_a_correction_supersedes_the_version_it_corrects():
    counts, kept = cleaned(
        [
            message(days=63),
            message(message_version=2, status="CORRECTION", created_date=dt.date(2010, 6, 1)),
            message(number="000000001002", quarter=20102),
        ]
    )
    assert counts == {"superseded_version": 1}
    assert kept == [("000000001001", 2, 20101), ("000000001002", 1, 20102)]


def test_a_version_made_after_a_higher_one_is_counted_and_the_version_number_decides():
    counts, kept = cleaned(
        [
            message(created_date=dt.date(2010, 7, 1)),  # version 1, made after version 2
            message(message_version=2, status="CORRECTION", created_date=dt.date(2010, 5, 1)),
        ]
    )
    assert counts == {"superseded_version": 1, "version_out_of_order": 1}
    assert kept == [("000000001001", 2, 20101)]


def test_a_message_about_a_quarter_after_its_incapacity_ended_is_dropped():
    counts, kept = cleaned(
        [
            message(incapacity_end=dt.date(2010, 3, 12), fitness_date=dt.date(2010, 3, 13)),
            message(number="000000001902", quarter=20102, incapacity_end=dt.date(2010, 3, 12)),
        ]
    )
    assert counts == {"message_after_episode": 1}
    assert kept == [("000000001001", 1, 20101)]


def test_messages_without_versions_to_clean_pass_untouched():
    counts, kept = cleaned([message(), message(INSZ_B, "000000002001", quarter=20102)])
    assert counts == {}
    assert len(kept) == 2


def test_each_version_rule_is_documented_and_cleans():
    for kind in (
        DefectKind.SUPERSEDED_VERSION,
        DefectKind.VERSION_OUT_OF_ORDER,
        DefectKind.MESSAGE_AFTER_EPISODE,
    ):
        assert sc.RULES[kind].action is sc.Action.CLEAN
        assert kind.value in (sc.__doc__ or "")


# --- what a request asks for (spec tests and a property) --------------------------------------

FITTED = [
    message(number="000000001001", quarter=20101, fitness_date=dt.date(2010, 3, 13)),
    message(number="000000001002", quarter=20103, fitness_date=dt.date(2010, 8, 2)),
    message(number="000000001003", quarter=20111),
    message(INSZ_B, "000000002001", quarter=20101, fitness_date=dt.date(2010, 2, 1)),
]


def asked_numbers(rows: list[dict[str, Any]], asked: pl.DataFrame, kind: RequestKind) -> list:
    found = messages_asked_for(relation(rows), asked, kind)
    return sorted(found.select("insz", "message_number").fetchall())


def test_a052l_gives_the_messages_named_and_no_other():
    asked = pl.DataFrame({"insz": [INSZ_A, INSZ_A], "message_number": ["000000001003", "x"]})
    assert asked_numbers(FITTED, asked, RequestKind.MESSAGE_NUMBERS) == [(INSZ_A, "000000001003")]


def test_a052l_gives_nothing_for_a_number_of_another_person():
    asked = pl.DataFrame({"insz": [INSZ_A], "message_number": ["000000002001"]})
    assert asked_numbers(FITTED, asked, RequestKind.MESSAGE_NUMBERS) == []


def test_the_fitness_declaration_is_the_last_one_before_work_resumed():
    asked = pl.DataFrame(
        {"insz": [INSZ_A, INSZ_B], "resumption_date": [dt.date(2010, 9, 1), dt.date(2010, 1, 31)]}
    )
    # A: the incapacity that ended in August, not the one of March; B: none before that day
    assert asked_numbers(FITTED, asked, RequestKind.RESUMPTION_DATE) == [(INSZ_A, "000000001002")]


def test_a_resumption_on_the_fitness_day_itself_finds_its_declaration():
    asked = pl.DataFrame({"insz": [INSZ_A], "resumption_date": [dt.date(2010, 3, 13)]})
    assert asked_numbers(FITTED, asked, RequestKind.RESUMPTION_DATE) == [(INSZ_A, "000000001001")]


@settings(max_examples=40, deadline=None)
@given(picks=st.lists(st.tuples(st.sampled_from([INSZ_A, INSZ_B]), st.integers(0, 5)), max_size=8))
def test_a_request_by_number_delivers_exactly_the_asked_messages_that_exist(picks):
    numbers = [f"00000000{1 if p == INSZ_A else 2}00{n}" for p, n in picks]
    asked = pl.DataFrame(
        {"insz": [p for p, _ in picks], "message_number": numbers},
        schema={"insz": pl.String, "message_number": pl.String},
    ).unique()
    existing = {(r["insz"], r["message_number"]) for r in FITTED}
    wanted = set(asked.iter_rows()) & existing
    assert set(asked_numbers(FITTED, asked, RequestKind.MESSAGE_NUMBERS)) == wanted


# --- reading a request --------------------------------------------------------------------------


def test_a_request_by_number_reads_several_numbers_per_person(tmp_path):
    request = tmp_path / "a052l.txt"
    request.write_text(f"# file 2021-17\n{INSZ_A};000000001001\n85.07.30-033.28;000000001002\n")
    lines = read_consultation_request(request, RequestKind.MESSAGE_NUMBERS)
    assert lines.rows() == [(INSZ_A, "000000001001"), (INSZ_A, "000000001002")]


def test_a_request_by_resumption_date_reads_days(tmp_path):
    request = tmp_path / "c6.txt"
    request.write_text(f"{INSZ_B};2021-03-01\n")
    lines = read_consultation_request(request, RequestKind.RESUMPTION_DATE)
    assert lines.rows() == [(INSZ_B, dt.date(2021, 3, 1))]


@pytest.mark.parametrize(
    ("kind", "text", "refusal"),
    [
        (
            RequestKind.MESSAGE_NUMBERS,
            f"{INSZ_A};000000001001\n{INSZ_B}\n{INSZ_B};12345\n",
            "c.txt: 2 line(s) are not INSZ;UNIQUE-NUMBER (12 digits): line 2, 3",
        ),
        (
            RequestKind.RESUMPTION_DATE,
            f"{INSZ_A};2021-02-30\n{INSZ_B};2021-03-01;x\n",
            "c.txt: 2 line(s) are not INSZ;YYYY-MM-DD (the day work resumed): line 1, 2",
        ),
        (
            RequestKind.RESUMPTION_DATE,
            f"{INSZ_A};2021-02-01\n{INSZ_A};2021-03-01\n",
            "c.txt: 1 line(s) repeat a person listed above: line 2",
        ),
        (
            RequestKind.MESSAGE_NUMBERS,
            f"{INSZ_A};000000001001\n{INSZ_A};000000001001\n",
            "c.txt: 1 line(s) repeat a person and number listed above: line 2",
        ),
        (
            RequestKind.MESSAGE_NUMBERS,
            f"{INSZ_A[:-1]}9;000000001001\n",
            "c.txt: 1 line(s) do not hold a valid INSZ (11 digits with valid check digits): line 1",
        ),
    ],
)
def test_a_wrong_request_is_refused_by_line_never_by_value(tmp_path, kind, text, refusal):
    request = tmp_path / "c.txt"
    request.write_text(text)
    with pytest.raises(RequestError) as refused:
        read_consultation_request(request, kind)
    assert str(refused.value) == refusal
    assert INSZ_A not in str(refused.value) and INSZ_B not in str(refused.value)


# --- the spec language ------------------------------------------------------------------------


def variant(tmp_path: Path, change) -> Path:
    document = yaml.safe_load(SPEC.read_text())
    change(document)
    path = tmp_path / "04-037.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path


def test_a_consultation_delivers_its_variables_only_in_the_specs_order():
    spec = load_spec(SPEC)
    assert set(spec.consultations) == {"l051", "a052l", "c6"}
    assert spec.for_consultation("l051").variables.all() == (
        "a052_message_number",
        "a052_message_version",
        "a052_created",
        "a052_status",
    )
    c6 = spec.for_consultation("c6").variables.all()
    assert c6[-3:] == ("fitness_decision_source", "fitness_date", "childbirth_date")
    assert not {"fitness_date"} & set(spec.for_consultation("a052l").variables.all())


def test_a_consultation_of_a_variable_the_spec_does_not_grant_is_refused(tmp_path):
    def widen(document):
        document["variables"]["quarter"].remove("childbirth_date")

    with pytest.raises(SpecError, match="consultation 'c6': childbirth_date not among the spec's"):
        load_spec(variant(tmp_path, widen))


def test_a_consultation_needs_a_population_the_request_lists(tmp_path):
    def everyone(document):
        document["population"]["rule"] = "all_persons_in_period"

    with pytest.raises(SpecError, match="the population must hold the listed persons"):
        load_spec(variant(tmp_path, everyone))


# --- the synthetic source: coherent with the incapacity episodes -------------------------------


@functools.cache
def tables() -> dict[str, pl.DataFrame]:
    built = population_tables(1_500, 3)
    return {key: conform(frame, SOURCE_TABLES[key]) for key, frame in built.items()}


def test_messages_come_from_salaried_episodes_and_lie_within_them():
    messages = tables()[MESSAGES]
    incapacity = tables()["nic.incapacity"]
    episodes = (
        incapacity.filter(pl.col("primary_start_date") > pl.col("illness_start_date"))
        .group_by("insz", "primary_start_date")
        .agg(last_day=pl.col("end_date").max(), open=pl.col("end_date").is_null().any())
        .rename({"primary_start_date": "incapacity_start"})
    )
    matched = messages.join(episodes, on=["insz", "incapacity_start"], how="left")
    assert matched.filter(pl.col("open").is_null()).height == 0  # every message has its episode
    quarter_first = pl.date(pl.col("quarter") // 10, pl.col("quarter") % 10 * 3 - 2, 1)
    within = matched.filter(
        (quarter_first.dt.offset_by("3mo") > pl.col("incapacity_start"))
        & (pl.col("open") | (quarter_first <= pl.col("last_day")))
    )
    assert within.height == matched.height
    # most salaried episodes give messages (the rest have no DMFA line on the day of illness)
    given = messages.select("insz", "incapacity_start").unique().height
    assert given >= 0.8 * episodes.height


def test_every_unique_number_starts_at_version_one_and_belongs_to_one_person():
    messages = tables()[MESSAGES]
    per_number = messages.group_by("message_number").agg(
        first=pl.col("message_version").min(),
        persons=pl.col("insz").n_unique(),
        news=(pl.col("status") == "NEW").sum(),
    )
    assert per_number["first"].unique().to_list() == [1]
    assert per_number["persons"].unique().to_list() == [1]
    assert per_number["news"].unique().to_list() == [1]
    assert 0 < messages.filter(pl.col("message_version") > 1).height < 0.2 * messages.height


def test_the_fitness_fields_sit_on_the_message_of_the_quarter_the_incapacity_ends_in():
    messages = tables()[MESSAGES]
    fitted = messages.filter(pl.col("fitness_date").is_not_null())
    assert fitted.height > 0
    assert (fitted["fitness_date"] == fitted["incapacity_end"] + dt.timedelta(days=1)).all()
    assert fitted["fitness_decision_source"].null_count() == 0
    births = messages.filter(pl.col("childbirth_date").is_not_null())
    assert births.height > 0 and (births["childbirth_date"] >= births["incapacity_start"]).all()


def test_the_days_of_a_message_fit_in_its_quarter_and_a_correction_corrects_them():
    messages = tables()[MESSAGES]
    last = pl.col("message_version") == pl.col("message_version").max().over("message_number")
    assert messages.filter(last)["days"].is_between(1, 79).all()  # 92 days, 6-day regime
    versions = messages.filter(pl.col("message_number").is_duplicated()).sort(
        "message_number", "message_version"
    )
    first, correction = versions.gather_every(2), versions.gather_every(2, offset=1)
    assert (first["days"] != correction["days"]).all()


# --- the three consultations on a store, end to end ---------------------------------------------

AS_OF = dt.date(2021, 6, 30)
CASE = "RVA/CLAIM/2021/0613"  # the claim file that justifies the consultations


@pytest.fixture(scope="module")
def consulting(tmp_path_factory, prefect_harness):
    """A store of 400 persons, the key of 04/037 and an operator of the unemployment sector."""
    root = tmp_path_factory.mktemp("a052")
    store = root / "sources"
    generate(400, 5, store)
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, "a052-consultation")
    create_key(paths.key_store, CONSULTATION_KEY)
    paths.roster.parent.mkdir(parents=True)
    role = load_spec(SPEC).operator_roles[0]
    paths.roster.write_text(yaml.safe_dump({"staff": {getpass.getuser(): {"roles": [role]}}}))
    messages = pl.read_parquet(store / "nic" / "a052_messages.parquet")
    return dict(root=root, store=store, paths=paths, messages=messages)


def consult(consulting, name: str, lines: list[str]):
    request = consulting["root"] / f"{name}.txt"
    request.write_text("\n".join(lines) + "\n")
    return control_export(
        SPEC,
        AS_OF,
        consulting["paths"],
        consulting["store"],
        request,
        case_reference=CASE,
        consultation=name,
    )


def latest(messages: pl.DataFrame) -> pl.DataFrame:
    return messages.sort("message_version").unique("message_number", keep="last")


def test_l051_lists_every_message_of_the_persons_with_administrative_data_only(consulting):
    persons = consulting["messages"]["insz"].unique().sort().head(4).to_list()
    result = consult(consulting, "l051", persons)
    panel = pl.read_parquet(result.folder / "a052.parquet")
    assert panel.columns == [
        "person_id",
        "quarter",
        "message",
        "a052_message_number",
        "a052_message_version",
        "a052_created",
        "a052_status",
    ]
    theirs = latest(consulting["messages"].filter(pl.col("insz").is_in(persons)))
    assert sorted(panel["a052_message_number"]) == sorted(theirs["message_number"])
    assert sorted(panel.select("a052_message_number", "a052_message_version").rows()) == sorted(
        theirs.select("message_number", "message_version").rows()
    )
    assert result.manifest.consultation == "l051"
    assert "| consultation | l051 |" in (result.folder / "dossier.md").read_text()
    assert sorted(json.loads((result.folder / "manifest.json").read_text())["files"]) == [
        "a052.parquet",
        "codebook.json",
        "codebook.md",
        "dossier.html",
        "dossier.md",
    ]


def test_a052l_gives_one_message_with_its_quarter_and_nothing_else(consulting):
    messages = consulting["messages"]
    corrected = latest(messages.filter(pl.col("message_version") == 2)).row(0, named=True)
    other = messages.filter(pl.col("insz") == corrected["insz"])
    result = consult(consulting, "a052l", [f"{corrected['insz']};{corrected['message_number']}"])
    panel = pl.read_parquet(result.folder / "a052.parquet")
    assert panel.height == 1 and other.height > 1  # the person's other messages stay out
    row = panel.row(0, named=True)
    assert row["a052_message_number"] == corrected["message_number"]
    assert row["a052_message_version"] == 2  # the correction, not the version it corrects
    assert row["a052_days"] == corrected["days"]
    quarter = corrected["quarter"]
    assert row["quarter"] == f"{quarter // 10}-Q{quarter % 10}"
    assert row["a052_employer_id"] == corrected["employer_rsz"]  # identified, as granted
    assert "fitness_date" not in panel.columns and "childbirth_date" not in panel.columns


def test_the_fitness_declaration_adds_point_7_1_to_the_message_before_resumption(consulting):
    fitted = latest(consulting["messages"]).filter(pl.col("fitness_date").is_not_null())
    target = fitted.sort("insz", "fitness_date").row(0, named=True)
    resumed = target["fitness_date"] + dt.timedelta(days=2)
    before = fitted.filter(
        (pl.col("insz") == target["insz"]) & (pl.col("fitness_date") <= resumed)
    ).sort("fitness_date")
    result = consult(consulting, "c6", [f"{target['insz']};{resumed.isoformat()}"])
    panel = pl.read_parquet(result.folder / "a052.parquet")
    assert panel.height == 1
    row = panel.row(0, named=True)
    assert row["a052_message_number"] == before["message_number"][-1]
    assert row["fitness_date"] == before["fitness_date"][-1]
    assert row["fitness_decision_source"] in {"MA", "RIZIV"}
    assert panel.columns[-3:] == ["fitness_decision_source", "fitness_date", "childbirth_date"]


def test_two_consultations_of_the_same_person_get_folders_of_their_own(consulting):
    person = consulting["messages"]["insz"].sort()[0]
    number = consulting["messages"].filter(pl.col("insz") == person)["message_number"][0]
    listing = consult(consulting, "l051", [person])
    one = consult(consulting, "a052l", [f"{person};{number}"])
    assert listing.folder != one.folder
    assert person not in listing.folder.name and number not in one.folder.name


def test_a_run_without_a_consultation_or_with_an_unknown_one_is_refused_and_logged(consulting):
    request = consulting["root"] / "persons.txt"
    request.write_text(consulting["messages"]["insz"][0] + "\n")
    run = functools.partial(
        control_export,
        SPEC,
        AS_OF,
        consulting["paths"],
        consulting["store"],
        case_reference=CASE,
    )
    with pytest.raises(AuthorisationError, match="name the one the request asks for"):
        run(request)
    with pytest.raises(AuthorisationError, match="allows no consultation 'a052'; it allows l051"):
        run(request, consultation="a052")
    with pytest.raises(AuthorisationError, match="needs the request's list"):
        run(None, consultation="c6")
    refusals = [
        e for e in audit_read.read(consulting["paths"].audit_log) if e["event"] == "refusal"
    ]
    assert len(refusals) >= 3


def test_no_insz_or_message_number_reaches_the_audit_log(consulting):
    text = consulting["paths"].audit_log.read_text()
    for insz in consulting["messages"]["insz"].unique():
        assert insz not in text
    for number in consulting["messages"]["message_number"].unique():
        assert number not in text
