"""Empty or cut-short sources, and empty releases, are refused rather than published.

A spec needs the source tables its population rule and its variables read (the catalog says
where each variable comes from; a panel's own SQL reads the tables transforms.panels names).
Each needed table must hold rows, and at least its declared `min_rows_per_person` per person of
the register (specs.sources): an empty DMFA table would otherwise give a release without job
lines that passes validation, and an empty register a release of nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from flows.stores.sources import SourceError
from specs.catalog import VARIABLES, FromSource
from specs.model import Spec
from specs.sources import SOURCE_TABLES
from transforms import panels
from transforms import population as population_query
from transforms.sample import PopulationTooSmall

# The tables each panel's own SQL reads, whatever variables it is asked for.
_PANEL_SOURCES: Mapping[str, tuple[str, ...]] = {
    "month": panels.MONTH_SOURCES,
    "quarter": panels.QUARTER_SOURCES,
    "quarter_job": (panels.OCCUPATIONS,),
    "a052": (panels.MESSAGES,),
    "year": (panels.CAREER,),
}


def needed_tables(spec: Spec) -> list[str]:
    """The source tables (keys '<institution>.<table>') a run of the spec reads, in the order
    of the source declarations."""
    needed = {panels.PERSONS, *population_query.source_tables(spec.population.condition)}
    for name in spec.variables.all():
        variable = VARIABLES[name]
        needed.update(_PANEL_SOURCES[variable.panel])
        if isinstance(variable.origin, FromSource):
            needed.add(variable.origin.table)
    return [key for key in SOURCE_TABLES if key in needed]


def refuse_thin_sources(
    sources: Mapping[str, duckdb.DuckDBPyRelation], store: Path, spec: Spec
) -> None:
    """SourceError naming the first needed table that is empty or holds fewer rows than its
    declared floor per person of the register."""
    counts = {key: sources[key].count("*").fetchall()[0][0] for key in needed_tables(spec)}
    persons = counts[panels.PERSONS]
    for key, rows in counts.items():
        table = SOURCE_TABLES[key]
        path = store / table.relative_path
        if rows == 0:
            raise SourceError(
                f"source file {path} holds no rows, and deliberation {spec.deliberation} needs "
                f"it ({table.description}): an empty table is taken for a failed delivery"
            )
        floor = table.min_rows_per_person * persons
        if rows < floor:
            raise SourceError(
                f"source file {path} holds {rows:,} rows for {persons:,} persons in the "
                f"register, fewer than the {table.min_rows_per_person:g} per person a complete "
                f"delivery holds at least ({table.description}): it is taken for a delivery cut "
                "short"
            )


def refuse_empty_population(population: pl.DataFrame, spec: Spec) -> None:
    """A release of nobody is refused: it would pass validation and say nothing."""
    if population.height == 0:
        raise PopulationTooSmall(
            f"the population of deliberation {spec.deliberation} "
            f"({spec.population_in_words()}) finds no person in the sources: a release of 0 "
            "persons is not published"
        )
