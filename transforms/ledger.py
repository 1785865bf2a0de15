"""The disclosure ledger: no released cell may be recovered from the difference of others.

Two cells that pass every rule on their own can give a person away together: the sum for the
men born up to 6 February less the sum for those born up to 5 February is one man's wage; a
table's total less its released cells is its suppressed cell; a margin less the cells of a
finer table is a cell suppressed there. Each time, a cell's persons hold the persons of others,
and what they do not cover is fewer than the threshold.

So rex keeps, for every workspace, the persons of every cell it has let pass (its own run of
the declared query: researcher.tables `members`), whichever run released it, and before a new
cell passes it measures, for every cell `b` of the ledger and of the new ones and every table,
the persons of `b` not covered by that table's cells strictly inside it (one cell inside
another is the simplest case). Where that remainder is some persons but fewer than the
threshold, the difference gives them away: a new `b` is suppressed; an old `b` cannot
be taken back, so the new cells inside it are. Suppressing only takes cells away, so this is
repeated until nothing changes (secondary suppression, as tau-Argus and ACRO's margins do it,
across every table released from the workspace).

Two cells that overlap without one holding the other (ages 18-29 and 19-30) give only the
difference of two groups, not one person's value; they are left alone.

How: each cell's persons are a row of bits (one bit per person of the workspace), so that "all
of `a` is in `b`" and "what of `b` a table's cells leave" are vector operations over those bits.
Cost: cells^2 x persons / 64 word operations and cells x persons / 8 bytes; measured in
benchmarks/bench_ledger.py.
"""

from __future__ import annotations

import numpy as np
import polars as pl

CELL = "cell"
PERSON = "person"
# a cell's id is "<run>:<output>:<row>:<column>"; its table is the first two parts
TABLE_OF_CELL = r"^([^:]*:[^:]*):"
NEW = "new"
SCHEMA = {CELL: pl.String, PERSON: pl.UInt32}


def disclosive(released: pl.DataFrame, new: pl.DataFrame, min_persons: int) -> set[str]:
    """The new cells to suppress (by id) so that no cell of `released` or of the rest of `new`
    (each: cell id, person index) is recovered, within fewer than `min_persons` persons, by
    subtracting one table's cells inside it."""
    members = pl.concat(
        [
            released.select(CELL, PERSON).with_columns(pl.lit(False).alias(NEW)),
            new.select(CELL, PERSON).with_columns(pl.lit(True).alias(NEW)),
        ]
    ).unique([CELL, PERSON])
    if members.is_empty():
        return set()
    cells = members.select(CELL, NEW).unique(CELL).sort(CELL).with_row_index("index")
    indexed = members.join(cells.select(CELL, "index"), on=CELL)
    bits = _bitsets(indexed["index"].to_numpy(), indexed[PERSON].to_numpy(), cells.height)
    sizes = np.bitwise_count(bits).sum(axis=1)
    tables = cells[CELL].str.extract(TABLE_OF_CELL).to_numpy()
    is_new = cells[NEW].to_numpy()
    # inside[i, j]: cell i strictly inside cell j (all of its persons are j's, j has more)
    inside = np.zeros((cells.height, cells.height), dtype=bool)
    for j in range(cells.height):
        inside[:, j] = ~(bits & ~bits[j]).any(axis=1) & (sizes < sizes[j])
    suppressed = np.zeros(cells.height, dtype=bool)
    while True:
        found = _recoverable(bits, inside & ~suppressed[:, None], tables, is_new, min_persons)
        found &= ~suppressed
        if not found.any():
            return set(cells[CELL].filter(pl.Series(suppressed)).to_list())
        suppressed |= found


def _bitsets(cell: np.ndarray, person: np.ndarray, cells: int) -> np.ndarray:
    """Each cell's persons as a row of bits (person p: bit p % 64 of word p // 64)."""
    person = person.astype(np.uint64)
    bits = np.zeros((cells, int(person.max()) // 64 + 1), dtype=np.uint64)
    np.bitwise_or.at(
        bits, (cell, (person // 64).astype(np.int64)), np.left_shift(np.uint64(1), person % 64)
    )
    return bits


def _recoverable(
    bits: np.ndarray, inside: np.ndarray, tables: np.ndarray, is_new: np.ndarray, min_persons: int
) -> np.ndarray:
    """New cells to suppress this round: each new cell that one table's cells inside it leave
    with a small remainder, and the new cells of a table that does so to an old one. A loop
    over cells and tables (hundreds), each step a vector over the persons' bits."""
    found = np.zeros(len(bits), dtype=bool)
    for outer in np.flatnonzero(inside.any(axis=0)):
        held = inside[:, outer]
        for table in np.unique(tables[held]):
            of_table = held & (tables == table)
            union = np.bitwise_or.reduce(bits[of_table], axis=0)
            remainder = int(np.bitwise_count(bits[outer] & ~union).sum())
            if 0 < remainder < min_persons:
                if is_new[outer]:
                    found[outer] = True
                else:
                    found |= of_table & is_new
    return found
