"""Nationality scrambling: the persons' nationalities are redistributed among them.

Each person's pair (current nationality, first nationality) is taken on their last row, and the
pairs are then handed out again by a keyed permutation: persons ordered by pseudonym give, persons
ordered by a keyed score (domain "scramble") receive. The pairs over persons keep their exact
distribution (it is a permutation), the link between a person and their own pair is at chance
level, and without the key the permutation cannot be recomputed. A person carries the received
pair in every period, so a change of nationality during the period is not kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from transforms.pseudonymise import SCRAMBLE, keyed_digest


def scrambled_pairs(
    panel: pl.DataFrame, columns: Sequence[str], key: bytes, person: str, period: str
) -> pl.DataFrame:
    """Per person, the nationality columns they receive from the keyed permutation."""
    own = panel.sort(period).group_by(person).agg(pl.col(c).last() for c in columns)
    givers = own.sort(person).select(columns)
    receivers = (
        own.select(person)
        .with_columns(_score=keyed_digest(pl.col(person), key, SCRAMBLE))
        .sort("_score")
        .drop("_score")
    )
    return pl.concat([receivers, givers], how="horizontal")


def scramble(
    panel: pl.DataFrame, columns: Sequence[str], key: bytes, person: str, period: str
) -> pl.DataFrame:
    """The panel with each person's nationality columns replaced by their scrambled pair."""
    if not columns:
        return panel
    pairs = scrambled_pairs(panel, columns, key, person, period)
    order = panel.columns
    return panel.drop(columns).join(pairs, on=person, how="left").select(order)
