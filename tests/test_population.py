"""Spec tests of the population language: per construct, a few persons' source rows and the
persons expected in or out (ehrQL style), and the invariants of the combinations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.model import Population
from specs.sources import SOURCE_TABLES
from specs.values import Period
from transforms import population

PERIOD = Period.model_validate({"from": "2010-01", "until": "2015-12"})
D = dt.date


def _sources(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict:
    """Each source table as a relation holding the rows given (other columns null, other
    tables empty), typed as the source declarations say."""
    con = duckdb.connect()
    relations = {}
    for key, table in SOURCE_TABLES.items():
        name = key.replace(".", "_")
        columns = ", ".join(f'"{c.name}" {c.dtype}' for c in table.columns)
        con.execute(f"create table {name} ({columns})")
        for row in rows.get(key, ()):
            values = [row.get(c.name) for c in table.columns]
            marks = ", ".join("?" for _ in values)
            con.execute(f"insert into {name} values ({marks})", values)
        relations[key] = con.table(name)
    return relations


BORN = D(1970, 1, 1)


def person(insz: str, born: dt.date = BORN, died: dt.date | None = None) -> dict:
    return {"insz": insz, "sex": "F", "birth_date": born, "death_date": died}


def spell(insz: str, start: dt.date, end: dt.date | None, **values: Any) -> dict:
    return {"insz": insz, "start_date": start, "end_date": end, **values}


def condition(text: str):
    where = yaml.safe_load(text)
    return Population.model_validate({"description": "test", "where": where}).condition


def kept(text: str, rows: Mapping[str, Sequence[Mapping[str, Any]]], listed=None) -> set[str]:
    sources = _sources(rows)
    scope = population.Scope(
        population.alive_in(sources["register.persons"], PERIOD), sources, PERIOD, listed
    )
    return {r[0] for r in population.persons_of(condition(text), scope).fetchall()}


def test_alive_keeps_the_persons_alive_on_some_day_of_the_window_or_on_the_day():
    rows = {
        "register.persons": [
            person("dead_before", died=D(2009, 12, 31)),
            person("dies_in_it", died=D(2012, 6, 15)),
            person("born_after", born=D(2016, 1, 1)),
            person("always"),
        ]
    }
    # the universe is the persons alive in the period: the first and third are never in it
    assert kept("{alive: {}}", rows) == {"dies_in_it", "always"}
    assert kept("{alive: {at: 2013-01-01}}", rows) == {"always"}
    assert kept("{alive: {during: {from: 2010-01, until: 2012-06}}}", rows) == {
        "dies_in_it",
        "always",
    }


def test_incapacity_keeps_a_phase_overlapping_the_window():
    rows = {
        "register.persons": [person("ended_before"), person("open"), person("inside")],
        "nic.incapacity": [
            spell("ended_before", D(2005, 1, 1), D(2009, 12, 31), episode=1, phase="primary"),
            spell("open", D(2001, 1, 1), None, episode=1, phase="invalidity"),
            spell("inside", D(2014, 3, 1), D(2014, 3, 20), episode=1, phase="primary"),
        ],
    }
    assert kept("{incapacity: {}}", rows) == {"open", "inside"}
    assert kept("{incapacity: {during: {from: 2015-01, until: 2015-12}}}", rows) == {"open"}


def test_employed_keeps_a_line_of_a_matching_employer_in_a_quarter_of_the_window():
    line = {"occupation_start": D(2000, 1, 1), "days_worked": 6500}
    rows = {
        "register.persons": [person("care"), person("bank"), person("too_early")],
        "dmfa.occupations": [
            {"insz": "care", "quarter": 20121, "nace": "87100", **line},
            {"insz": "bank", "quarter": 20121, "nace": "64190", **line},
            {"insz": "too_early", "quarter": 20094, "nace": "87100", **line},
        ],
    }
    assert kept("{employed: {}}", rows) == {"care", "bank"}
    assert kept("{employed: {employers: {nace: ['87100']}}}", rows) == {"care"}


def test_listed_keeps_the_listed_persons_alive_in_the_period():
    import polars as pl

    rows = {"register.persons": [person("a"), person("b"), person("gone", died=D(2001, 1, 1))]}
    asked = pl.DataFrame({"insz": ["b", "gone", "unknown"]})
    assert kept("{listed: true}", rows, listed=asked) == {"b"}


DISABILITY = {
    "register.persons": [person("all_along"), person("one_quarter"), person("never")],
    "fodsz.disability": [
        spell("all_along", D(2009, 1, 1), None, ordinary_allowance="Y"),
        # holds on 2012-09-30 (the last day of 2012-Q3) only
        spell("one_quarter", D(2012, 8, 1), D(2012, 10, 15), ordinary_allowance="Y"),
        spell("never", D(2011, 1, 1), None, ordinary_allowance="N"),
    ],
}


def test_a_variable_ever_always_and_at_a_quarter_or_a_day():
    variable = "{variable: disability_ordinary_allowance, is: Y"
    assert kept(variable + "}", DISABILITY) == {"all_along", "one_quarter"}
    assert kept(variable + ", when: always}", DISABILITY) == {"all_along"}
    assert kept(variable + ", at: 2012-Q3}", DISABILITY) == {"all_along", "one_quarter"}
    assert kept(variable + ", at: 2012-Q4}", DISABILITY) == {"all_along"}
    # a day inside the spell, though no quarter ends in it there
    assert kept(variable + ", at: 2012-10-10}", DISABILITY) == {"all_along", "one_quarter"}
    # no row on the day is 'N', as the panels say it
    assert kept("{variable: disability_ordinary_allowance, is: N}", DISABILITY) == {
        "one_quarter",
        "never",
    }


def test_a_variable_of_a_period_table_with_bounds_in_a_sub_period():
    rows = {
        "register.persons": [person("paid_2011"), person("paid_2014"), person("few_days")],
        "rva.payments": [
            {"insz": "paid_2011", "month": 201103, "benefit_days": 20},
            {"insz": "paid_2014", "month": 201411, "benefit_days": 26},
            {"insz": "few_days", "month": 201402, "benefit_days": 2},
        ],
    }
    assert kept("{variable: benefit_days, at_least: 1}", rows) == set(
        r["insz"] for r in rows["register.persons"]
    )
    late = "{variable: benefit_days, at_least: 10, during: {from: 2013-01, until: 2015-12}}"
    assert kept(late, rows) == {"paid_2014"}
    assert kept("{variable: benefit_days, between: [1, 5], at: 2014-02}", rows) == {"few_days"}


def residence(insz: str, start: dt.date, end: dt.date | None, nis_code: str) -> dict:
    return {"insz": insz, "valid_from": start, "valid_until": end, "nis_code": nis_code}


RESIDENCES = {
    "register.persons": [person("brussels"), person("moved"), person("ghent")],
    "register.residences": [
        residence("brussels", D(2000, 1, 1), None, "21004"),
        residence("moved", D(2000, 1, 1), D(2013, 5, 1), "21001"),
        residence("moved", D(2013, 5, 2), None, "62063"),
        residence("ghent", D(2000, 1, 1), None, "44021"),
    ],
}


def test_region_of_residence_on_a_day_ever_and_always():
    assert kept("{region: {at: 2015-12-31, is: brussels}}", RESIDENCES) == {"brussels"}
    assert kept("{region: {is: brussels}}", RESIDENCES) == {"brussels", "moved"}
    assert kept("{region: {is: brussels, when: always}}", RESIDENCES) == {"brussels"}
    assert kept("{region: {at: 2015-12, in: [wallonia, flanders]}}", RESIDENCES) == {
        "moved",
        "ghent",
    }


def test_age_in_whole_years_on_the_day():
    rows = {
        "register.persons": [
            person("eighteen_today", born=D(1997, 12, 31)),
            person("eighteen_tomorrow", born=D(1998, 1, 1)),
            person("sixty_four", born=D(1951, 1, 1)),
            person("sixty_five", born=D(1950, 12, 31)),
            person("dead", born=D(1980, 1, 1), died=D(2015, 6, 1)),
        ]
    }
    assert kept("{age: {at: 2015-12-31, between: [18, 64]}}", rows) == {
        "eighteen_today",
        "sixty_four",
    }
    assert kept("{age: {at: 2015-12-31, at_least: 65}}", rows) == {"sixty_five"}


def test_all_of_any_of_and_not():
    rows = {
        **DISABILITY,
        "register.residences": [residence("all_along", D(2000, 1, 1), None, "21004")]
        + [residence("never", D(2000, 1, 1), None, "21004")],
    }
    disabled = "{variable: disability_ordinary_allowance, is: Y}"
    brussels = "{region: {at: 2015-12-31, is: brussels}}"
    assert kept(f"{{all_of: [{disabled}, {brussels}]}}", rows) == {"all_along"}
    assert kept(f"{{any_of: [{disabled}, {brussels}]}}", rows) == {
        "all_along",
        "one_quarter",
        "never",
    }
    assert kept(f"{{not: {disabled}}}", rows) == {"never"}


# --- invariants, on generated persons ---------------------------------------------------------

_days = st.dates(min_value=D(2008, 1, 1), max_value=D(2017, 12, 31))


@st.composite
def _world(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    persons, disability, residences = [], [], []
    for i in range(count):
        insz = f"p{i:02d}"
        born = draw(st.dates(min_value=D(1940, 1, 1), max_value=D(2012, 1, 1)))
        died = draw(st.none() | _days)
        persons.append(person(insz, born, died if died and died > born else None))
        for start in draw(st.lists(_days, max_size=2)):
            end = draw(st.none() | st.dates(min_value=start, max_value=D(2018, 1, 1)))
            flag = draw(st.sampled_from(["Y", "N"]))
            disability.append(spell(insz, start, end, ordinary_allowance=flag))
        nis = draw(st.sampled_from(["21004", "44021", "62063"]))
        residences.append(residence(insz, born, None, nis))
    return {
        "register.persons": persons,
        "fodsz.disability": disability,
        "register.residences": residences,
    }


_CONDITIONS = st.sampled_from(
    [
        "{variable: disability_ordinary_allowance, is: Y}",
        "{variable: disability_ordinary_allowance, is: Y, when: always}",
        "{region: {at: 2013-06-30, is: brussels}}",
        "{age: {at: 2014-01-01, between: [18, 64]}}",
        "{alive: {at: 2012-01-01}}",
    ]
)


@settings(max_examples=25, deadline=None)
@given(world=_world(), first=_CONDITIONS, second=_CONDITIONS)
def test_combinations_are_the_set_operations_of_their_parts(world, first, second):
    a, b = kept(first, world), kept(second, world)
    everyone = kept("{alive: {}}", world)
    both = kept(f"{{all_of: [{first}, {second}]}}", world)
    either = kept(f"{{any_of: [{first}, {second}]}}", world)
    assert both <= a and both <= b and both == a & b
    assert a <= either and b <= either and either == a | b
    negated = kept(f"{{not: {first}}}", world)
    assert negated & a == set() and negated | a == everyone


@settings(max_examples=15, deadline=None)
@given(world=_world(), text=_CONDITIONS, data=st.data())
def test_the_population_does_not_depend_on_the_slicing(world, text, data):
    everyone = [p["insz"] for p in world["register.persons"]]
    chosen = set(data.draw(st.lists(st.sampled_from(everyone), unique=True)))

    def only(rows: dict) -> dict:
        return {k: [r for r in v if r["insz"] in chosen] for k, v in rows.items()}

    assert kept(text, only(world)) == kept(text, world) & chosen


@pytest.mark.parametrize(
    ("rule", "expression"),
    [
        ("all_persons_in_period", "{alive: {}}"),
        ("incapacity_episode_in_period", "{incapacity: {}}"),
        ("employed_in_period", "{employed: {}}"),
        ("listed_persons", "{listed: true}"),
    ],
)
def test_a_named_rule_is_its_expression(rule, expression):
    named = Population.model_validate({"description": "test", "rule": rule})
    assert named.condition == condition(expression)


def test_the_employers_of_the_named_rule_go_into_its_expression():
    employers = {"nace": ["87100"], "local_unit_region": "brussels"}
    named = Population.model_validate(
        {"description": "test", "rule": "employed_in_period", "employers": employers}
    )
    assert named.condition == condition(f"{{employed: {{employers: {employers}}}}}")
    assert named.employer_lines_only == named.condition.employed.employers


def test_a_population_is_given_one_way():
    with pytest.raises(ValueError, match="one way"):
        Population.model_validate(
            {"description": "test", "rule": "listed_persons", "where": {"listed": True}}
        )
    with pytest.raises(ValueError, match="one way"):
        Population.model_validate({"description": "test"})
