"""What the transforms' SQL shares: the relation of a select, plain identifiers, and the
generic attach of a source table's variables to panel rows by reference day.

Below the panels (transforms.panels) and the population language's compiler
(transforms.population), which both use them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from duckdb import DuckDBPyRelation as Relation

from specs import sources as declared_sources
from specs.catalog import FromSource, Variable
from specs.sources import SOURCE_TABLES

# Column names and expressions in the generic joins come from the catalog and the source
# declarations (code, not input); they are still checked to be plain identifiers before use.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def selected(result: Relation | None) -> Relation:
    """The relation of a select. (Queries stay in the calling function: DuckDB finds the other
    input relations by name in that function's scope.)"""
    if result is None:  # only statements without a result give None; these are all selects
        raise TypeError("expected a select statement")
    return result


def identifier(name: str) -> str:
    """The name, refused unless it is a plain SQL identifier (the generic joins paste names)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def variable_columns(variables: Sequence[Variable], table: str) -> str:
    """`expression as name` for each variable read from `table` (alias `s`)."""
    return "".join(
        f", {v.origin.expression} as {identifier(v.name)}"
        for v in variables
        if isinstance(v.origin, FromSource) and v.origin.table == table
    )


def attach_table(
    b: Relation, s: Relation, table_key: str, key: str, variables: Sequence[Variable]
) -> Relation:
    """The panel keys `b` with the variables read from one source table `s`."""
    table = SOURCE_TABLES[table_key]
    columns = variable_columns(variables, table_key)
    if table.valid_from is not None and table.valid_until is not None:
        start, end = identifier(table.valid_from), identifier(table.valid_until)
        # ties (duplicate spells) are broken on every column, so the pick is reproducible
        tie_break = ", ".join(f"s.{identifier(c.name)}" for c in table.columns)
        # the window runs over the matching rows only; the left join then gives every panel
        # row its row of the table, or none, and the expressions see both
        query = f"""
            with matched as (
                select b.{key} as panel_key__, s.*
                from b
                join s
                  on s.insz = b.insz and s.{start} <= b.day
                 and (s.{end} is null or s.{end} >= b.day)
                qualify row_number() over (
                    partition by b.insz, b.{key} order by s.{start} desc, {tie_break}
                ) = 1
            )
            select b.*{columns}
            from b
            left join matched s on s.insz = b.insz and s.panel_key__ = b.{key}
        """
    elif table.period_column is not None:
        period = identifier(table.period_column)
        query = f"""
            select b.*{columns}
            from b left join s on s.insz = b.insz and s.{period} = b.period_code
        """
    elif table_key == declared_sources.PERSONS.key:
        # one row per person (the register's persons): the same on every panel row
        query = f"""
            select b.*{columns}
            from b left join s on s.insz = b.insz
        """
    else:
        raise ValueError(f"source table {table_key} has neither validity nor period columns")
    return selected(b.query("b", query))
