"""The synthetic source store: every table of specs.sources, from one seeded population.

Deterministic: the same (persons, seed) gives the same bytes. The store is written to a
temporary folder beside the target and renamed into place only when complete.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from specs.sources import SOURCE_TABLES, SourceTable, polars_schema
from synthetic import dmfa, further, lifecourse, nic, register, rva, sigedis
from synthetic.employers import employers_frame

MIN_EMPLOYERS = 50


def build_tables(persons: int, seed: int) -> dict[str, pl.DataFrame]:
    """Every source table of a population of `persons`, as frames."""
    rng = np.random.Generator(np.random.PCG64(seed))
    people = register.persons_frame(rng, persons)
    employers = employers_frame(
        rng, max(MIN_EMPLOYERS, int(persons * lifecourse.EMPLOYERS_PER_PERSON))
    )
    life = lifecourse.simulate(rng, people, employers.height)
    wages = dmfa.person_wages(rng, people).select("person", "wage_2003")
    occupations = dmfa.occupations_table(rng, life, people, employers)
    tables = {
        "register.persons": register.persons_table(people),
        "register.residences": register.residences_table(people),
        "register.nationalities": register.nationalities_table(people),
        "register.households": register.households_table(people),
        "dmfa.occupations": occupations,
        "rva.unemployment": rva.unemployment_table(rng, life, people, wages),
        "nic.incapacity": nic.incapacity_table(rng, life, people, wages),
        "sigedis.career": sigedis.career_table(rng, life, people, occupations, employers),
    }
    return tables | further.further_tables(rng, life, people, employers, tables)


def conform(frame: pl.DataFrame, table: SourceTable) -> pl.DataFrame:
    """The frame cast to the table's declared schema; refuses nulls where none are allowed."""
    schema = polars_schema(table)
    cast = frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
    for column in table.columns:
        if not column.nullable and cast[column.name].null_count():
            raise ValueError(f"{table.key}.{column.name}: generated empty values")
    return cast


def generate(persons: int, seed: int, out: Path) -> dict[str, int]:
    """Write the source store of `persons` persons to `out`; returns rows per table."""
    tables = build_tables(persons, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    counts = {}
    try:
        for key, table in SOURCE_TABLES.items():
            frame = conform(tables[key], table)
            path = staging / table.relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(frame.to_arrow(), path, compression="zstd", compression_level=3)
            counts[key] = frame.height
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts
