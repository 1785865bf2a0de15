"""The plots rex draws: a declared line plot, from a table (on premise, the table as it may
leave, so that a suppressed cell is a gap). The same drawing at home and on premise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402


def plotted(table: pl.DataFrame, request: Mapping[str, Any]) -> pl.DataFrame:
    """The points of the plot: x, y and the line (`by`), y as a share of its x if asked."""
    x, y, by = request["x"], request["y"], request.get("by")
    missing = [c for c in (x, y, by) if c is not None and c not in table.columns]
    if missing:
        raise ValueError(f"the plot's table has no column {', '.join(map(repr, missing))}")
    points = table.select(
        pl.col(x).alias("x"),
        pl.col(y).cast(pl.Float64).alias("y"),
        (pl.col(by).cast(pl.String) if by else pl.lit("")).alias("line"),
    )
    if request.get("share"):
        points = points.with_columns(pl.col("y") / pl.col("y").sum().over("x"))
    return points.sort("line", "x")


def draw(table: pl.DataFrame, request: Mapping[str, Any]) -> Any:
    """A matplotlib figure of the declared line plot."""
    points = plotted(table, request)
    figure, axis = plt.subplots(figsize=(7, 4))
    for (line,), rows in points.partition_by("line", as_dict=True, maintain_order=True).items():
        axis.plot(rows["x"].to_list(), rows["y"].to_list(), marker="o", label=str(line) or None)
    axis.set(xlabel=request.get("xlabel", ""), ylabel=request.get("ylabel", ""))
    if request.get("by"):
        axis.legend()
    return figure
