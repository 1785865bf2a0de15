"""Source checks, one kind at a time: inline rows in; the count, and the cleaned rows or refusal."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pytest

from specs.sources import SOURCE_TABLES, polars_schema
from tests.sourcestore import d
from transforms import source_checks as sc
from transforms.source_checks import DefectKind, Finding, SourceDefects

# Valid identifiers (domain.md 1.1-1.3): a woman and a man born 1985-07-30, a boy born in 2017
# (valid only in the 20xx reading), an employer, an enterprise and a local unit.
ANNA, BERT, CARL = "85073003427", "85073003328", "17073003384"
EMPLOYER, ENTERPRISE, UNIT = "212345609", "0403019261", "2000000042"


def person(insz: str, death_date: str | None = None) -> dict[str, Any]:
    return dict(
        insz=insz,
        last_name="Peeters",
        first_name="An",
        sex="F",
        birth_date=d("1985-07-30"),
        death_date=d(death_date) if death_date else None,
        street="Kerkstraat 1",
        postal_code="1000",
        first_nationality="150",
    )


def line(**changes: Any) -> dict[str, Any]:
    row = dict(
        insz=ANNA,
        quarter=20101,
        employer_rsz=EMPLOYER,
        enterprise_kbo=ENTERPRISE,
        local_unit_id=UNIT,
        joint_committee="200",
        worker_code="495",
        contract_type="0",
        q_hours=3800,
        s_hours=3800,
        occupation_start=d("2008-01-01"),
        occupation_end=None,
        days_worked=6500,
        gross_wage_cents=900_000,
        declaration_version=1,
    )
    return row | changes


def unemployed(insz: str, start: str, end: str | None, **changes: Any) -> dict[str, Any]:
    row = dict(
        insz=insz,
        start_date=d(start),
        end_date=d(end) if end else None,
        category="WN",
        daily_allowance_cents=4500,
    )
    return row | changes


def incapacitated(insz: str, episode: int, phase: str, start: str, end: str | None) -> dict:
    return dict(
        insz=insz,
        episode=episode,
        phase=phase,
        start_date=d(start),
        end_date=d(end) if end else None,
        illness_start_date=d("2006-01-01"),
        primary_start_date=d("2006-01-01"),
        nature="FULL",
        daily_benefit_cents=5000,
    )


def career(insz: str, year: int, employer: str | None = EMPLOYER) -> dict[str, Any]:
    return dict(insz=insz, year=year, worked_days=300, assimilated_days=0, employer_rsz=employer)


def sources_of(rows: dict[str, list[dict[str, Any]]]) -> dict[str, duckdb.DuckDBPyRelation]:
    """Every source table as a relation, with the given rows (the others empty)."""
    con = duckdb.connect()
    persons = rows.get("register.persons", [person(ANNA), person(BERT)])
    rows = {"register.persons": persons} | rows
    return {
        key: con.from_arrow(pl.DataFrame(rows.get(key, []), schema=polars_schema(t)).to_arrow())
        for key, t in SOURCE_TABLES.items()
    }


def nonzero(findings: list[Finding]) -> dict[tuple[str, str, str | None], int]:
    return {(f.table, f.kind.value, f.column): f.records for f in findings if f.records}


def rows_of(relation: duckdb.DuckDBPyRelation, *columns: str) -> list[tuple]:
    return ordered(relation.select(*columns).fetchall())


def ordered(rows: list[tuple]) -> list[tuple]:
    """Rows in one order whatever order they came in (relations have none)."""
    return sorted(rows, key=repr)


def test_clean_sources_give_zero_counts_and_are_passed_on_untouched():
    sources = sources_of(
        {
            "register.persons": [person(ANNA), person(CARL)],
            "dmfa.occupations": [line(), line(quarter=20102)],
            "rva.unemployment": [unemployed(ANNA, "2011-01-01", "2011-06-30")],
            "sigedis.career": [career(ANNA, 2010), career(CARL, 2010, employer=None)],
        }
    )
    findings = sc.find_defects(sources)
    assert findings and nonzero(findings) == {}
    sc.refuse_uncleanable(findings)
    cleaned = sc.clean_sources(sources, findings)
    assert all(cleaned[key] is sources[key] for key in sources)


def test_what_a_source_table_declares_for_its_checks_names_its_own_columns():
    declared = 0
    for key, table in SOURCE_TABLES.items():
        columns = {c.name for c in table.columns}
        named = [*(table.record_key or ())]
        if table.correction is not None:
            named += [*table.correction.key, table.correction.version]
        if table.episode_order is not None:
            named += [part.split()[0] for part in table.episode_order.split(",")]
        if table.lifetime is not None and table.lifetime.end is not None:
            named.append(table.lifetime.end)
        assert set(named) <= columns, (key, set(named) - columns)
        declared += bool(named)
    # the tables the checks clean: DMFA, A052, the two episode tables, the career and more
    assert declared >= 6
    assert set(sc.EPISODES) == {"rva.unemployment", "nic.incapacity"}
    assert list(sc.LIFETIMES) == [
        "dmfa.occupations",
        "rva.unemployment",
        "nic.incapacity",
        "sigedis.career",
    ]


def test_every_kind_has_one_rule():
    assert set(sc.RULES) == set(DefectKind)


def test_identical_declaration_lines_are_counted_and_one_copy_is_kept():
    sources = sources_of(
        {"dmfa.occupations": [line(), line(), line(), line(quarter=20102, days_worked=100)]}
    )
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {("dmfa.occupations", "duplicate_declaration", None): 2}
    cleaned = sc.clean_sources(sources, findings)["dmfa.occupations"]
    assert rows_of(cleaned, "quarter", "days_worked") == ordered([(20101, 6500), (20102, 100)])


def test_a_correction_replaces_the_line_it_corrects():
    sources = sources_of(
        {
            "dmfa.occupations": [
                line(gross_wage_cents=990_000, declaration_version=1),
                line(gross_wage_cents=900_000, declaration_version=2),
                # another key (another quarter): not a correction, kept as it is
                line(quarter=20102, gross_wage_cents=500_000, declaration_version=1),
            ]
        }
    )
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {("dmfa.occupations", "corrected_declaration", None): 1}
    cleaned = sc.clean_sources(sources, findings)["dmfa.occupations"]
    assert rows_of(cleaned, "quarter", "gross_wage_cents", "declaration_version") == ordered(
        [
            (20101, 900_000, 2),
            (20102, 500_000, 1),
        ]
    )


def test_declaration_keys_that_share_a_hash_leave_the_counts_and_the_cleaning_exact(
    monkeypatch,
):
    # the lines sharing their key are found by the key's hash; with a hash of two values,
    # every key collides with others: lines with a key of their own must still be kept as
    # they are and counted as neither copies nor corrections
    sources = sources_of(
        {
            "dmfa.occupations": [
                line(),
                line(),  # a copy
                line(quarter=20102, gross_wage_cents=990_000, declaration_version=1),
                line(quarter=20102, gross_wage_cents=900_000, declaration_version=2),
                *(line(quarter=20103, days_worked=days) for days in (1, 2, 3)),  # other keys
                line(quarter=20104, occupation_start=d("2009-01-01")),
                line(insz=BERT),
            ]
        }
    )

    def checked() -> tuple[dict, list[tuple]]:
        findings = sc.find_defects(sources)
        cleaned = sc.clean_sources(sources, findings)["dmfa.occupations"]
        columns = ("insz", "quarter", "days_worked", "gross_wage_cents", "occupation_start")
        return nonzero(findings), rows_of(cleaned, *columns)

    exact = checked()
    monkeypatch.setattr(sc, "_KEY_HASH", f"({sc._KEY_HASH} % 2)")
    assert checked() == exact
    assert exact[0] == {
        ("dmfa.occupations", "duplicate_declaration", None): 1,
        ("dmfa.occupations", "corrected_declaration", None): 1,
    }
    assert len(exact[1]) == 7  # nine lines less the copy and the corrected line


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        (dict(insz="85073003429"), "insz"),  # check digits 29, expected 27
        (dict(insz="8507300342"), "insz"),  # ten digits
        (dict(insz="8507300342X"), "insz"),
        (dict(employer_rsz="212345608"), "employer_rsz"),  # 09 expected
        (dict(enterprise_kbo="0403019262"), "enterprise_kbo"),  # 61 expected
        (dict(local_unit_id="2000000041"), "local_unit_id"),  # 42 expected
    ],
)
def test_invalid_check_digits_are_refused_with_a_count_and_no_identifier(changes, column):
    sources = sources_of({"dmfa.occupations": [line(), line(quarter=20102, **changes)]})
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {("dmfa.occupations", "invalid_check_digits", column): 1}
    with pytest.raises(SourceDefects) as refused:
        sc.refuse_uncleanable(findings)
    message = str(refused.value)
    assert f"dmfa.occupations: 1 record with invalid_check_digits in {column} (refuse)" in message
    assert "guessing an identity is not the extractor's job" in message
    assert not any(value in message for value in changes.values())
    assert ANNA not in message and EMPLOYER not in message


def test_a_2000s_insz_and_an_empty_career_employer_are_valid():
    sources = sources_of(
        {
            "register.persons": [person(CARL)],
            "sigedis.career": [career(CARL, 2017, employer=None), career(CARL, 2018, "100006")],
        }
    )
    # 100006 is valid (domain.md 1.3) but not in the 9-digit form the schema declares
    assert nonzero(sc.find_defects(sources)) == {
        ("sigedis.career", "invalid_check_digits", "employer_rsz"): 1
    }


def test_unknown_codes_are_refused_with_a_count_per_column():
    sources = sources_of(
        {
            "rva.unemployment": [
                unemployed(ANNA, "2005-01-01", "2005-03-31", category="TA"),
                unemployed(ANNA, "2006-01-01", "2006-03-31", category="TA"),
                unemployed(BERT, "2006-01-01", None),
            ],
            "nic.incapacity": [
                incapacitated(ANNA, 1, "primary", "2007-01-01", "2007-02-01") | {"nature": "ZERO"}
            ],
        }
    )
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {
        ("rva.unemployment", "unknown_code", "category"): 2,
        ("nic.incapacity", "unknown_code", "nature"): 1,
    }
    with pytest.raises(SourceDefects, match="rva.unemployment: 2 records with unknown_code in cat"):
        sc.refuse_uncleanable(findings)


def test_records_after_death_are_dropped_and_records_running_past_it_end_on_it():
    died = "2010-05-15"
    sources = sources_of(
        {
            "register.persons": [person(ANNA), person(BERT, death_date=died)],
            "dmfa.occupations": [
                line(insz=BERT, quarter=20102),  # open occupation: ends on the death
                line(insz=BERT, quarter=20103),  # the quarter after the death: dropped
                line(insz=ANNA, quarter=20103),  # alive: untouched
            ],
            "rva.unemployment": [
                unemployed(BERT, "2009-01-01", "2010-05-20"),  # ends on the death
                unemployed(BERT, "2010-06-01", None),  # starts after the death: dropped
            ],
            "nic.incapacity": [incapacitated(BERT, 1, "primary", "2006-01-01", died)],
            "sigedis.career": [career(BERT, 2010), career(BERT, 2011), career(ANNA, 2011)],
        }
    )
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {
        ("dmfa.occupations", "after_death", None): 2,
        ("rva.unemployment", "after_death", None): 2,
        ("sigedis.career", "after_death", None): 1,
    }
    cleaned = sc.clean_sources(sources, findings)
    assert rows_of(cleaned["dmfa.occupations"], "insz", "quarter", "occupation_end") == ordered(
        [
            (ANNA, 20103, None),
            (BERT, 20102, d(died)),
        ]
    )
    assert rows_of(cleaned["rva.unemployment"], "start_date", "end_date") == ordered(
        [(d("2009-01-01"), d(died))]
    )
    assert rows_of(cleaned["sigedis.career"], "insz", "year") == ordered(
        [(ANNA, 2011), (BERT, 2010)]
    )
    assert cleaned["nic.incapacity"] is sources["nic.incapacity"]


def test_an_episode_overlapping_the_next_is_cut_the_day_before_it():
    sources = sources_of(
        {
            "rva.unemployment": [
                unemployed(ANNA, "2005-01-01", "2005-06-30"),
                unemployed(ANNA, "2005-06-01", "2005-12-31"),
                # same start: the one that ends first comes first, is left no day, and goes
                unemployed(BERT, "2008-03-01", None),
                unemployed(BERT, "2008-03-01", "2008-04-30"),
            ],
            "nic.incapacity": [
                incapacitated(ANNA, 1, "primary", "2006-01-01", "2007-01-10"),
                incapacitated(ANNA, 1, "invalidity", "2007-01-01", None),
            ],
        }
    )
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {
        ("rva.unemployment", "overlapping_episode", None): 2,
        ("nic.incapacity", "overlapping_episode", None): 1,
    }
    cleaned = sc.clean_sources(sources, findings)
    assert rows_of(cleaned["rva.unemployment"], "insz", "start_date", "end_date") == ordered(
        [
            (ANNA, d("2005-01-01"), d("2005-05-31")),
            (ANNA, d("2005-06-01"), d("2005-12-31")),
            (BERT, d("2008-03-01"), None),
        ]
    )
    assert rows_of(cleaned["nic.incapacity"], "phase", "start_date", "end_date") == ordered(
        [
            ("invalidity", d("2007-01-01"), None),
            ("primary", d("2006-01-01"), d("2006-12-31")),
        ]
    )


def test_the_overlap_rule_leaves_episodes_it_does_not_cut_as_they_are():
    inverted = unemployed(BERT, "2005-09-30", "2005-09-28")  # not an overlap: not this rule's
    sources = sources_of(
        {
            "rva.unemployment": [
                unemployed(ANNA, "2005-01-01", "2005-06-30"),
                unemployed(ANNA, "2005-06-01", "2005-12-31"),
                inverted,
            ]
        }
    )
    findings = sc.find_defects(sources)
    assert nonzero(findings) == {("rva.unemployment", "overlapping_episode", None): 1}
    cleaned = sc.clean_sources(sources, findings)["rva.unemployment"]
    assert rows_of(cleaned, "insz", "start_date", "end_date") == ordered(
        [
            (ANNA, d("2005-01-01"), d("2005-05-31")),
            (ANNA, d("2005-06-01"), d("2005-12-31")),
            (BERT, d("2005-09-30"), d("2005-09-28")),
        ]
    )


def test_a_refusal_also_counts_the_cleanable_kinds():
    sources = sources_of(
        {"dmfa.occupations": [line(), line(), line(quarter=20102, worker_code="840")]}
    )
    with pytest.raises(SourceDefects) as refused:
        sc.refuse_uncleanable(sc.find_defects(sources))
    assert str(refused.value).splitlines()[1:3] == [
        "  dmfa.occupations: 1 record with unknown_code in worker_code (refuse)",
        "  dmfa.occupations: 1 record with duplicate_declaration (clean)",
    ]
