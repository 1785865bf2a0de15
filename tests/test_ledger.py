"""The disclosure ledger's promise, as a property: whatever tables of one workspace it lets
pass, old and new, no released cell less the released cells of one table inside it (one cell
inside another being the simplest case) leaves fewer persons than the threshold, but none.
Checked here with Python sets, independently of the ledger's own polars."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import ledger

THRESHOLD = 5

# a table: for each of up to 4 cells, a set of persons among 30 (cells of one table may
# overlap, as a total row does)
tables = st.lists(
    st.lists(st.frozensets(st.integers(0, 29), min_size=THRESHOLD), min_size=1, max_size=4),
    min_size=2,
    max_size=5,
)


def _members(cells: dict[str, frozenset[int]]) -> pl.DataFrame:
    rows = [(cell, person) for cell, persons in cells.items() for person in persons]
    return pl.DataFrame(rows, schema=ledger.SCHEMA, orient="row")


@settings(max_examples=200, deadline=None)
@given(tables=tables, released_before=st.integers(0, 2))
def test_no_released_cell_is_recovered_from_another_tables_cells_inside_it(tables, released_before):
    cells = {
        f"{'old' if t < released_before else 'this'}:{t}:{c}:n": persons
        for t, table in enumerate(tables)
        for c, persons in enumerate(table)
    }
    old = {cell: persons for cell, persons in cells.items() if cell.startswith("old:")}
    new = {cell: persons for cell, persons in cells.items() if cell.startswith("this:")}
    suppressed = ledger.disclosive(_members(old), _members(new), THRESHOLD)
    assert suppressed <= set(new)
    released = {cell: persons for cell, persons in cells.items() if cell not in suppressed}

    def table_of(cell: str) -> str:
        return ":".join(cell.split(":")[:2])

    for outer, persons in released.items():
        # an old cell that old cells alone give away was given away before this run
        for table in {table_of(c) for c in released}:
            inside = [
                p
                for c, p in released.items()
                if table_of(c) == table and c != outer and p < persons
            ]
            if not inside or (
                outer in old and all(c in old for c in released if table_of(c) == table)
            ):
                continue
            remainder = len(persons - frozenset().union(*inside))
            assert not 0 < remainder < THRESHOLD, (outer, table, remainder)
