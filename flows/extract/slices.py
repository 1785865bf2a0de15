"""An extract built a slice of persons at a time.

The global steps (the population, the sample, the pseudonym map, the nationality permutation,
the person-set digest) run once, on frames of one row per person. The persons are then cut into
slices in the order of the release (by pseudonym, or by INSZ in an identified release), and every
slice is built, protected and validated on its own (`extract_slice`): no step mixes persons of
two slices (invariant 4), so the slices written in order are the release sorted as it must be.

The cleaned sources are materialised once per run in a DuckDB database of the run's own (in its
work folder), restricted to the persons of the extract and ordered by slice, so that a slice's
queries read that slice's rows and nothing else. DuckDB runs with a memory limit and spills to
the work folder beyond it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
from duckdb import ColumnExpression, ConstantExpression
from duckdb import DuckDBPyRelation as Relation

from flows.release.parquet_writer import RowGroupWriter
from flows.runtime.settings import Engine
from specs.catalog import PANELS, VARIABLES, Kind
from specs.derivation import DerivedProtection
from specs.model import Spec
from specs.modes import Mode
from transforms import derivation_audit, panels
from transforms.protect import PERSON_ID, keyed_as_released, protected_rows, release_order
from transforms.pseudonymise import PERSON, pseudonym_map
from transforms.relations import identifier
from transforms.relations import selected as selected_rows
from transforms.requested import within_requested_periods
from transforms.scramble import own_pairs
from transforms.summaries import partial_sums

SLICE = "slice"
DATABASE = "run.duckdb"
SPILL = "spill"


def connect(database: Path, engine: Engine, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The run's database, with the run's memory limit and its spill folder beside it."""
    spill = database.parent / SPILL
    spill.mkdir(exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": engine.memory_limit,
        "temp_directory": str(spill),
    }
    return duckdb.connect(str(database), read_only=read_only, config=config)


def assign_slices(persons: pl.DataFrame, slice_persons: int) -> pl.DataFrame:
    """Each person (insz, person_id: the id the release sorts by) with their slice: the persons
    in release order, `slice_persons` at a time."""
    return (
        persons.select("insz", PERSON_ID)
        .sort(PERSON_ID)
        .with_row_index("position")
        .with_columns((pl.col("position") // slice_persons).cast(pl.Int32).alias(SLICE))
        .drop("position")
    )


# The slices of the persons whose rows are materialised but who are in no slice of the release
# (the population outside a sample, whose rows only the disclosure-risk step reads) are
# numbered from OUTSIDE down: -1, -2, ...
OUTSIDE = -1


def with_outsiders(
    assignment: pl.DataFrame, everyone: pl.DataFrame, slice_persons: int
) -> pl.DataFrame:
    """The slices of the release's persons, and every other person of `everyone` in slices
    of `slice_persons` numbered from OUTSIDE down."""
    others = everyone.select("insz").join(assignment, on="insz", how="anti").sort("insz")
    return pl.concat(
        [
            assignment.select("insz", SLICE),
            others.with_row_index("position").select(
                "insz",
                (OUTSIDE - pl.col("position") // slice_persons).cast(pl.Int32).alias(SLICE),
            ),
        ]
    )


def each_slice_sources(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], assignment: pl.DataFrame
) -> list[dict[str, Relation]]:
    """The materialised rows of `tables`, per slice of `assignment` (the release's and the
    outsiders'), in the slices' order: relations, read only when a step reads them."""
    return [slice_sources(con, tables, number) for number in assignment[SLICE].unique().sort()]


def _kept_columns(table: Relation) -> Relation:
    """A materialised table's source columns (those `materialise` kept), without the slice."""
    return table.select(*(ColumnExpression(c) for c in table.columns if c != SLICE))


def slice_count(persons: int, slice_persons: int) -> int:
    """How many slices the persons make; an extract of nobody still has one (empty) slice."""
    return max(1, math.ceil(persons / slice_persons))


def _table_name(key: str) -> str:
    """The run database's name of a source table (keys are code: 'institution.table')."""
    institution, table = key.split(".")
    return identifier(institution) + "__" + identifier(table)


def materialise(
    con: duckdb.DuckDBPyConnection,
    cleaned: Mapping[str, Relation],
    columns: Mapping[str, Sequence[str]],
    slices: pl.DataFrame,
) -> None:
    """Write the cleaned rows of the extract's persons of every source table the panels read
    (the keys of `columns`, with the columns the panels read of each: panel_reads.source_columns)
    into the run's database, each with its person's slice and ordered by it."""
    con.register("slices__", slices.select("insz", SLICE).to_arrow())
    try:
        for key, kept in columns.items():
            # names from the source schemas only (panel_reads.source_columns keeps those)
            selected = ", ".join(f"c.{identifier(c)}" for c in kept)
            query = f"""
                select s.{SLICE}, {selected}
                from c join slices__ s on s.insz = c.insz
                order by s.{SLICE}, c.insz
            """
            selected_rows(cleaned[key].query("c", query)).create(_table_name(key))
    finally:
        con.unregister("slices__")


def slice_sources(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], number: int
) -> dict[str, Relation]:
    """The rows of one slice of every materialised source table, with the columns kept."""
    return {
        key: _kept_columns(
            con.table(_table_name(key)).filter(
                ColumnExpression(SLICE) == ConstantExpression(number)
            )
        )
        for key in tables
    }


@dataclass(frozen=True)
class SliceJob:
    """What the task of one slice needs, the project key apart (it is passed on its own)."""

    database: Path
    engine: Engine
    spec: Spec
    mode: Mode
    # how the variables derived from protected values are protected (the run plan's)
    derived: Mapping[str, DerivedProtection]
    number: int
    tables: tuple[str, ...]
    names: Mapping[str, tuple[str, ...]]  # the variables of each panel
    listed: pl.DataFrame | None = None  # the listed persons of the slice, with their months
    scrambled: Mapping[str, pl.DataFrame] | None = None  # pairs received, per panel


@dataclass(frozen=True)
class SliceResult:
    """One slice of the release, and what the global steps need of it."""

    number: int
    tables: dict[str, pa.Table]  # the protected panels, sorted
    rows: dict[str, int]
    distinct: dict[str, int]  # distinct persons per panel
    pseudonyms: pl.Series  # of the persons with rows in any panel
    partials: dict[str, pl.DataFrame]  # per summary, its partial sums
    # per attack of the derivation audit (derivation_audit.attacks), its (rows, recomputed)
    derivations: list[tuple[int, int]] = field(default_factory=list)


def exact_panels(
    job: SliceJob, names: Mapping[str, Sequence[str]] | None = None
) -> Generator[tuple[str, pl.DataFrame]]:
    """The slice's persons (insz), then each exact panel of the slice, one at a time (for
    listed persons, of the months asked about): a caller that is done with a panel before it
    asks for the next holds one panel's rows at a time, not the slice's."""
    con = connect(job.database, job.engine, read_only=True)
    try:
        sources = slice_sources(con, job.tables, job.number)
        population = sources[panels.PERSONS].select("insz", "birth_date", "death_date")
        yield panels.PERSONS, population.select("insz").pl()
        for name, requested in (names or job.names).items():
            if requested:
                # no local name holds the panel while the caller has it: a suspended generator
                # would keep it alive through the building of the next one
                yield name, _exact_panel(job, population, sources, name, requested)
    finally:
        con.close()


def _exact_panel(
    job: SliceJob,
    population: Relation,
    sources: Mapping[str, Relation],
    name: str,
    requested: Sequence[str],
) -> pl.DataFrame:
    frame = panels.build_panel(population, job.spec.period, sources, name, requested)
    if job.listed is not None:
        frame = within_requested_periods(frame, name, job.listed)
    return frame


def build_slice(
    job: SliceJob, names: Mapping[str, Sequence[str]] | None = None
) -> dict[str, pl.DataFrame]:
    """The exact panels of one slice (and, for listed persons, of the months asked about)."""
    built = dict(exact_panels(job, names))
    del built[panels.PERSONS]
    return built


def nationality_columns(spec: Spec, panel: str) -> list[str]:
    return [n for n in spec.variables_of_panel(panel) if VARIABLES[n].kind is Kind.NATIONALITY]


def slice_own_pairs(job: SliceJob, key: bytes) -> dict[str, pl.DataFrame]:
    """Per panel with nationality columns, each person's own pair (for the permutation)."""
    wanted = {
        name: tuple(nationality_columns(job.spec, name))
        for name in job.names
        if nationality_columns(job.spec, name)
    }
    built = build_slice(job, wanted)
    found: dict[str, pl.DataFrame] = {}
    for name, frame in built.items():
        persons = pseudonym_map(frame["insz"], key, PERSON)
        ids = keyed_as_released(frame, job.mode, persons)
        found[name] = own_pairs(ids, wanted[name], PERSON_ID, PANELS[name].keys[1])
    return found


def extract_slice(job: SliceJob, key: bytes) -> SliceResult:
    """Build and protect one slice of persons, a panel at a time: each exact panel is
    protected, audited and made the Arrow table the release writes before the next is built."""
    attacks = derivation_audit.attacks(job.spec, job.mode)
    tables: dict[str, pa.Table] = {}
    distinct: dict[str, int] = {}
    present: list[pl.Series] = []
    partials: dict[str, pl.DataFrame] = {}
    counts: dict[int, tuple[int, int]] = {}
    with contextlib.closing(exact_panels(job)) as built:
        _, population = next(built)
        # the persons of the slice; those of its panels are among them
        persons = pseudonym_map(population["insz"], key, PERSON)
        for name, exact in built:
            scrambled = None if job.scrambled is None else job.scrambled.get(name)
            # in the exact panel's order until the end: the audit and the sums need no order
            protected = protected_rows(
                name, exact, job.spec, job.mode, key, persons, scrambled, job.derived
            )
            # the derivation audit compares the release's rows with their exact values, person by
            # person: only the protected values it attacks, keyed as released
            on_panel = [i for i, a in enumerate(attacks) if a.panel == name]
            if on_panel:
                wanted = exact.select(
                    "insz",
                    *PANELS[name].keys[1:],
                    *sorted({attacks[i].rule.variable for i in on_panel}),
                )
                truth = keyed_as_released(wanted, job.mode, persons)
                audited = derivation_audit.audit_panel(name, attacks, truth, protected)
                counts.update(zip(on_panel, audited, strict=True))
                del wanted, truth
            del exact
            for summary_name, summary in job.spec.summaries.items():
                if summary.panel == name:
                    partials[summary_name] = partial_sums(protected, summary)
            distinct[name] = protected[PERSON_ID].n_unique()
            present.append(protected[PERSON_ID].unique())
            order = release_order(name, protected)
            columns = protected.get_columns()
            del protected
            tables[name] = in_order(columns, order)
    # the digest of the persons is over their pseudonyms, also in an identified release
    present_ids = pl.concat(present).unique() if present else pl.Series(PERSON_ID, [], pl.String)
    if job.mode.identified:
        pseudonyms = persons.filter(pl.col("id").is_in(present_ids.implode()))["pseudonym"]
    else:
        pseudonyms = present_ids
    return SliceResult(
        number=job.number,
        tables=tables,
        rows={name: table.num_rows for name, table in tables.items()},
        distinct=distinct,
        pseudonyms=pseudonyms,
        partials={name: partials[name] for name in job.spec.summaries},
        derivations=[counts.get(i, (0, 0)) for i in range(len(attacks))],
    )


def in_order(columns: list[pl.Series], order: pl.Series) -> pa.Table:
    """The Arrow table of `columns` with their rows taken in `order`, emptying `columns`: each
    column is reordered and made Arrow before the next, and freed, so that a wide panel is held
    about once while it is sorted, not twice (a whole-frame sort gathers every column first)."""
    names = [column.name for column in columns]
    arrays: list[pa.Array] = []
    while columns:
        arrays.append(columns.pop(0).gather(order).to_arrow())
    return pa.Table.from_arrays(arrays, names=names)


class PanelFiles:
    """The release's Parquet files, one per panel, written slice after slice.

    A slice's tables are written in a thread of their own while the caller validates them
    (Arrow compresses and writes outside the interpreter's lock); one slice at a time, in
    order, so the files are those a write in the caller's thread gives."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._writers: dict[str, RowGroupWriter] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rex-parquet")
        self._writing: Future[None] | None = None

    def path(self, name: str) -> Path:
        return self._folder / f"{name}.parquet"

    def write_slice(self, tables: Mapping[str, pa.Table]) -> None:
        """Write a slice's tables, once the previous slice's are written (its error raised)."""
        self._wait()
        self._writing = self._thread.submit(self._write, dict(tables))

    def _write(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            writer = self._writers.get(name)
            if writer is None:
                writer = self._writers[name] = RowGroupWriter(self.path(name), table.schema)
            writer.write(table)

    def _wait(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        self._wait()
        self._thread.shutdown()
        for writer in self._writers.values():
            writer.close()

    def discard(self) -> None:
        """Stop writing (the run failed; the caller removes the files)."""
        with contextlib.suppress(BaseException):
            self._wait()
        self._thread.shutdown()
        for writer in self._writers.values():
            writer.discard()
