"""The synthetic source store: every table of specs.sources, from one seeded population.

The population is generated in blocks of BLOCK_PERSONS persons, each with its own random stream
derived from (seed, block number), and the blocks are built a chunk at a time and streamed to
one Parquet file per table. A person's draws therefore depend on the seed and its block only,
the INSZ day counters run on in person order across blocks, the employers are drawn once
before the first block, and the files are cut into row groups of a fixed number of rows: the
same (persons, seed) gives the same bytes whatever the chunk size, and memory is bounded by the
chunk size, not by the population.

The store is written to a temporary folder beside the target and renamed into place only when
complete. A folder that holds anything but a synthetic store rex made (its store.json says so) is
never written over, and a synthetic store is replaced only when the caller asks: the old one is
moved aside, the new one moved in, and only then the old one removed, so that at every instant
the target holds a complete store (or, after a crash between the two renames, the old one lies
beside it under `.<name>.old-*`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from flows.release.parquet_writer import ROW_GROUP_ROWS as ROW_GROUP_ROWS  # the tests read it here
from flows.release.parquet_writer import RowGroupWriter
from specs import sources as declared_sources
from specs.refusal import Refusal
from specs.sources import SOURCE_TABLES, STORE_MANIFEST, SourceTable, polars_schema
from synthetic import (
    a052,
    dmfa,
    dmfa_blocks,
    dmfa_details,
    further,
    lifecourse,
    nic,
    register,
    rva,
    rva_allowances,
    sigedis,
)
from synthetic.blocks import BLOCK_PERSONS, DEFAULT_CHUNK_PERSONS
from synthetic.defects import inject_defects
from synthetic.employers import employers_frame
from synthetic.identifiers import DayCounters

MIN_EMPLOYERS = 50
# Spawn keys of the random streams: the employers, and one stream per block of persons; then
# the streams added later, each of its own so that what was drawn before keeps its values: the
# care facilities and the declaration attributes of the employers, the DMFA block fields of
# 19/104 and 13/021 and the RVA activation allowances of 13/021 (one each per block of persons).
EMPLOYERS_STREAM, PERSONS_STREAM, EMPLOYER_DETAILS_STREAM = 0, 1, 2
CARE_FACILITIES_STREAM, EMPLOYER_BLOCKS_STREAM, DMFA_BLOCKS_STREAM = 3, 4, 5
RVA_ALLOWANCES_STREAM = 6
A052_MESSAGES_STREAM = 7  # the A052 messages of 04/037, one stream per block of persons


def employer_count(persons: int) -> int:
    """Employers of a population of `persons` (a fixed ratio, with a floor for small ones)."""
    return max(MIN_EMPLOYERS, int(persons * lifecourse.EMPLOYERS_PER_PERSON))


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for one purpose (and block) of a seed."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def build_tables(
    rng: np.random.Generator, people: pl.DataFrame, employers: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Every source table of one block of persons (`people`, from register.persons_frame)."""
    life = lifecourse.simulate(rng, people, employers.height)
    wages = dmfa.person_wages(rng, people).select("person", "wage_2003")
    occupations = dmfa.occupations_table(rng, life, people, employers)
    tables = {
        declared_sources.PERSONS.key: register.persons_table(people),
        declared_sources.RESIDENCES.key: register.residences_table(people),
        declared_sources.NATIONALITIES.key: register.nationalities_table(people),
        declared_sources.HOUSEHOLDS.key: register.households_table(people),
        declared_sources.OCCUPATIONS.key: occupations,
        declared_sources.UNEMPLOYMENT.key: rva.unemployment_table(rng, life, people, wages),
        declared_sources.INCAPACITY.key: nic.incapacity_table(rng, life, people, wages),
        declared_sources.CAREER.key: sigedis.career_table(
            rng, life, people, occupations, employers
        ),
    }
    return tables | further.further_tables(rng, life, people, employers, tables)


def block_tables(
    seed: int, block: int, persons: int, employers: pl.DataFrame, counters: DayCounters
) -> dict[str, pl.DataFrame]:
    """The tables of block `block` of a population of `persons`, from the block's own stream.

    Blocks must be built in order: `counters` carries the INSZ day counters from one to the next.
    """
    first = block * BLOCK_PERSONS
    rng = stream(seed, PERSONS_STREAM, block)
    people = register.persons_frame(rng, min(BLOCK_PERSONS, persons - first), first, counters)
    tables = build_tables(rng, people, employers)
    tables[declared_sources.OCCUPATIONS.key] = dmfa_blocks.occupations_with_blocks(
        stream(seed, DMFA_BLOCKS_STREAM, block),
        tables[declared_sources.OCCUPATIONS.key],
        tables[declared_sources.PERSONS.key],
        employers,
    )
    tables[declared_sources.ACTIVATION_ALLOWANCES.key] = rva_allowances.allowances_table(
        stream(seed, RVA_ALLOWANCES_STREAM, block),
        tables[declared_sources.UNEMPLOYMENT.key],
        tables[declared_sources.OCCUPATIONS.key],
    )
    tables[declared_sources.A052_MESSAGES.key] = a052.messages_table(
        stream(seed, A052_MESSAGES_STREAM, block),
        tables[declared_sources.INCAPACITY.key],
        tables[declared_sources.OCCUPATIONS.key],
        people,
    )
    return tables


def chunk_tables(
    seed: int,
    blocks: range,
    persons: int,
    employers: pl.DataFrame,
    counters: DayCounters,
) -> dict[str, pl.DataFrame]:
    """The tables of consecutive blocks, each table concatenated in block order."""
    built = [block_tables(seed, block, persons, employers, counters) for block in blocks]
    return {key: pl.concat([tables[key] for tables in built]) for key in built[0]}


def population_employers(persons: int, seed: int) -> pl.DataFrame:
    """The employers of a population, with every attribute drawn once per employer (before any
    block of persons), so that an employer is the same in every block and every chunk."""
    employers = employers_frame(stream(seed, EMPLOYERS_STREAM), employer_count(persons))
    employers = dmfa_details.with_employer_details(stream(seed, EMPLOYER_DETAILS_STREAM), employers)
    employers = dmfa_blocks.with_care_facilities(stream(seed, CARE_FACILITIES_STREAM), employers)
    return dmfa_blocks.with_employer_blocks(stream(seed, EMPLOYER_BLOCKS_STREAM), employers)


def population_tables(persons: int, seed: int) -> dict[str, pl.DataFrame]:
    """Every table of a whole (small) population in memory: the store's content, unchunked."""
    employers = population_employers(persons, seed)
    blocks = range(-(-persons // BLOCK_PERSONS))
    return chunk_tables(seed, blocks, persons, employers, DayCounters())


def conform(frame: pl.DataFrame, table: SourceTable) -> pl.DataFrame:
    """The frame cast to the table's declared schema; refuses nulls where none are allowed."""
    schema = polars_schema(table)
    cast = frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
    for column in table.columns:
        if not column.nullable and cast[column.name].null_count():
            raise ValueError(f"{table.key}.{column.name}: generated empty values")
    return cast


class StoreRefused(Refusal, ValueError):
    """The target folder may not be written over; the message names it and says why."""


def synthetic_store(folder: Path) -> dict | None:
    """What a store rex generated says of itself (its store.json: persons, seed, defects); None
    where the folder holds no store.json saying it is synthetic (then it is taken for real data)."""
    try:
        description = json.loads((folder / STORE_MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    synthetic = isinstance(description, dict) and description.get("synthetic") is True
    return description if synthetic else None


def _check_target(out: Path, replace: bool) -> None:
    """Refuse a target that is not empty and not a synthetic store rex made, and a synthetic store
    unless `replace`: generation never deletes what the caller did not ask it to."""
    if not out.exists():
        return
    if not out.is_dir():
        raise StoreRefused(f"{out} is a file, not a source store folder; give another --out")
    if not any(out.iterdir()):
        return
    description = synthetic_store(out)
    if description is None:
        raise StoreRefused(
            f"{out} is not empty and holds no store.json saying it is a synthetic store, so it "
            "is taken for real data and left as it is; give an empty or new folder as --out"
        )
    if not replace:
        raise StoreRefused(
            f"{out} already holds a synthetic store ({description.get('persons')} persons, seed "
            f"{description.get('seed')}); give --replace to replace it"
        )


def _swap_in(staging: Path, out: Path) -> None:
    """Move the complete store at `staging` to `out`, replacing what `out` holds in two renames:
    the old aside, the new in (the old put back if that fails), then the old removed."""
    if not out.exists():
        staging.rename(out)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    aside.rmdir()  # only a name on the same file system, for the rename
    out.rename(aside)
    try:
        staging.rename(out)
    except BaseException:
        aside.rename(out)
        raise
    shutil.rmtree(aside)


def generate(
    persons: int,
    seed: int,
    out: Path,
    chunk_persons: int = DEFAULT_CHUNK_PERSONS,
    on_progress: Callable[[int], None] | None = None,
    with_defects: bool = False,
    replace: bool = False,
) -> dict[str, int]:
    """Write the source store of `persons` persons to `out`, `chunk_persons` at a time (a whole
    number of blocks); returns rows per table. `on_progress` gets the persons done so far.

    `out` must be missing, empty, or (with `replace`) a synthetic store rex made; else
    StoreRefused, before anything is written."""
    if chunk_persons < BLOCK_PERSONS or chunk_persons % BLOCK_PERSONS:
        raise ValueError(
            f"chunk size {chunk_persons:,}: expected a multiple of the block of "
            f"{BLOCK_PERSONS:,} persons"
        )
    _check_target(out, replace)
    blocks_per_chunk = chunk_persons // BLOCK_PERSONS
    blocks = -(-persons // BLOCK_PERSONS)
    employers = population_employers(persons, seed)
    counters = DayCounters()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    writers: dict[str, RowGroupWriter] = {}
    try:
        for key, table in SOURCE_TABLES.items():
            path = staging / table.relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            schema = conform(pl.DataFrame(schema=polars_schema(table)), table).to_arrow().schema
            writers[key] = RowGroupWriter(path, schema)
        for first_block in range(0, blocks, blocks_per_chunk):
            chunk = range(first_block, min(first_block + blocks_per_chunk, blocks))
            tables = chunk_tables(seed, chunk, persons, employers, counters)
            if with_defects:  # chosen per record by keyed hash, so chunking does not matter
                tables = inject_defects(tables, seed)
            for key, writer in writers.items():
                writer.write(conform(tables[key], SOURCE_TABLES[key]).to_arrow())
            del tables
            if on_progress:
                on_progress(min(chunk.stop * BLOCK_PERSONS, persons))
        for writer in writers.values():
            writer.close()
        description = {"synthetic": True, "persons": persons, "seed": seed, "defects": with_defects}
        (staging / STORE_MANIFEST).write_text(json.dumps(description, sort_keys=True) + "\n")
        _check_target(out, replace)  # again: the folder may have been filled meanwhile
        _swap_in(staging, out)
    except BaseException:
        for writer in writers.values():
            writer.discard()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {key: writer.rows for key, writer in writers.items()}
