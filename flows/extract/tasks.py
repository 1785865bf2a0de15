"""The Prefect tasks of an extract run, and where they run (this machine's threads or a Dask
cluster)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.extract import disclosure, slices
from flows.runtime.outcome import P, R, withheld
from flows.runtime.settings import DEFAULT_PARALLEL_SLICES, Engine
from specs import sources as declared_sources
from specs.catalog import Granularity
from specs.model import Spec
from specs.modes import Mode
from transforms import calendar, source_checks
from transforms import population as population_query
from transforms.employers import employer_lines
from transforms.pseudonymise import (
    PERSON,
    pseudonym_map,
)
from transforms.sample import draw_sample


def period_values(spec: Spec) -> dict[Granularity, list]:
    return {
        Granularity.MONTH: calendar.months(spec.period)["month"].to_list(),
        Granularity.QUARTER: calendar.quarters(spec.period)["quarter"].to_list(),
        Granularity.YEAR: calendar.years(spec.period)["year"].to_list(),
    }


@task(cache_policy=NO_CACHE)
@withheld
def check_sources_task(
    sources: dict[str, duckdb.DuckDBPyRelation],
) -> tuple[dict[str, duckdb.DuckDBPyRelation], list[source_checks.Finding]]:
    return source_checks.checked_sources(sources)


@task(cache_policy=NO_CACHE, retries=0)
@withheld
def select_population_task(
    sources: dict[str, duckdb.DuckDBPyRelation], spec: Spec, listed: pl.DataFrame | None = None
) -> pl.DataFrame:
    return population_query.select(sources, spec, listed).pl().sort("insz")


@task(cache_policy=NO_CACHE)
@withheld
def draw_sample_task(population: pl.DataFrame, key: bytes, persons: int) -> pl.DataFrame:
    return draw_sample(population, key, persons)


# The sample's disclosure-risk figures against the whole population (counts only).
disclosure_risk_task = task(name="disclosure_risk", cache_policy=NO_CACHE)(
    withheld(disclosure.measure)
)


@task(cache_policy=NO_CACHE)
@withheld
def person_ids_task(population: pl.DataFrame, mode: Mode, key: bytes) -> pl.DataFrame:
    """Each person of the extract (insz) with the id the release gives them (person_id: the
    pseudonym, or the INSZ in an identified release); refuses two persons with one pseudonym."""
    persons = pseudonym_map(population["insz"], key, PERSON)
    if mode.identified:
        return persons.select(insz="id", person_id="id")
    return persons.select(insz="id", person_id="pseudonym")


@task(cache_policy=NO_CACHE)
@withheld
def materialise_task(
    con: duckdb.DuckDBPyConnection,
    sources: dict[str, duckdb.DuckDBPyRelation],
    spec: Spec,
    columns: dict[str, tuple[str, ...]],
    assignment: pl.DataFrame,
) -> None:
    """The cleaned sources of the extract's persons, once, in the run's database: of each
    table, the columns the panels read (panel_reads.source_columns)."""
    employers = spec.population.employer_lines_only
    if employers is not None:
        lines = employer_lines(sources[declared_sources.OCCUPATIONS.key], employers)
        sources = {**sources, declared_sources.OCCUPATIONS.key: lines}
    slices.materialise(con, sources, columns, assignment)


@task(cache_policy=NO_CACHE)
@withheld
def own_pairs_task(job: slices.SliceJob, key: bytes) -> dict[str, pl.DataFrame]:
    return slices.slice_own_pairs(job, key)


@task(cache_policy=NO_CACHE)
@withheld
def extract_slice_task(job: slices.SliceJob, key: bytes) -> slices.SliceResult:
    return slices.extract_slice(job, key)


def task_runner(engine: Engine) -> TaskRunner[Any]:
    """Where the slices' tasks run: this machine's threads, or the Dask cluster named."""
    if engine.cluster is None:
        return ThreadPoolTaskRunner(max_workers=slices_in_flight(engine))
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=engine.cluster)


def with_engine(extract: Flow[P, R], engine: Engine) -> Flow[P, R]:
    """The extract flow with its slices run as `engine` says (pass the engine to it too)."""
    return extract.with_options(task_runner=task_runner(engine))


def slices_in_flight(engine: Engine) -> int:
    """Slices built at once: the engine's number, or one per two cores here, or two per
    worker thread of the cluster (so that none waits while the client writes)."""
    if engine.parallel is not None:
        return engine.parallel
    if engine.cluster is None:
        return DEFAULT_PARALLEL_SLICES
    from distributed import Client

    with Client(engine.cluster, timeout=30) as client:
        return 2 * max(1, sum(client.nthreads().values()))
