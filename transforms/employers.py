"""The occupation lines of the employers a population names (specs.values.Employers)."""

from __future__ import annotations

import polars as pl
from duckdb import DuckDBPyRelation as Relation

from specs.values import Employers
from transforms.relations import selected

SECTOR_CODES = {"private": "1", "public": "2"}  # specs.codes.SECTOR


def employer_lines(occupations: Relation, employers: Employers) -> Relation:
    """The DMFA occupation lines of the employers that match every criterion given.

    Each criterion is a one-column frame joined to the lines, so its values reach DuckDB as
    data, never as SQL text.
    """
    lines = occupations
    sector = () if employers.sector is None else (SECTOR_CODES[employers.sector],)
    criteria = {
        "nace": employers.nace,
        "joint_committee": employers.joint_committees,
        "sector": sector,
    }
    for column, values in criteria.items():
        if values:
            wanted = pl.DataFrame({column: list(values)}, schema={column: pl.String})  # noqa: F841
            joined = f"select * from lines semi join wanted using ({column})"
            lines = selected(lines.query("lines", joined))
    if employers.local_unit_region is not None:
        prefixes = pl.DataFrame(  # noqa: F841
            {"prefix": list(employers.local_unit_region.nis_prefixes)}
        )
        lines = selected(
            lines.query(
                "lines",
                """
            select * from lines
            where exists (
                select 1 from prefixes p where starts_with(lines.local_unit_nis, p.prefix)
            )
            """,
            )
        )
    return lines
