"""The existing specs' populations, said as expressions, are the persons their rules gave."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.settings import SPECS_DIR
from flows.sources import open_sources
from specs.load import load_spec
from synthetic.generate import generate
from transforms import calendar, panels, population, source_checks


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    store = tmp_path_factory.mktemp("population") / "sources"
    generate(3_000, 7, store)
    opened = open_sources(duckdb.connect(), store)
    return source_checks.clean_sources(opened, source_checks.find_defects(opened))


@pytest.mark.parametrize("path", sorted(SPECS_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_the_compiled_population_is_the_old_rules_persons(sources, path: Path):
    listed = pl.DataFrame({"insz": sources["register.persons"].pl()["insz"].head(40)})
    spec = load_spec(path)
    for delivered in (spec, spec.as_delivered(dt.date(2020, 6, 30))):
        old = panels.select_population(
            sources[panels.PERSONS],
            sources["nic.incapacity"],
            calendar.bounds(delivered.period),
            delivered.population.rule,
            calendar.bounds(delivered.population_window),
            sources[panels.OCCUPATIONS],
            delivered.population.employers,
            listed,
        )
        new = population.select(sources, delivered, listed)
        assert new.pl().sort("insz").equals(old.pl().sort("insz"))
        assert new.pl().height > 0
