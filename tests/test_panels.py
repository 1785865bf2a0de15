"""Spec tests of the panels: inline source rows, expected rows per person."""

from __future__ import annotations

import duckdb
import pytest

from flows.sources import open_sources
from specs.model import Period, PopulationRule
from tests.sourcestore import d, write_store
from transforms import calendar, panels

ANNA, BERT, CARL = "85073003427", "50010100155", "90010100118"

PERIOD = Period.model_validate({"from": "2010-01", "until": "2010-06"})

ROWS = {
    "register.persons": [
        dict(
            insz=ANNA,
            last_name="A",
            first_name="A",
            sex="F",
            birth_date=d("1985-07-30"),
            death_date=None,
            street="s 1",
            postal_code="1000",
            first_nationality="129",
        ),
        dict(
            insz=BERT,
            last_name="B",
            first_name="B",
            sex="M",
            birth_date=d("1950-01-01"),
            death_date=d("2010-03-10"),
            street="s 2",
            postal_code="1000",
            first_nationality="150",
        ),
        dict(
            insz=CARL,
            last_name="C",
            first_name="C",
            sex="M",
            birth_date=d("1990-01-01"),
            death_date=None,
            street="s 3",
            postal_code="1000",
            first_nationality="150",
        ),
    ],
    "register.residences": [
        dict(insz=ANNA, valid_from=d("1985-07-30"), valid_until=d("2010-04-30"), nis_code="21004"),
        dict(insz=ANNA, valid_from=d("2010-05-01"), valid_until=None, nis_code="11002"),
        dict(insz=BERT, valid_from=d("1950-01-01"), valid_until=d("2010-03-10"), nis_code="62063"),
    ],
    "register.nationalities": [
        dict(insz=ANNA, valid_from=d("1985-07-30"), valid_until=d("2010-02-01"), nationality="129"),
        dict(insz=ANNA, valid_from=d("2010-02-02"), valid_until=None, nationality="150"),
        dict(insz=BERT, valid_from=d("1950-01-01"), valid_until=d("2010-03-10"), nationality="150"),
    ],
    "register.households": [
        dict(
            insz=ANNA, valid_from=d("2003-07-30"), valid_until=None, lipro="SING", household_size=1
        ),
    ],
    "dmfa.occupations": [
        dict(
            insz=ANNA,
            quarter=20094,
            employer_rsz="100006",
            enterprise_kbo="0403019261",
            local_unit_id="2000000001",
            joint_committee="200",
            worker_code="495",
            contract_type="1",
            q_hours=1900,
            s_hours=3800,
            occupation_start=d("2009-05-01"),
            occupation_end=d("2010-02-14"),
            days_worked=3250,
            gross_wage_cents=420000,
            declaration_version=1,
        ),
        dict(
            insz=ANNA,
            quarter=20101,
            employer_rsz="100006",
            enterprise_kbo="0403019261",
            local_unit_id="2000000001",
            joint_committee="200",
            worker_code="495",
            contract_type="1",
            q_hours=1900,
            s_hours=3800,
            occupation_start=d("2009-05-01"),
            occupation_end=d("2010-02-14"),
            days_worked=1500,
            gross_wage_cents=190000,
            declaration_version=1,
        ),
    ],
    "rva.unemployment": [
        dict(
            insz=ANNA,
            start_date=d("2010-05-03"),
            end_date=None,
            category="WN",
            daily_allowance_cents=4512,
        ),
    ],
    "nic.incapacity": [
        dict(
            insz=ANNA,
            episode=1,
            phase="primary",
            start_date=d("2010-02-15"),
            end_date=d("2010-04-10"),
            illness_start_date=d("2010-01-16"),
            primary_start_date=d("2010-02-15"),
            nature="FULL",
            daily_benefit_cents=5000,
        ),
        dict(
            insz=BERT,
            episode=1,
            phase="primary",
            start_date=d("2008-01-01"),
            end_date=d("2008-12-31"),
            illness_start_date=d("2007-12-01"),
            primary_start_date=d("2008-01-01"),
            nature="FULL",
            daily_benefit_cents=4000,
        ),
        dict(
            insz=BERT,
            episode=1,
            phase="invalidity",
            start_date=d("2009-01-01"),
            end_date=d("2010-03-10"),
            illness_start_date=d("2007-12-01"),
            primary_start_date=d("2008-01-01"),
            nature="FULL",
            daily_benefit_cents=4100,
        ),
    ],
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    store = write_store(tmp_path_factory.mktemp("store"), ROWS)
    return open_sources(duckdb.connect(), store)


@pytest.fixture(scope="module")
def population(sources):
    return panels.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(PERIOD),
        PopulationRule.INCAPACITY_IN_PERIOD,
    )


def test_population_holds_only_persons_with_incapacity_in_the_period(population):
    assert sorted(population.pl()["insz"]) == sorted([ANNA, BERT])


def test_population_of_all_persons_holds_everyone_alive_in_the_period(sources):
    everyone = panels.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(PERIOD),
        PopulationRule.ALL_PERSONS,
    )
    assert sorted(everyone.pl()["insz"]) == sorted([ANNA, BERT, CARL])


def _rows(relation, columns):
    return relation.pl().sort("insz", columns[0]).select("insz", *columns).rows()


def test_month_panel_takes_the_situation_on_the_last_day(sources, population):
    month = panels.month_panel(
        population,
        calendar.months(PERIOD),
        sources["dmfa.occupations"],
        sources["rva.unemployment"],
        sources["nic.incapacity"],
    )
    got = _rows(
        month,
        [
            "month",
            "socio_economic_position",
            "incapacity_phase",
            "incapacity_start",
            "incapacity_end",
            "unemployment_category",
            "unemployment_daily_allowance",
        ],
    )
    assert got == [
        (BERT, "2010-01", "332", "invalidity", d("2008-01-01"), d("2010-03-10"), None, None),
        (BERT, "2010-02", "332", "invalidity", d("2008-01-01"), d("2010-03-10"), None, None),
        # died on 10 March: the situation on the day of death
        (BERT, "2010-03", "332", "invalidity", d("2008-01-01"), d("2010-03-10"), None, None),
        (ANNA, "2010-01", "111", None, None, None, None, None),
        (ANNA, "2010-02", "331", "primary", d("2010-02-15"), d("2010-04-10"), None, None),
        (ANNA, "2010-03", "331", "primary", d("2010-02-15"), d("2010-04-10"), None, None),
        (ANNA, "2010-04", "399", None, None, None, None, None),
        (ANNA, "2010-05", "211", None, None, None, "WN", 45.12),
        (ANNA, "2010-06", "211", None, None, None, "WN", 45.12),
    ]


def test_quarter_panel_takes_characteristics_on_the_last_day(sources, population):
    quarter = panels.quarter_panel(
        population,
        calendar.quarters(PERIOD),
        sources["register.persons"],
        sources["register.residences"],
        sources["register.nationalities"],
        sources["register.households"],
        sources["dmfa.occupations"],
        sources["nic.incapacity"],
    )
    got = _rows(
        quarter,
        [
            "quarter",
            "municipality",
            "nationality",
            "first_nationality",
            "lipro_position",
            "job_count",
            "gross_wage",
            "primary_incapacity_start",
        ],
    )
    assert got == [
        (BERT, "2010-Q1", "62063", "150", "150", None, 0, None, d("2008-01-01")),
        # still in primary incapacity on 31 March
        (ANNA, "2010-Q1", "21004", "150", "129", "SING", 1, 1900.0, d("2010-02-15")),
        (ANNA, "2010-Q2", "11002", "150", "129", "SING", 0, None, None),
    ]


def test_job_panel_keeps_every_job_of_the_quarter_with_its_daily_wage(sources, population):
    jobs = panels.job_panel(population, calendar.quarters(PERIOD), sources["dmfa.occupations"])
    got = _rows(
        jobs,
        [
            "quarter",
            "job",
            "employer_id",
            "part_time_percentage",
            "paid_days",
            "job_gross_wage",
            "daily_wage",
        ],
    )
    # 2009-Q4 lies outside the period; 1,900 euro over 15 paid days is 126.67 a day
    assert got == [(ANNA, "2010-Q1", 1, "100006", 50.0, 15.0, 1900.0, 126.67)]
