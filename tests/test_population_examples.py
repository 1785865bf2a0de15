"""The example specs, whose populations the seeds do not have, run end to end on the test
store; their funnel is the population the release holds; a bad population is refused naming
its line."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
import yaml
from conftest import WORLD_AS_OF
from typer.testing import CliRunner

from flows.cli import app
from flows.extract.errors import AuthorisationError
from flows.extract.explain import explain_population
from flows.extract.export import onprem_build, sample_export
from flows.runtime.outcome import StepFailed
from flows.runtime.settings import SPECS_DIR, Paths
from flows.stores import audit_read
from flows.stores.keys import create_key
from flows.stores.sources import open_sources
from specs.load import SpecError, load_spec
from transforms import population, source_checks

EXAMPLES = SPECS_DIR / "examples"
DISABILITY = EXAMPLES / "disability-brussels.yaml"
UNEMPLOYMENT = EXAMPLES / "long-term-unemployment.yaml"
SAMPLE = 40


@pytest.fixture(scope="module")
def fresh(world, tmp_path_factory) -> Paths:
    root = tmp_path_factory.mktemp("examples")
    paths = Paths(data=root / "data", key_store=root / "keys")
    for path in (DISABILITY, UNEMPLOYMENT):
        create_key(paths.key_store, load_spec(path).project)
    return paths


def _population(world, path) -> pl.DataFrame:
    opened = open_sources(duckdb.connect(), world["store"])
    sources = source_checks.clean_sources(opened, source_checks.find_defects(opened))
    return population.select(sources, load_spec(path)).pl()


def test_the_examples_are_not_taken_for_deliberations_of_the_specs_folder():
    assert {p.name for p in SPECS_DIR.glob("*.yaml")}.isdisjoint(
        p.name for p in EXAMPLES.glob("*.yaml")
    )
    assert all(load_spec(p).population.where is not None for p in EXAMPLES.glob("*.yaml"))


def test_the_disability_example_releases_exactly_its_population(world, fresh):
    expected = _population(world, DISABILITY)
    assert expected.height > 0
    result = onprem_build(DISABILITY, WORLD_AS_OF, fresh, world["store"])
    assert result.manifest.persons == expected.height
    quarter = pl.read_parquet(result.folder / "quarter.parquet")
    assert quarter["person_id"].n_unique() == expected.height
    # everyone released received one of the allowances in some quarter of the period
    per_person = quarter.group_by("person_id").agg(
        (pl.col("disability_ordinary_allowance") == "Y").any()
        | (pl.col("disability_special_allowance") == "Y").any()
    )
    assert per_person.get_column(per_person.columns[1]).all()
    words = result.manifest.population
    assert "living in Brussels on 2015-12-31" in words["in_words"]
    assert words["description"] == load_spec(DISABILITY).population.description
    assert words["in_words"] in (result.folder / "codebook.md").read_text()


def test_the_unemployment_example_samples_from_its_population_only(world, fresh, tmp_path):
    document = yaml.safe_load(UNEMPLOYMENT.read_text())
    document["modes"]["sample"]["persons"] = SAMPLE
    spec = tmp_path / UNEMPLOYMENT.name
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    everyone = _population(world, UNEMPLOYMENT)
    assert everyone.height > SAMPLE
    result = sample_export(spec, WORLD_AS_OF, fresh, world["store"])
    month = pl.read_parquet(result.folder / "month.parquet")
    assert month["person_id"].n_unique() == SAMPLE
    # each person of the sample was paid unemployment benefit in some month of the period
    paid = month.group_by("person_id").agg((pl.col("benefit_days") >= 1).any().alias("paid"))
    assert paid["paid"].all()


def test_the_funnel_counts_what_the_release_holds_and_is_logged_without_identifiers(world, fresh):
    steps = explain_population(DISABILITY, WORLD_AS_OF, fresh, world["store"])
    expected = _population(world, DISABILITY)
    assert steps[0].condition == "alive in the period"
    assert steps[1].persons == expected.height  # the whole expression
    parts = [s for s in steps if s.depth == 2]
    assert [s.left for s in parts][-1] == expected.height
    assert all(s.persons >= (s.left or 0) for s in parts)
    entries = audit_read.read(fresh.audit_log)
    explained = [e for e in entries if e["event"] == "population_explained"]
    assert explained[-1]["funnel"][1]["persons"] == expected.height
    assert any(e["event"] == "request" and e["run"] == explained[-1]["run"] for e in entries)
    log = fresh.audit_log.read_text() if fresh.audit_log.path.is_file() else ""
    log += "".join(p.read_text() for p in fresh.audit_log.path.parent.glob("*") if p.is_file())
    store_insz = pl.read_parquet(world["store"] / "register" / "persons.parquet")["insz"]
    assert not any(insz in log for insz in store_insz.to_list())


def test_a_listed_population_has_no_funnel_and_the_refusal_is_logged(world, fresh):
    with pytest.raises(AuthorisationError, match="recipient lists"):
        explain_population(SPECS_DIR / "13-021.yaml", WORLD_AS_OF, fresh, world["store"])
    assert audit_read.read(fresh.audit_log)[-1]["event"] == "refusal"


def test_rex_spec_explain_prints_the_funnel(world, fresh, monkeypatch):
    monkeypatch.setenv("REX_DATA_DIR", str(fresh.data))
    monkeypatch.setenv("REX_KEY_STORE", str(fresh.key_store))
    result = CliRunner().invoke(
        app,
        [
            "spec",
            "explain",
            str(UNEMPLOYMENT),
            "--as-of",
            WORLD_AS_OF.isoformat(),
            "--sources",
            str(world["store"]),
        ],
    )
    assert result.exit_code == 0, result.output
    expected = _population(world, UNEMPLOYMENT).height
    lines = [line.split() for line in result.output.splitlines()]
    assert [f"{expected:,}", "all", "of", "these", "2", "conditions"] in lines
    assert "living in Wallonia on 2015-12-31" in result.output


def test_a_failed_funnel_is_logged_by_its_kind_only(world, fresh, monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("a message that could quote 12345678901")

    monkeypatch.setattr(population, "funnel", fails)
    with pytest.raises(StepFailed):
        explain_population(DISABILITY, WORLD_AS_OF, fresh, world["store"])
    last = audit_read.read(fresh.audit_log)[-1]
    assert (last["event"], last["reason"]) == ("failure", "ValueError")


@pytest.mark.parametrize(
    ("where", "line", "message"),
    [
        ("{variable: shoe_size, is: '42'}", 3, "unknown variable 'shoe_size'"),
        ("{variable: disability_ordinary_allowance, is: 'X'}", 3, "not in the code list"),
        ("{variable: disability_ordinary_allowance, is: 'Y', at: 2015-12}", 3, "quarter variable"),
        ("{variable: benefit_days, is: 'Y'}", 3, "test it with 'between'"),
        ("{region: {at: 2015-12-31, is: ghent}}", 3, "'brussels', 'flanders' or 'wallonia'"),
    ],
)
def test_a_bad_condition_is_refused_naming_the_spec_line(tmp_path, where, line, message):
    text = DISABILITY.read_text()
    start = text.index("  where:\n")
    end = text.index("variables:\n")
    replaced = text[:start] + "  where:\n    all_of:\n      - " + where + "\n" + text[end:]
    path = tmp_path / "bad.yaml"
    path.write_text(replaced)
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    said = str(raised.value)
    assert message in said
    expected_line = replaced[:start].count("\n") + line
    assert f"(line {expected_line})" in said
