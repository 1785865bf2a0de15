"""The sample export measures its disclosure risk against the whole population, and a spec's
threshold refuses a release above it."""

from __future__ import annotations

import yaml

from flows.extract.export import sample_export
from flows.runtime.settings import Paths
from flows.stores import audit_read
from tests.conftest import WORLD_AS_OF, WORLD_PERSONS, WORLD_SAMPLE
from transforms.disclosure_risk import DisclosureRiskTooHigh

BANDS = ["1", "2", "3-4", "5-9", "10+"]


def test_sample_manifest_has_the_disclosure_risk_counts(world):
    figures = world["sample"].manifest.disclosure_risk
    assert figures["sample_persons"] == WORLD_SAMPLE
    assert WORLD_SAMPLE < figures["population_persons"] <= WORLD_PERSONS
    assert "birth_date" in figures["quasi_identifiers"]
    # scrambled nationalities are not the persons' own: they link nobody
    assert "nationality" not in figures["quasi_identifiers"]
    assert "nationality" in figures["scrambled_not_counted"]
    assert list(figures["k_bands"]) == BANDS
    assert sum(figures["k_bands"].values()) == WORLD_SAMPLE
    assert figures["k_bands"]["1"] == figures["unique_in_population"]
    assert figures["unique_in_population"] <= figures["unique_in_sample"]
    assert figures["unique_share"] == figures["unique_in_population"] / WORLD_SAMPLE
    assert figures["l_diversity"]["medical_code"]["min"] >= 1
    for span in ("year", "period"):
        assert 0 <= figures["trajectories"][span]["unique"] <= WORLD_SAMPLE
    assert figures["max_unique_share"] is None


def test_onprem_manifest_says_it_has_no_risk_figures(world):
    figures = world["onprem"].manifest.disclosure_risk
    assert figures["measured"] is False
    assert "stays inside" in figures["reason"]


def test_unique_share_above_the_spec_threshold_refuses_the_release(world, tmp_path):
    document = yaml.safe_load(world["spec"].read_text())
    document["modes"]["sample"]["disclosure_risk"] = {"max_unique_share": 0.0}
    spec = tmp_path / world["spec"].name
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    shares = world["sample"].manifest.disclosure_risk["unique_share"]
    assert shares > 0, "the test world has no unique persons to refuse"
    try:
        sample_export(spec, WORLD_AS_OF, paths, world["store"])
    except DisclosureRiskTooHigh as error:
        assert "the release is refused" in str(error)
    else:
        raise AssertionError("the release was not refused")
    entry = audit_read.read(paths.audit_log)[-1]
    assert entry["event"] == "refusal" and "unique in the population" in entry["reason"]
    assert not paths.releases.exists() or not any(paths.releases.rglob("*"))


def test_the_figures_are_the_same_whatever_the_chunks_of_persons(world):
    """The risk is counted a slice of persons at a time: one chunk of every person, or the
    persons cut into three chunks taken in any order, give the same figures."""
    import duckdb
    import polars as pl

    from flows.extract import disclosure
    from flows.extract.authorise import delivered_spec
    from flows.stores.sources import open_sources
    from specs.load import load_spec
    from specs.modes import ModeName
    from transforms import population as population_query
    from transforms import source_checks
    from transforms.sample import draw_sample

    spec = delivered_spec(load_spec(world["spec"]), WORLD_AS_OF)
    mode = spec.modes[ModeName.SAMPLE]
    con = duckdb.connect()
    opened = open_sources(con, world["store"])
    sources = source_checks.clean_sources(opened, source_checks.find_defects(opened))
    population = population_query.select(sources, spec).pl().sort("insz")
    sample = draw_sample(population, bytes(range(32)), WORLD_SAMPLE)
    tables = disclosure.source_columns(spec, mode)
    whole = disclosure.measure(con, [sources], spec, mode, population, sample)

    cut = population.select("insz").with_row_index().with_columns(pl.col("index") % 3)
    chunks = []
    for number in (2, 0, 1):
        persons = con.from_arrow(cut.filter(pl.col("index") == number).select("insz").to_arrow())
        chunks.append({key: sources[key].join(persons, "insz", how="semi") for key in tables})
    assert disclosure.measure(con, chunks, spec, mode, population, sample) == whole
    assert whole["sample_persons"] == WORLD_SAMPLE
