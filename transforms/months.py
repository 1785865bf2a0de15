"""Event dates cut to the month: a date becomes the text YYYY-MM.

Text, not a date set to the first of the month, so that nobody can take it for an exact day.
"""

from __future__ import annotations

import polars as pl


def to_month(dates: pl.Expr) -> pl.Expr:
    """Replace each date by its month, YYYY-MM."""
    return dates.dt.strftime("%Y-%m")
