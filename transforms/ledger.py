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

Cost: the pairs of cells sharing a person, one row per person and pair; measured in
benchmarks/bench_ledger.py.
"""

from __future__ import annotations

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
    subtracting the cells inside it."""
    suppressed: set[str] = set()
    old = released.select(CELL, PERSON).with_columns(pl.lit(False).alias(NEW))
    while True:
        candidates = new.filter(~pl.col(CELL).is_in(list(suppressed))).select(CELL, PERSON)
        found = _recoverable(
            pl.concat([old, candidates.with_columns(pl.lit(True).alias(NEW))]), min_persons
        )
        if not found:
            return suppressed
        suppressed |= found


def _recoverable(members: pl.DataFrame, min_persons: int) -> set[str]:
    """New cells to suppress this round: each new cell with a small remainder, and the new
    cells inside an old one with a small remainder."""
    if members.is_empty():
        return set()
    members = members.unique([CELL, PERSON])
    sizes = members.group_by(CELL).agg(pl.len().alias("size"), pl.col(NEW).first())

    def sized(side: str) -> pl.DataFrame:
        """The cells' sizes and newness, named for one side of a pair."""
        return sizes.select(
            pl.col(CELL).alias(side),
            pl.col("size").alias(f"{side}_size"),
            pl.col(NEW).alias(f"{side}_new"),
        )

    pairs = (
        members.select(pl.col(CELL).alias("inner"), PERSON)
        .join(members.select(pl.col(CELL).alias("outer"), PERSON), on=PERSON)
        .filter(pl.col("inner") != pl.col("outer"))
        .group_by("inner", "outer")
        .agg(pl.len().alias("shared"))
        .join(sized("inner"), on="inner")
        .join(sized("outer"), on="outer")
    )
    # strictly inside: all of the inner cell's persons are the outer's, and the outer has more
    inside = pairs.filter(
        (pl.col("shared") == pl.col("inner_size")) & (pl.col("outer_size") > pl.col("inner_size"))
    ).with_columns(pl.col("inner").str.extract(TABLE_OF_CELL).alias("table"))
    if inside.is_empty():
        return set()
    # a table's cells inside `b` taken together: a margin less a finer table's cells
    covered = (
        inside.select("inner", "outer", "table", "outer_size", "outer_new")
        .join(members.select(pl.col(CELL).alias("inner"), PERSON), on="inner")
        .group_by("outer", "table", "outer_size", "outer_new")
        .agg(pl.col(PERSON).n_unique().alias("covered"))
        .with_columns((pl.col("outer_size") - pl.col("covered")).alias("remainder"))
        .filter((pl.col("remainder") > 0) & (pl.col("remainder") < min_persons))
    )
    if covered.is_empty():
        return set()
    new_outer = set(covered.filter(pl.col("outer_new"))["outer"].to_list())
    old = covered.filter(~pl.col("outer_new")).select("outer", "table")
    new_inner = inside.join(old, on=["outer", "table"]).filter(pl.col("inner_new"))
    return new_outer | set(new_inner["inner"].to_list())
