"""The disclosure risk of a sample release, measured on the whole population of its spec.

The sample export builds its panels for the sample's persons only; the risk needs the
population's values of a few columns. So they are built here, narrow, for every person of the
population (by the panel builders of transforms.panels, on the cleaned sources): the quarter
panel's quasi-identifiers and sensitive columns on each person's last quarter (the row the
figures read), and the month panel's positions alone (`panels.month_positions`); then
protected as the release protects them and counted (transforms.disclosure_risk). The figures
are counts; no person or value leaves this step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from specs.catalog import VARIABLES
from specs.model import Spec
from specs.modes import Mode, ModeKind, ModeName
from specs.values import Period
from transforms import calendar, panel_reads, panels
from transforms import disclosure_risk as risk
from transforms.relations import selected

# What the manifest says where a mode has no figures.
NOT_MEASURED = {
    ModeName.ONPREM: "the on-premise build stays inside; only results that pass the output "
    "checks leave it",
    ModeName.CONTROL: "identified data for control purposes: persons are named, not sampled",
}

# The persons outside the sample are measured in slices this many times a release's: each is
# reduced to a row per person at once, and a slice's queries cost about as much to plan for
# more persons (a 100,000-person sample's risk step took 5 s instead of 8 s with 4).
OUTSIDE_SLICE_SCALE = 4


def not_measured(mode_name: ModeName) -> dict[str, Any]:
    """What the manifest of a release without figures says, and why."""
    return {"measured": False, "reason": NOT_MEASURED.get(mode_name, "no sample in this mode")}


def applies(mode: Mode) -> bool:
    """Risk is measured for a pseudonymised sample (a subset of the population that leaves)."""
    return mode.kind is ModeKind.SAMPLE


def measured_panels(spec: Spec, mode: Mode) -> dict[str, tuple[str, ...]]:
    """The narrow panels the figures are counted on: the quarter panel's quasi-identifiers and
    sensitive columns, and the month panel's trajectory variable."""
    columns = risk.quasi_identifiers(spec, mode) + risk.sensitive_columns(spec, mode)
    # a spec that releases none of them is one class: the figures say so (k = the population)
    names: dict[str, tuple[str, ...]] = {"quarter": tuple(dict.fromkeys(columns))}
    trajectory = risk.trajectory_variable(spec)
    if trajectory is not None:
        names["month"] = (trajectory,)
    return names


def source_columns(spec: Spec, mode: Mode) -> dict[str, tuple[str, ...]]:
    """The source tables the figures read, with the columns read of each: those of the narrow
    quarter panel, and those the month panel's positions read (panels.month_positions)."""
    names = measured_panels(spec, mode)
    tables = panel_reads.source_tables({"quarter": names["quarter"]})
    if "month" in names:
        tables |= set(panels.POSITION_SOURCES)
    return {key: kept for key, kept in panel_reads.source_columns(names).items() if key in tables}


def last_quarter_rows(
    population: duckdb.DuckDBPyRelation,
    period: Period,
    sources: Mapping[str, duckdb.DuckDBPyRelation],
    requested: Sequence[str],
) -> pl.DataFrame:
    """The quarter panel's rows that hold each person's last row (the one the figures read,
    risk.as_released): the period's last quarter for the persons alive at its start, every
    quarter for those who died before it; a tenth of the panel's rows or so."""
    quarters = calendar.quarters(period)
    last = quarters.tail(1)
    death = duckdb.ColumnExpression("death_date")
    alive = death.isnull() | (death >= duckdb.ConstantExpression(last["quarter_start"][0]))
    variables = [VARIABLES[name] for name in requested]
    return pl.concat(
        [
            panels.quarter_rows(population.filter(alive), last, sources, variables),
            panels.quarter_rows(population.filter(~alive), quarters, sources, variables),
        ]
    )


def measure(
    con: duckdb.DuckDBPyConnection,
    chunks: Iterable[dict[str, duckdb.DuckDBPyRelation]],
    spec: Spec,
    mode: Mode,
    population: pl.DataFrame,
    sample: pl.DataFrame,
) -> dict[str, Any]:
    """The release's disclosure-risk figures (see transforms.disclosure_risk).

    The sources come in `chunks` of persons (the slices of the run's database, each holding
    its persons' rows only; every person of the population in one of them): the narrow
    panels are built a chunk at a time and each chunk is reduced at once to one row per
    person (their released quasi-identifiers, their trajectories as digests), so memory
    follows the chunk and not the population. The figures are counts over those rows."""
    columns = risk.quasi_identifiers(spec, mode)
    sensitive = risk.sensitive_columns(spec, mode)
    trajectory = risk.trajectory_variable(spec)
    names = measured_panels(spec, mode)
    flags = population.select("insz").with_columns(
        pl.col("insz").is_in(sample["insz"].implode()).alias(risk.IN_SAMPLE)
    )
    last_year = spec.period.until[:4]
    months = calendar.months(spec.period)
    everyone = con.from_arrow(population.select("insz", "birth_date", "death_date").to_arrow())
    released: list[pl.DataFrame] = []
    sequences: dict[str, list[pl.DataFrame]] = {"year": [], "period": []}
    for chunk in chunks:
        persons = chunk[panels.PERSONS]  # noqa: F841 - read by name below
        chunk_population = selected(
            everyone.query("everyone", "select * from everyone semi join persons using (insz)")
        )
        if names["quarter"]:
            rows = last_quarter_rows(chunk_population, spec.period, chunk, names["quarter"])
            released.append(
                risk.as_released(
                    rows, list(names["quarter"]), "insz", "quarter", mode, spec.classes
                )
            )
            del rows
        if trajectory is not None:
            monthly = panels.month_positions(
                chunk_population, months, *(chunk[k] for k in panels.POSITION_SOURCES)
            ).pl()
            for span, spanned in (
                ("year", monthly.filter(pl.col("month").str.starts_with(last_year))),
                ("period", monthly),
            ):
                sequences[span].append(
                    risk.digested(risk.trajectories(spanned, "insz", "month", trajectory, flags))
                )
            del monthly
    measured = flags
    if released:
        measured = pl.concat(released).join(flags, on="insz", how="right")
    figures = risk.risk_figures(measured, columns, sensitive)
    settings = risk.settings(mode)
    figures["max_unique_share"] = settings.max_unique_share
    figures["scrambled_not_counted"] = [
        name
        for name in settings.quasi_identifiers or risk.QUASI_IDENTIFIERS
        if name in spec.variables_of_panel("quarter") and name not in columns
    ]
    if trajectory is not None:
        figures["trajectories"] = {
            "variable": trajectory,
            "year": {
                "year": last_year,
                **risk.trajectory_uniqueness(pl.concat(sequences["year"])),
            },
            "period": risk.trajectory_uniqueness(pl.concat(sequences["period"])),
        }
    return figures
