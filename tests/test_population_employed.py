"""The population rule employed_in_period: workers of the employers a deliberation names."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from specs.model import PopulationRule
from specs.values import Employers, Period
from transforms import calendar
from transforms import population as population_query
from transforms.employers import employer_lines

PERIOD = Period.model_validate({"from": "2019-10", "until": "2020-09"})


def _relations():
    con = duckdb.connect()
    persons = con.from_arrow(
        pl.DataFrame(
            {
                "insz": ["a", "b", "c", "d", "e"],
                "birth_date": [dt.date(1970, 1, 1)] * 5,
                "death_date": [None, None, None, dt.date(2019, 1, 1), None],
            },
            schema_overrides={"death_date": pl.Date},
        ).to_arrow()
    )
    occupations = con.from_arrow(
        pl.DataFrame(
            {
                # a: Brussels rest home in the period; b: the same home, before the period;
                # c: a Flemish rest home; d: dead before the period; e: a Brussels hospital
                "insz": ["a", "b", "c", "d", "e"],
                "quarter": [20203, 20184, 20194, 20194, 20201],
                "nace": ["87300", "87300", "87300", "87300", "86101"],
                "joint_committee": ["330"] * 5,
                "local_unit_nis": ["21004", "21004", "11002", "21004", "21015"],
                "sector": ["1"] * 5,
            }
        ).to_arrow()
    )
    incapacity = con.from_arrow(
        pl.DataFrame(
            {"insz": [], "start_date": [], "end_date": []},
            schema={"insz": pl.String, "start_date": pl.Date, "end_date": pl.Date},
        ).to_arrow()
    )
    return persons, incapacity, occupations


def _selected(employers: Employers) -> list[str]:
    persons, incapacity, occupations = _relations()
    bounds = calendar.bounds(PERIOD)
    relation = population_query.select_population(
        persons,
        incapacity,
        bounds,
        PopulationRule.EMPLOYED_IN_PERIOD,
        bounds,
        occupations,
        employers,
    )
    return sorted(relation.pl()["insz"])


def test_workers_of_the_named_employers_in_the_region_during_the_period():
    employers = Employers(nace=("87300",), local_unit_region="brussels")
    assert _selected(employers) == ["a"]


def test_each_criterion_left_out_widens_the_population():
    assert _selected(Employers(nace=("87300",))) == ["a", "c"]
    assert _selected(Employers(local_unit_region="brussels")) == ["a", "e"]
    assert _selected(Employers()) == ["a", "c", "e"]


def test_the_lines_kept_are_those_of_the_named_employers_only():
    _, _, occupations = _relations()
    lines = employer_lines(occupations, Employers(nace=("86101",), sector="private"))
    assert lines.pl()["insz"].to_list() == ["e"]
    assert employer_lines(occupations, Employers(sector="public")).pl().height == 0
