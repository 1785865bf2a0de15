"""What a declared output is, computed: the same functions at home, in the researcher's process,
and on premise, in rex's, where they run on rex's own execution of the declared query.

`tabulate` makes a table from a frame and a declaration (a count of persons, or a statistic of
a value, by some columns) and beside it what the checks need, all measured here: per cell the
persons contributing, their total, the two largest contributions of one person, whether a
percentile is one person's value, whether a sum is in effect a count; per label column the
persons holding each value; and per cell its persons (the disclosure ledger keeps them). `fit`
does the same for a model: OLS or logit, with the persons, the degrees of freedom and, per
predictor, the persons on its less common side.

Pure functions of polars frames; nothing loops over persons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

PERSON_ID = "person_id"
PERSONS = "persons"
COUNT = "count"
STATISTICS = ("sum", "mean", "median", "p10", "p25", "p75", "p90")
QUANTILES = {"median": 0.5, "p10": 0.1, "p25": 0.25, "p75": 0.75, "p90": 0.9}
MODELS = ("ols", "logit")
ROW = "row"
INTERCEPT = "intercept"


@dataclass(frozen=True)
class Tabulated:
    """A table and what the checks measure of it.

    `cells`: one row per table row and value column (row, column, statistic, persons, total,
    largest, second, rows, countlike, exact). `labels`: per label column and value (as text),
    the persons of the frame holding it. `members`: (row, person) for every cell's persons."""

    table: pl.DataFrame
    cells: pl.DataFrame
    labels: pl.DataFrame
    members: pl.DataFrame
    # a magnitude whose value is the same in every row: a number the code chose, not the data's
    constant: bool = False


@dataclass(frozen=True)
class Fitted:
    """A model's estimates and what the checks measure of its fit."""

    table: pl.DataFrame
    persons: int
    residual_dof: int
    # per design column (not the intercept): persons on the less common side of it
    minority: dict[str, int]


def declared_statistic(statistic: str) -> str:
    if statistic != COUNT and statistic not in STATISTICS:
        raise ValueError(
            f"statistic {statistic!r}: expected {COUNT!r} or one of {', '.join(STATISTICS)}"
        )
    return statistic


def tabulate(
    frame: pl.LazyFrame | pl.DataFrame,
    by: Sequence[str],
    statistic: str = COUNT,
    value: str | None = None,
    person: str = PERSON_ID,
    levels: Mapping[str, Sequence[Any]] | None = None,
    name: str = PERSONS,
) -> Tabulated:
    """Persons per combination of `by` (a count), or the persons with a value and the
    `statistic` of `value` over the rows; with `levels`, every combination of the levels given
    (counts only), zeros included. A person's contribution to a cell is the sum of their values
    in it (for a count: 1)."""
    by = list(by)
    declared_statistic(statistic)
    if statistic != COUNT and value is None:
        raise ValueError(f"a {statistic} needs the value column it is of")
    if statistic == COUNT and value is not None:
        raise ValueError("a count of persons takes no value column")
    if not by:
        raise ValueError("a table needs at least one column to be by")
    collected = table_rows(frame, by, value, person).collect()
    if statistic == COUNT:
        return _count(collected, by, person, levels, name)
    assert value is not None
    return _magnitude(collected, by, value, statistic, person)


def table_rows(
    frame: pl.LazyFrame | pl.DataFrame, by: Sequence[str], value: str | None, person: str
) -> pl.LazyFrame:
    """The rows a table is made of: its labels, the person and the value (where there is one)."""
    wanted = [*by, person] + ([value] if value else [])
    rows = frame.lazy().select(list(dict.fromkeys(wanted)))
    if value is None:
        return rows
    return rows.filter(pl.col(value).is_not_null()).with_columns(pl.col(value).cast(pl.Float64))


def model_rows(
    frame: pl.LazyFrame | pl.DataFrame, outcome: str, predictors: Sequence[str], person: str
) -> pl.LazyFrame:
    """The rows a model is fitted on: the person, the outcome and the predictors, none missing."""
    return frame.lazy().select(list(dict.fromkeys([person, outcome, *predictors]))).drop_nulls()


def _indexed(table: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return (
        table.sort(by, nulls_last=True).with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    )


def _label_persons(rows: pl.DataFrame, by: list[str], person: str) -> pl.DataFrame:
    per_column = [
        rows.group_by(column)
        .agg(pl.col(person).n_unique().cast(pl.Int64).alias(PERSONS))
        .select(
            pl.lit(column).alias("column"),
            pl.col(column).cast(pl.String).alias("value"),
            PERSONS,
        )
        for column in by
    ]
    return pl.concat(per_column)


def _members(rows: pl.DataFrame, indexed: pl.DataFrame, by: list[str], person: str) -> pl.DataFrame:
    """(row, person_id): the persons of each row of the table."""
    member = "__member"
    return (
        rows.select(*by, pl.col(person).cast(pl.String).alias(member))
        .unique()
        .join(indexed.select(ROW, *by), on=by, how="inner", nulls_equal=True)
        .select(ROW, pl.col(member).alias(PERSON_ID))
    )


def _count(
    rows: pl.DataFrame,
    by: list[str],
    person: str,
    levels: Mapping[str, Sequence[Any]] | None,
    name: str,
) -> Tabulated:
    counts = rows.group_by(by).agg(pl.col(person).n_unique().cast(pl.Int64).alias(name))
    if levels:
        unknown = sorted(set(levels) - set(by))
        if unknown:
            raise ValueError(f"levels of {', '.join(unknown)}: not columns the table is by")
        grid: pl.DataFrame | None = None
        for column in by:
            values = list(levels[column]) if column in levels else counts[column].unique().to_list()
            level = pl.DataFrame({column: values}).cast({column: counts.schema[column]})
            grid = level if grid is None else grid.join(level, how="cross")
        assert grid is not None
        counts = grid.join(counts, on=by, how="left", nulls_equal=True).with_columns(
            pl.col(name).fill_null(0)
        )
    indexed = _indexed(counts, by)
    persons = pl.col(name)
    cells = indexed.select(
        ROW,
        pl.lit(name).alias("column"),
        pl.lit(COUNT).alias("statistic"),
        persons.alias(PERSONS),
        persons.cast(pl.Float64).alias("total"),
        (persons > 0).cast(pl.Float64).alias("largest"),
        (persons > 1).cast(pl.Float64).alias("second"),
        persons.alias("rows"),
        pl.lit(True).alias("countlike"),
        pl.lit(False).alias("exact"),
    )
    return Tabulated(
        indexed.drop(ROW),
        cells,
        _label_persons(rows, by, person),
        _members(rows, indexed, by, person),
    )


def _magnitude(
    rows: pl.DataFrame, by: list[str], value: str, statistic: str, person: str
) -> Tabulated:
    column = f"{statistic}_{value}"
    contributions = rows.group_by(list(dict.fromkeys([*by, person]))).agg(
        pl.col(value).sum().alias("contribution")
    )
    by_size = pl.col("contribution").abs().sort(descending=True)
    of_persons = contributions.group_by(by).agg(
        pl.len().cast(pl.Int64).alias(PERSONS),
        pl.col("contribution").sum().alias("total"),
        by_size.first().alias("largest"),
        by_size.slice(1, 1).first().fill_null(0.0).alias("second"),
    )
    v = pl.col(value)
    if statistic == "sum":
        stat = v.sum()
    elif statistic == "mean":
        stat = v.mean()
    else:
        stat = v.quantile(QUANTILES[statistic], "linear")
    # a sum of whole numbers is in effect a count (a sum of ones is one), and a mean of zeros
    # and ones a share of persons: both are rounded as counts are
    whole = (v == v.round()).all()
    countlike = whole if statistic == "sum" else v.is_in([0.0, 1.0]).all()
    of_rows = rows.group_by(by).agg(
        stat.alias(column), pl.len().cast(pl.Int64).alias("rows"), countlike.alias("countlike")
    )
    joined = _indexed(of_persons.join(of_rows, on=by, how="left", nulls_equal=True), by)
    # a percentile that is one of the values it is taken of is that person's value
    exact = (
        rows.join(joined.select(ROW, *by, column), on=by, nulls_equal=True)
        .group_by(ROW)
        .agg((pl.col(value) == pl.col(column)).any().alias("exact"))
    )
    joined = joined.join(exact, on=ROW, how="left").with_columns(pl.col("exact").fill_null(False))
    if statistic in ("sum", "mean"):
        joined = joined.with_columns(pl.lit(False).alias("exact"))
    else:
        joined = joined.with_columns(pl.lit(False).alias("countlike"))
    base = ("rows", "countlike", "exact")
    count_cells = joined.select(
        ROW,
        pl.lit(PERSONS).alias("column"),
        pl.lit(COUNT).alias("statistic"),
        PERSONS,
        pl.col(PERSONS).cast(pl.Float64).alias("total"),
        pl.lit(1.0).alias("largest"),
        (pl.col(PERSONS) > 1).cast(pl.Float64).alias("second"),
        pl.col(PERSONS).alias("rows"),
        pl.lit(True).alias("countlike"),
        pl.lit(False).alias("exact"),
    )
    value_cells = joined.select(
        ROW,
        pl.lit(column).alias("column"),
        pl.lit(statistic).alias("statistic"),
        PERSONS,
        "total",
        "largest",
        "second",
        *base,
    )
    return Tabulated(
        joined.select(*by, PERSONS, column),
        pl.concat([count_cells, value_cells]).sort(ROW, "column"),
        _label_persons(rows, by, person),
        _members(rows, joined, by, person),
        constant=rows.height > 1 and rows[value].n_unique() == 1,
    )


def fit(
    frame: pl.LazyFrame | pl.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    model: str = "ols",
    person: str = PERSON_ID,
) -> Fitted:
    """OLS or logit of `outcome` on `predictors` (text columns as dummies, the first level left
    out) with an intercept, over the rows where none is missing: estimates, standard errors,
    and what the checks need."""
    if model not in MODELS:
        raise ValueError(f"model {model!r}: expected one of {', '.join(MODELS)}")
    predictors = list(predictors)
    if not predictors:
        raise ValueError("a model needs at least one predictor")
    data = model_rows(frame, outcome, predictors, person).collect()
    text = [p for p in predictors if data.schema[p] in (pl.String, pl.Categorical, pl.Boolean)]
    design = data.select(pl.exclude(text)).drop(person, outcome)
    if text:
        dummies = data.select(pl.col(text).cast(pl.String)).to_dummies(drop_first=True)
        design = pl.concat([design, dummies.cast(pl.Float64)], how="horizontal")
    names = [INTERCEPT, *design.columns]
    x = np.column_stack([np.ones(data.height), design.cast(pl.Float64).to_numpy()])
    y = data[outcome].cast(pl.Float64).to_numpy()
    if model == "ols":
        coefficients, errors = _ols(x, y)
    else:
        coefficients, errors = _logit(x, y)
    persons = data[person].n_unique()
    minority = _minority(data.select(person), design, person)
    table = pl.DataFrame(
        {"parameter": names, "estimate": coefficients, "std_error": errors},
        schema={"parameter": pl.String, "estimate": pl.Float64, "std_error": pl.Float64},
    )
    return Fitted(table, persons, data.height - len(names), minority)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    dof = max(x.shape[0] - x.shape[1], 1)
    residuals = y - x @ coefficients
    variance = float(residuals @ residuals) / dof
    covariance = variance * np.linalg.pinv(x.T @ x)
    return coefficients.tolist(), np.sqrt(np.abs(np.diag(covariance))).tolist()


def _logit(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """Newton-Raphson on the log-likelihood (iteratively reweighted least squares)."""
    beta = np.zeros(x.shape[1])
    information = np.eye(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ beta)))
        weights = p * (1 - p)
        information = x.T @ (x * weights[:, None])
        step = np.linalg.pinv(information) @ (x.T @ (y - p))
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    errors = np.sqrt(np.abs(np.diag(np.linalg.pinv(information))))
    return beta.tolist(), errors.tolist()


def _minority(people: pl.DataFrame, design: pl.DataFrame, person: str) -> dict[str, int]:
    """Per design column, the persons on its less common side: those whose value is not its
    most common one, or those who have it, whichever are fewer. A predictor that singles out a
    few persons (a dummy per person) makes their coefficients their values."""
    if design.is_empty():
        return {}
    long = pl.concat([people, design.cast(pl.Float64)], how="horizontal").unpivot(
        index=person, variable_name="column", value_name="value"
    )
    per_value = long.group_by("column", "value").agg(pl.col(person).n_unique().alias("held"))
    commonest = per_value.sort("held", descending=True).group_by("column").first()
    tagged = long.join(commonest.select("column", pl.col("value").alias("common")), on="column")
    sides = tagged.group_by("column").agg(
        pl.col(person).filter(pl.col("value") != pl.col("common")).n_unique().alias("other"),
        pl.col(person).filter(pl.col("value") == pl.col("common")).n_unique().alias("common"),
    )
    return {
        row["column"]: int(min(row["other"], row["common"])) for row in sides.iter_rows(named=True)
    }
