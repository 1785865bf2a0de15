"""Empty and cut-short source tables, and releases of nobody, are refused, not published."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import polars as pl
import pytest

from flows.extract import build
from flows.extract.authorise import release_folder
from flows.extract.export import onprem_build, sample_export
from flows.extract.source_volume import needed_tables, refuse_empty_population, refuse_thin_sources
from flows.runtime.settings import SPECS_DIR, Paths
from flows.stores import audit_read
from flows.stores.sources import SourceError, open_sources
from specs.load import load_spec
from specs.modes import ModeName
from specs.sources import SOURCE_TABLES, polars_schema
from transforms.sample import PopulationTooSmall

AS_OF = dt.date(2020, 6, 30)


@pytest.fixture
def fresh(world, tmp_path) -> Paths:
    return Paths(data=tmp_path / "data", key_store=world["paths"].key_store)


@pytest.fixture
def world_sources(world):
    return open_sources(duckdb.connect(), world["store"])


def test_a_spec_needs_the_tables_of_its_population_and_of_its_variables():
    barometer = needed_tables(load_spec(SPECS_DIR / "18-088.yaml"))
    vsawse = needed_tables(load_spec(SPECS_DIR / "13-021.yaml"))
    assert {"register.persons", "nic.incapacity", "dmfa.occupations", "sigedis.career"} <= set(
        barometer
    )
    assert "rva.activation_allowances" in vsawse and "sigedis.career" not in vsawse
    assert "rva.activation_allowances" not in barometer


def test_the_world_store_holds_every_needed_table_above_its_floor(world, world_sources):
    for name in ("18-088.yaml", "19-104.yaml", "13-021.yaml"):
        refuse_thin_sources(world_sources, world["store"], load_spec(SPECS_DIR / name))


def test_a_needed_table_with_no_rows_is_refused_naming_its_file(world, world_sources):
    spec = load_spec(SPECS_DIR / "18-088.yaml")
    emptied = {**world_sources, "sigedis.career": world_sources["sigedis.career"].limit(0)}
    with pytest.raises(SourceError, match="holds no rows") as refused:
        refuse_thin_sources(emptied, world["store"], spec)
    assert str(world["store"] / "sigedis" / "career.parquet") in str(refused.value)


def test_a_needed_table_far_below_its_neighbours_is_refused_as_cut_short(world, world_sources):
    spec = load_spec(SPECS_DIR / "19-104.yaml")
    cut = {**world_sources, "dmfa.occupations": world_sources["dmfa.occupations"].limit(100)}
    with pytest.raises(SourceError, match="taken for a delivery cut short") as refused:
        refuse_thin_sources(cut, world["store"], spec)
    assert str(world["store"] / "dmfa" / "occupations.parquet") in str(refused.value)


def test_a_table_the_spec_does_not_need_may_be_empty(world, world_sources):
    spec = load_spec(SPECS_DIR / "18-088.yaml")
    emptied = {
        **world_sources,
        "rva.activation_allowances": world_sources["rva.activation_allowances"].limit(0),
    }
    refuse_thin_sources(emptied, world["store"], spec)


def _emptied_store(world, tmp_path, key: str):
    store = tmp_path / "sources"
    shutil.copytree(world["store"], store)
    table = SOURCE_TABLES[key]
    pl.DataFrame([], schema=polars_schema(table)).write_parquet(store / table.relative_path)
    return store


@pytest.mark.parametrize("key", ["register.persons", "dmfa.occupations"])
def test_an_export_from_an_empty_needed_table_is_refused_logged_and_publishes_nothing(
    world, fresh, tmp_path, key
):
    store = _emptied_store(world, tmp_path, key)
    with pytest.raises(SourceError, match="holds no rows") as refused:
        onprem_build(world["spec"], AS_OF, fresh, store)
    path = store / SOURCE_TABLES[key].relative_path
    assert f"source file {path} holds no rows" in str(refused.value)
    spec = load_spec(world["spec"])
    assert not release_folder(fresh, spec, ModeName.ONPREM, AS_OF).exists()
    assert [e["event"] for e in audit_read.read(fresh.audit_log)] == ["request", "refusal"]


def test_a_release_of_nobody_is_refused_and_publishes_nothing(world, fresh, monkeypatch):
    # a population rule that finds nobody, with every source table as it should be
    nobody = pl.DataFrame({"insz": []}, schema={"insz": pl.String})
    monkeypatch.setattr(build, "select_population_task", lambda *args, **kwargs: nobody)
    with pytest.raises(PopulationTooSmall, match="a release of 0 persons is not published"):
        onprem_build(world["spec"], AS_OF, fresh, world["store"])
    spec = load_spec(world["spec"])
    assert not release_folder(fresh, spec, ModeName.ONPREM, AS_OF).exists()
    (refusal,) = (e for e in audit_read.read(fresh.audit_log) if e["event"] == "refusal")
    assert "0 persons" in refusal["reason"]


def test_the_empty_population_rule_lets_one_person_through():
    spec = load_spec(SPECS_DIR / "18-088.yaml")
    refuse_empty_population(pl.DataFrame({"insz": ["x"]}), spec)
    with pytest.raises(PopulationTooSmall):
        refuse_empty_population(pl.DataFrame({"insz": []}, schema={"insz": pl.String}), spec)


def test_a_sample_export_from_an_empty_register_is_refused(world, fresh, tmp_path):
    store = _emptied_store(world, tmp_path, "register.persons")
    with pytest.raises(SourceError, match="register/persons.parquet holds no rows"):
        sample_export(world["spec"], AS_OF, fresh, store)
