"""Both parts of 18/088 run end to end on a generated population: every variable the spec
names is built from the synthetic sources, released with its protection, and documented."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
import yaml

from flows.extract.export import sample_export
from flows.runtime.settings import SPECS_DIR, Paths
from flows.stores.keys import create_key
from specs.catalog import VARIABLES, Kind
from specs.load import load_spec
from synthetic.generate import generate

# Enough persons that the rarest combination is there: a second supplementary position (three
# statuses on one day) holds for about 1 person in 1,000, so 2,000 persons could miss it.
PERSONS = 5_000
SAMPLE = 150
AS_OF = dt.date(2020, 6, 30)


@pytest.fixture(scope="module")
def part_one(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("part1")
    store = root / "sources"
    generate(PERSONS, 5, store)
    document = yaml.safe_load((SPECS_DIR / "18-088-part1.yaml").read_text())
    document["modes"]["sample"]["persons"] = SAMPLE
    spec = root / "part1.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, document["project"])
    return load_spec(spec), sample_export(spec, AS_OF, paths, store), store


def test_part_one_releases_the_point_6_variables_per_quarter_with_classes(part_one):
    spec, result, _ = part_one
    quarter = pl.read_parquet(result.folder / "quarter.parquet")
    jobs = pl.read_parquet(result.folder / "quarter_job.parquet")
    assert set(quarter.columns) | set(jobs.columns) == {
        "person_id",
        "quarter",
        "job",
        *spec.variables.all(),
    }
    assert quarter["person_id"].n_unique() == SAMPLE
    for frame in (quarter, jobs):
        for name in frame.columns:
            if name in VARIABLES and VARIABLES[name].kind is Kind.AMOUNT:
                labels = frame[name].drop_nulls()
                assert labels.str.contains(r"^(<|\[|>=)").all(), name


def test_part_one_codebook_documents_every_released_column(part_one):
    spec, result, _ = part_one
    book = json.loads((result.folder / "codebook.json").read_text())
    documented = {c["name"] for panel in book.values() for c in panel["columns"]}
    assert set(spec.variables.all()) <= documented
    entries = [c for panel in book.values() for c in panel["columns"] if c["name"] in VARIABLES]
    assert all(c["deliberation_name"] and c["source"] for c in entries)


def _spec_sources_population(store):
    """18/088, the store's sources (as read), and 18/088's population in them."""
    import duckdb

    from flows.stores.sources import open_sources
    from transforms import calendar
    from transforms import population as population_query

    spec = load_spec(SPECS_DIR / "18-088.yaml")
    sources = open_sources(duckdb.connect(), store)
    population = population_query.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(spec.period),
        spec.population.rule,
    )
    return spec, sources, population


def test_every_point_8_variable_has_values_in_the_generated_sources(part_one):
    """Not one column of part two's release is empty throughout: each is really built."""

    from specs.catalog import PANELS
    from transforms import panels

    spec, sources, population = _spec_sources_population(part_one[2])
    names = {name: spec.variables_of_panel(name) for name in PANELS}
    built = panels.build_panels(population, spec.period, sources, names)
    empty = [
        name
        for panel, frame in built.items()
        for name in names[panel]
        if frame[name].null_count() == frame.height
    ]
    assert empty == []


def test_every_panel_builds_the_same_from_only_the_source_columns_a_run_keeps(part_one):
    """A run materialises of each table without validity dates only the columns the panels
    read (panel_reads.source_columns): every variable of the catalog, in every panel, is built
    from those alone, to the same values as from the whole tables."""
    from duckdb import ColumnExpression

    from specs.catalog import PANELS
    from transforms import panel_reads, panels

    spec, sources, population = _spec_sources_population(part_one[2])
    population = population.order("insz").limit(400)
    every = {panel: tuple(n for n, v in VARIABLES.items() if v.panel == panel) for panel in PANELS}
    # 18/088 reads fewer than half of the 105 columns of the occupation lines
    asked = {name: spec.variables_of_panel(name) for name in PANELS}
    assert len(panel_reads.source_columns(asked)["dmfa.occupations"]) < 50
    for panel, names in every.items():
        kept = panel_reads.source_columns({panel: names})  # each panel alone: what it needs itself
        pruned = {
            key: sources[key].select(*(ColumnExpression(c) for c in columns))
            for key, columns in kept.items()
        }
        # the built rows come in no order: the release sorts them by the panel's keys
        keys = ["insz", *PANELS[panel].keys[1:]]
        whole = panels.build_panels(population, spec.period, sources, {panel: names})[panel]
        alone = panels.build_panels(population, spec.period, pruned, {panel: names})[panel]
        assert alone.height > 0, panel
        assert alone.sort(keys).equals(whole.sort(keys)), panel
