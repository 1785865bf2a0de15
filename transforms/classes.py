"""Amounts into classes: a euro amount becomes the label of the class it falls in.

Classes are half-open, [lower, upper), from the spec's edges: below the first edge "<e0", between
edges "[e_i,e_i+1)", from the last edge ">=e_k". A missing amount stays missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from specs.patterns import class_labels


def to_classes(amounts: pl.Expr, edges: Sequence[float]) -> pl.Expr:
    """Replace each amount by its class label."""
    return amounts.cut(list(edges), labels=class_labels(edges), left_closed=True).cast(pl.String)
