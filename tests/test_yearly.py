"""Yearly deliveries: the years each holds, stable pseudonyms, superseding, idempotent reruns."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
import yaml

from flows.extract.errors import AuthorisationError
from flows.runtime.settings import SPECS_DIR, Paths
from flows.schedule.yearly import yearly_extract
from flows.stores import audit_read
from specs.model import Delivery
from specs.values import Period

PERIOD = Period.model_validate({"from": "2003-01", "until": "2015-12"})


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (dt.date(2015, 3, 1), ("2004-01", "2013-12")),
        (dt.date(2016, 3, 1), ("2005-01", "2014-12")),
        (dt.date(2030, 3, 1), ("2006-01", "2015-12")),  # never past the spec's period
        (dt.date(2007, 3, 1), ("2003-01", "2005-12")),  # nor before it
    ],
)
def test_a_rolling_delivery_holds_the_most_recent_years(as_of, expected):
    delivery = Delivery(cron="0 6 1 3 *", regime="rolling", keep_years=10, data_lag_years=2)
    period = delivery.period_as_of(PERIOD, as_of)
    assert (period.from_, period.until) == expected


def test_a_fixed_delivery_always_holds_the_whole_period():
    delivery = Delivery(cron="0 6 1 3 *", regime="fixed")
    assert delivery.period_as_of(PERIOD, dt.date(2016, 3, 1)) == PERIOD


def test_a_rolling_delivery_before_the_period_has_data_is_refused():
    delivery = Delivery(cron="0 6 1 3 *", regime="rolling", keep_years=3, data_lag_years=2)
    with pytest.raises(ValueError, match="would hold no year of the period"):
        delivery.period_as_of(PERIOD, dt.date(2004, 3, 1))


def test_keep_years_belongs_to_the_rolling_regime_only():
    with pytest.raises(ValueError, match="'keep_years' is required"):
        Delivery(cron="0 6 1 3 *", regime="rolling")
    with pytest.raises(ValueError, match="'keep_years' is required"):
        Delivery(cron="0 6 1 3 *", regime="fixed", keep_years=3)


@pytest.fixture(scope="module")
def rolling(world, tmp_path_factory):
    """14/045 with three-year deliveries, under the test world's key, and two deliveries made."""
    root = tmp_path_factory.mktemp("yearly")
    document = yaml.safe_load((SPECS_DIR / "14-045.yaml").read_text())
    document["project"] = "e2e"
    document["valid"] = {"from": "2014-01-01", "until": "2030-12-31"}
    document["delivery"] |= {"keep_years": 3, "data_lag_years": 1}
    document["modes"]["sample"] |= {"persons": 100, "delete_by": "2030-12-31"}
    spec = root / "14-045.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    paths = Paths(data=root / "data", key_store=world["paths"].key_store)
    first = yearly_extract(spec, dt.date(2014, 3, 1), paths, world["store"])
    first_year_panel = pl.read_parquet(first.delivery.folder / "year.parquet")  # it will be gone
    second = yearly_extract(spec, dt.date(2015, 3, 1), paths, world["store"])
    return dict(
        spec=spec,
        paths=paths,
        first=first,
        first_year_panel=first_year_panel,
        second=second,
        store=world["store"],
    )


def _years(folder) -> set[int]:
    return set(pl.read_parquet(folder / "year.parquet")["year"].unique().to_list())


def test_each_delivery_holds_its_years_and_the_oldest_is_destroyed(rolling):
    first, second = rolling["first"], rolling["second"]
    assert second.superseded == (first.delivery.folder,)
    assert not first.delivery.folder.exists()
    assert _years(second.delivery.folder) == {2012, 2013, 2014}
    assert json.loads((second.delivery.folder / "manifest.json").read_text())["period"] == {
        "from": "2012-01",
        "until": "2014-12",
    }
    due = [
        e for e in audit_read.read(rolling["paths"].audit_log) if e["event"] == "attestation_due"
    ]
    assert len(due) == 1 and due[0]["target"] == str(first.delivery.folder)
    assert "destroys the years it no longer holds (2011)" in due[0]["reason"]


def test_persons_keep_their_pseudonyms_from_one_delivery_to_the_next(rolling):
    first = rolling["first_year_panel"]
    second = pl.read_parquet(rolling["second"].delivery.folder / "year.parquet")
    common = set(first["person_id"]) & set(second["person_id"])
    # Refreshed, not redrawn: most persons stay; only those the new window displaces leave.
    assert len(common) >= 0.8 * first["person_id"].n_unique()
    overlap = pl.col("year").is_in([2012, 2013]) & pl.col("person_id").is_in(list(common))
    key = ["person_id", "year"]
    assert first.filter(overlap).sort(key).equals(second.filter(overlap).sort(key))


def test_rerunning_the_latest_delivery_reuses_it_and_logs_only_the_run(rolling):
    log = rolling["paths"].audit_log
    before = len(audit_read.read(log))
    again = yearly_extract(rolling["spec"], dt.date(2015, 3, 1), rolling["paths"], rolling["store"])
    assert again.delivery.status == "unchanged" and again.superseded == ()
    assert [e["event"] for e in audit_read.read(log)[before:]] == ["request", "rerun"]


def test_a_delivery_older_than_the_latest_is_refused_and_logged(rolling):
    with pytest.raises(AuthorisationError, match="as of 2015-03-01 exists already"):
        yearly_extract(rolling["spec"], dt.date(2014, 3, 1), rolling["paths"], rolling["store"])
    assert audit_read.read(rolling["paths"].audit_log)[-1]["event"] == "refusal"


def test_the_population_rule_looks_back_to_its_since_month_but_only_the_living_count():
    import duckdb

    from specs.model import PopulationRule
    from transforms import calendar
    from transforms import population as population_query

    con = duckdb.connect()
    persons = con.sql(
        "select * from (values ('A', date '1970-01-01', null::date),"
        " ('B', date '1970-01-01', null::date), ('C', date '1970-01-01', date '2005-06-30'))"
        " t(insz, birth_date, death_date)"
    )
    # A fell ill in 2004 only, B in 2014, C in 2004 and died in 2005.
    incapacity = con.sql(
        "select * from (values ('A', date '2004-02-01', date '2004-05-31'),"
        " ('B', date '2014-02-01', date '2014-03-31'), ('C', date '2004-02-01', null::date))"
        " t(insz, start_date, end_date)"
    )
    window = Period.model_validate({"from": "2012-01", "until": "2014-12"})
    since_2003 = Period.model_validate({"from": "2003-01", "until": "2014-12"})
    rule = PopulationRule.INCAPACITY_IN_PERIOD
    only_window = population_query.select_population(
        persons, incapacity, calendar.bounds(window), rule
    )
    looking_back = population_query.select_population(
        persons, incapacity, calendar.bounds(window), rule, calendar.bounds(since_2003)
    )
    assert sorted(only_window.pl()["insz"]) == ["B"]
    assert sorted(looking_back.pl()["insz"]) == ["A", "B"]


def test_deployments_schedule_each_yearly_spec_and_daily_retention_in_brussels_time():
    from flows.schedule.deployments import deployments

    scheduled = {
        d.name: (d.flow_name, [(s.schedule.cron, s.schedule.timezone) for s in d.schedules])
        for d in deployments(SPECS_DIR)
    }
    assert scheduled == {
        "14-045-yearly": ("scheduled_yearly_extract", [("0 6 1 3 *", "Europe/Brussels")]),
        "18-088-part1-yearly": ("scheduled_yearly_extract", [("0 6 1 3 *", "Europe/Brussels")]),
        "daily": ("scheduled_retention", [("30 2 * * *", "Europe/Brussels")]),
        "consultations": ("scheduled_review", [("0 6 * * *", "Europe/Brussels")]),
    }
