"""Nationality scrambling: the persons' nationalities are redistributed among them.

Each person's pair (current nationality, first nationality) is taken on their last row, and the
pairs are then handed out again by a keyed permutation: persons ordered by pseudonym give, persons
ordered by a keyed score (domain "scramble") receive. The pairs over persons keep their exact
distribution (it is a permutation), the link between a person and their own pair is at chance
level, and without the key the permutation cannot be recomputed. A person carries the received
pair in every period, so a change of nationality during the period is not kept.

The permutation is a global step (it mixes persons); finding each person's own pair and handing
out the received ones are not. So an extract built a slice of persons at a time takes the own
pairs of every slice (`own_pairs`), draws the permutation once over all of them
(`permutation`), and gives each slice the pairs of its persons (`apply_pairs`).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.pseudonymise import SCRAMBLE, keyed_digest


def own_pairs(
    panel: pl.DataFrame, columns: Sequence[str], person: str, period: str
) -> pl.DataFrame:
    """Per person, their own nationality columns on their last row (per person: mixes nobody)."""
    return panel.sort(period).group_by(person).agg(pl.col(c).last() for c in columns)


def permutation(own: pl.DataFrame, columns: Sequence[str], key: bytes, person: str) -> pl.DataFrame:
    """Per person, the nationality columns they receive: the keyed permutation of `own` (one row
    per person, from `own_pairs`)."""
    givers = own.sort(person).select(columns)
    receivers = (
        own.select(person)
        .with_columns(_score=keyed_digest(pl.col(person), key, SCRAMBLE))
        .sort("_score")
        .drop("_score")
    )
    return pl.concat([receivers, givers], how="horizontal")


def scrambled_pairs(
    panel: pl.DataFrame, columns: Sequence[str], key: bytes, person: str, period: str
) -> pl.DataFrame:
    """Per person, the nationality columns they receive from the keyed permutation."""
    return permutation(own_pairs(panel, columns, person, period), columns, key, person)


def apply_pairs(
    panel: pl.DataFrame, columns: Sequence[str], pairs: pl.DataFrame, person: str
) -> pl.DataFrame:
    """The panel with each person's nationality columns replaced by the pair `pairs` gives them
    (null for a person `pairs` does not hold). A lookup per column, where a join would copy
    every column of a wide panel."""
    return panel.with_columns(
        pl.col(person)
        .replace_strict(
            pairs[person], pairs[column], default=None, return_dtype=pairs[column].dtype
        )
        .alias(column)
        for column in columns
    )


def scramble(
    panel: pl.DataFrame, columns: Sequence[str], key: bytes, person: str, period: str
) -> pl.DataFrame:
    """The panel with each person's nationality columns replaced by their scrambled pair."""
    if not columns:
        return panel
    return apply_pairs(panel, columns, scrambled_pairs(panel, columns, key, person, period), person)
