"""Indicators of the incapacity barometer, as functions of a release's panels.

Written against the researcher sample of 18/088 (event dates as months `YYYY-MM`, amounts as class
labels, nationality scrambled) and run unchanged on the exact on-premise panels (dates as dates,
amounts in euro). Where a column holds the exact value, the functions use it exactly; where it
holds the protected one, they do what a researcher can do with it. The barometer notebook calls
them on the sample, and, to show what the protections cost, on the exact panels of the same
persons.

Every function takes polars frames, eager or lazy (a query rex can run again on premise,
`scan_release`), and returns one of the same kind or a number; only `load_release` and
`scan_release` read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

DAYS_PER_MONTH = 365.25 / 12
AGE_EDGES = (25, 35, 45, 55)
AGE_GROUPS = ("<25", "25-34", "35-44", "45-54", "55+")
SEXES = ("F", "M")
STATES = ("employment", "unemployment", "incapacity", "other")
WINDOW = 12  # months before and after entering incapacity
BELGIUM = "150"

MONTH_COLUMNS = (
    "person_id",
    "month",
    "socio_economic_position",
    "unemployment_category",
    "incapacity_phase",
    "incapacity_start",
    "incapacity_end",
    "incapacity_daily_benefit",
)
QUARTER_COLUMNS = ("person_id", "quarter", "birth_date", "sex", "nationality")


# --- reading a release -------------------------------------------------------------------------


Frame = pl.DataFrame | pl.LazyFrame
# one kind of frame through a function: eager in, eager out; lazy in, lazy out
F = TypeVar("F", pl.DataFrame, pl.LazyFrame)


@dataclass(frozen=True)
class Release:
    """The panels the barometer reads, and the release's manifest."""

    folder: Path
    manifest: dict[str, Any]
    month: Any  # pl.DataFrame, or pl.LazyFrame from scan_release
    quarter: Any

    @property
    def protections(self) -> dict[str, str]:
        return dict(self.manifest["protections"])


def load_release(folder: Path, persons: pl.Series | None = None) -> Release:
    """The month and quarter panels of a release (only the columns used), for `persons` if given."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    month = pl.scan_parquet(folder / "month.parquet").select(MONTH_COLUMNS)
    quarter = pl.scan_parquet(folder / "quarter.parquet").select(QUARTER_COLUMNS)
    if persons is not None:
        month = month.filter(pl.col("person_id").is_in(persons))
        quarter = quarter.filter(pl.col("person_id").is_in(persons))
    return Release(folder, manifest, month.collect(), quarter.collect())


def scan_release(folder: Path) -> Release:
    """The month and quarter panels of a release as lazy queries (only the columns used): what
    rex's researcher API declares, so that rex can run the query again on premise."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    month = pl.scan_parquet(folder / "month.parquet").select(MONTH_COLUMNS)
    quarter = pl.scan_parquet(folder / "quarter.parquet").select(QUARTER_COLUMNS)
    return Release(folder, manifest, month, quarter)


def _collected(frame: Frame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def sample_persons(onprem: Path) -> pl.Series:
    """The person_ids of an on-premise build that the sample drew (its `in_sample` mark): the
    same persons as the sample's, under the build's own pseudonyms."""
    mark = pl.read_parquet(Path(onprem) / "persons.parquet")
    return mark.filter(pl.col("in_sample"))["person_id"]


# --- dates and months --------------------------------------------------------------------------


def is_exact_date(frame: Frame, column: str) -> bool:
    """True where the column holds dates, False where it holds months (text YYYY-MM)."""
    return frame.collect_schema()[column] == pl.Date


def month_number(frame: Frame, column: str) -> pl.Expr:
    """Months since year 0 (year * 12 + month - 1), from a date or a YYYY-MM month."""
    col = pl.col(column)
    if is_exact_date(frame, column):
        return (col.dt.year().cast(pl.Int32) * 12 + col.dt.month().cast(pl.Int32) - 1).alias(column)
    year = col.str.slice(0, 4).cast(pl.Int32)
    return (year * 12 + col.str.slice(5, 2).cast(pl.Int32) - 1).alias(column)


def age_in_years(frame: Frame, birth: str, at: str) -> pl.Expr:
    """Completed years of age at the date `at`.

    With exact dates this is the usual age. With months it is the difference of the months in
    whole years: right, except when `at` falls in the birthday month before the birthday, where
    it is one year too high."""
    if is_exact_date(frame, birth) and is_exact_date(frame, at):
        b, a = pl.col(birth), pl.col(at)
        before_birthday = (a.dt.month().cast(pl.Int32) * 100 + a.dt.day().cast(pl.Int32)) < (
            b.dt.month().cast(pl.Int32) * 100 + b.dt.day().cast(pl.Int32)
        )
        years = a.dt.year().cast(pl.Int32) - b.dt.year().cast(pl.Int32)
        return years - before_birthday.cast(pl.Int32)
    return (month_number(frame, at) - month_number(frame, birth)) // 12


def months_between(frame: Frame, start: str, end: str) -> pl.Expr:
    """Duration from `start` to `end` in months.

    Exact dates: days / 30.44. Months: the number of months from the start month to the end
    month, which is right on average (a start or end day falls anywhere in its month) but off by
    up to a month for a single episode."""
    if is_exact_date(frame, start) and is_exact_date(frame, end):
        days = (pl.col(end) - pl.col(start)).dt.total_days()
        return days.cast(pl.Float64) / DAYS_PER_MONTH
    return (month_number(frame, end) - month_number(frame, start)).cast(pl.Float64)


def last_day_of(month: str) -> pl.Expr:
    """The last day of a month YYYY-MM, as a date literal."""
    year, number = int(month[:4]), int(month[5:7])
    first_of_next = pl.date(year + number // 12, number % 12 + 1, 1)
    return first_of_next - pl.duration(days=1)


# --- persons and episodes ----------------------------------------------------------------------


def persons(quarter: F) -> F:
    """One row per person: sex, birth date and the nationality of their last quarter."""
    return (
        quarter.sort("person_id", "quarter")
        .group_by("person_id")
        .agg(pl.col("sex").last(), pl.col("birth_date").last(), pl.col("nationality").last())
        .sort("person_id")
    )


def age_group(age: pl.Expr) -> pl.Expr:
    return age.cut(list(AGE_EDGES), labels=list(AGE_GROUPS), left_closed=True).cast(pl.String)


def episodes(month: F, people: F) -> F:
    """One row per incapacity episode seen in the month panel.

    An episode is a person's run of incapacity from the start of its primary incapacity to the
    end of its last phase; every month-end it runs through carries its start and end. Columns:
    person, sex, start, end, start_month (number), start_year, age and age group at the start,
    reached_invalidity, benefit in its first month, ended, and time_months: the duration when it
    ended, else the time it was followed until the end of the panel (censored)."""
    last_month = _collected(month.select(pl.col("month").max())).item()
    rows = month.filter(pl.col("incapacity_start").is_not_null()).sort("person_id", "month")
    grouped = rows.group_by("person_id", "incapacity_start").agg(
        pl.col("incapacity_end").first().alias("end"),
        (pl.col("incapacity_phase") == "invalidity").any().alias("reached_invalidity"),
        pl.col("incapacity_daily_benefit").first().alias("entry_benefit"),
    )
    frame = grouped.rename({"incapacity_start": "start"}).join(people, on="person_id", how="left")
    # censoring: an episode still open is followed until the last day of the panel
    period_end: pl.Expr
    if is_exact_date(frame, "start"):
        period_end = last_day_of(str(last_month))
    else:
        period_end = pl.lit(last_month)
    frame = frame.with_columns(period_end.alias("period_end"))
    frame = frame.with_columns(
        month_number(frame, "start").alias("start_month"),
        age_in_years(frame, "birth_date", "start").alias("age"),
        pl.col("end").is_not_null().alias("ended"),
        pl.when(pl.col("end").is_not_null())
        .then(months_between(frame, "start", "end"))
        .otherwise(months_between(frame, "start", "period_end"))
        .alias("time_months"),
    )
    return (
        frame.with_columns(
            (pl.col("start_month") // 12).alias("start_year"),
            age_group(pl.col("age")).alias("age_group"),
        )
        .select(
            "person_id",
            "sex",
            "start",
            "end",
            "start_month",
            "start_year",
            "age",
            "age_group",
            "reached_invalidity",
            "entry_benefit",
            "ended",
            "time_months",
        )
        .sort("person_id", "start_month")
    )


# --- inflow ------------------------------------------------------------------------------------


def inflow(episodes: pl.DataFrame, first_year: int, last_year: int) -> pl.DataFrame:
    """Entries into incapacity per year of start, sex and age group (every cell, zeros included)."""
    counts = (
        episodes.filter(pl.col("start_year").is_between(first_year, last_year))
        .group_by(pl.col("start_year").alias("year"), "sex", "age_group")
        .agg(pl.len().cast(pl.Int64).alias("entries"))
    )
    grid = (
        pl.DataFrame({"year": list(range(first_year, last_year + 1))}, schema={"year": pl.Int32})
        .join(pl.DataFrame({"sex": list(SEXES)}), how="cross")
        .join(pl.DataFrame({"age_group": list(AGE_GROUPS)}), how="cross")
    )
    counts = counts.with_columns(pl.col("year").cast(pl.Int32))
    return (
        grid.join(counts, on=["year", "sex", "age_group"], how="left")
        .with_columns(pl.col("entries").fill_null(0))
        .sort("year", "sex", "age_group")
    )


# --- invalidity --------------------------------------------------------------------------------


def on_31_december(month: F, people: F) -> F:
    """Each person alive on 31 December of a year, with their sex and whether they were in
    invalidity (`invalid`) that day."""
    return (
        month.filter(pl.col("month").str.ends_with("-12"))
        .join(people.select("person_id", "sex"), on="person_id", how="left")
        .with_columns(
            pl.col("month").str.slice(0, 4).cast(pl.Int32).alias("year"),
            (pl.col("incapacity_phase") == "invalidity").fill_null(False).alias("invalid"),
        )
    )


def invalidity_share(month: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Share of the persons of the release in invalidity on 31 December, per year and sex.

    Rows with sex "all" hold both sexes together. Only persons alive on that day count."""
    december = on_31_december(month, people)

    def share(by: list[str]) -> pl.DataFrame:
        return december.group_by(by).agg(
            pl.len().cast(pl.Int64).alias("persons"),
            pl.col("invalid").sum().cast(pl.Int64).alias("in_invalidity"),
        )

    both = share(["year"]).with_columns(pl.lit("all").alias("sex"))
    return (
        pl.concat([share(["year", "sex"]), both.select("year", "sex", "persons", "in_invalidity")])
        .with_columns((pl.col("in_invalidity") / pl.col("persons")).alias("share"))
        .sort("year", "sex")
    )


# --- durations ---------------------------------------------------------------------------------


def survival(episodes: pl.DataFrame) -> pl.DataFrame:
    """Kaplan-Meier estimate of the share of episodes still running after `months`.

    Each episode counts with `time_months`: an event where it ended, censored where it was still
    running at the end of the panel. One row per distinct time, `surviving` just after it."""
    by_time = (
        episodes.group_by(pl.col("time_months").alias("months"))
        .agg(pl.col("ended").sum().cast(pl.Int64).alias("ended"), pl.len().alias("episodes"))
        .sort("months")
    )
    return (
        by_time.with_columns(
            pl.col("episodes").reverse().cum_sum().reverse().cast(pl.Int64).alias("at_risk")
        )
        .with_columns((1 - pl.col("ended") / pl.col("at_risk")).cum_prod().alias("surviving"))
        .select("months", "at_risk", "ended", "surviving")
    )


def still_running_after(curve: pl.DataFrame, months: float) -> float:
    """Share of episodes lasting longer than `months`, from a survival curve.

    An episode lasting exactly `months` counts half: with durations in whole months (the
    sample), those are the episodes that may have lasted just under or just over; with exact
    durations there are (almost) none."""
    after = curve.filter(pl.col("months") <= months)["surviving"].to_list()
    before = curve.filter(pl.col("months") < months)["surviving"].to_list()
    s_at = after[-1] if after else 1.0
    s_before = before[-1] if before else 1.0
    return float((s_at + s_before) / 2)


def median_duration(curve: pl.DataFrame) -> float | None:
    """The first time at which half the episodes or more have ended (None if never)."""
    reached = curve.filter(pl.col("surviving") <= 0.5)["months"].to_list()
    return float(reached[0]) if reached else None


# --- trajectories ------------------------------------------------------------------------------


def state(month: Frame) -> pl.Expr:
    """The situation on the last day of the month, in four states.

    Incapacity when an incapacity benefit runs (also a limited one beside work), else employment
    or unemployment by the first digit of the socio-economic position (1 working, 2 job-seeking)
    or an unemployment benefit, else other (inactive, retired, ...)."""
    position = pl.col("socio_economic_position")
    return (
        pl.when(pl.col("incapacity_phase").is_not_null())
        .then(pl.lit("incapacity"))
        .when(position.str.starts_with("1"))
        .then(pl.lit("employment"))
        .when(position.str.starts_with("2") | pl.col("unemployment_category").is_not_null())
        .then(pl.lit("unemployment"))
        .otherwise(pl.lit("other"))
        .alias("state")
    )


def situations_around_entry(month: F, episodes: F, window: int = WINDOW) -> F:
    """One row per entry into incapacity and month around it: the person, the entry, the
    `offset` from its start month (-window .. window) and the state in that month.

    Every episode whose start month leaves `window` months of panel on both sides counts."""
    numbers = month_number(month, "month")
    bounds = _collected(
        month.select(numbers.min().alias("first"), numbers.max().alias("last"))
    ).row(0)
    entries = episodes.filter(
        pl.col("start_month").is_between(bounds[0] + window, bounds[1] - window)
    ).select("person_id", "start_month", pl.int_range(pl.len()).alias("entry"))
    situations = month.select(
        "person_id", month_number(month, "month").alias("month_number"), state(month)
    )
    return (
        entries.join(situations, on="person_id")
        .with_columns((pl.col("month_number") - pl.col("start_month")).alias("offset"))
        .filter(pl.col("offset").abs() <= window)
    )


def trajectories(month: pl.DataFrame, episodes: pl.DataFrame, window: int = WINDOW) -> pl.DataFrame:
    """Share of each state `offset` months before (negative) or after entering incapacity.

    Every episode whose start month leaves `window` months of panel on both sides counts; month 0
    is the month it starts. Shares are over the entries observed in that month (a person who
    died has no more months)."""
    around = situations_around_entry(month, episodes, window)
    counts = around.group_by("offset", "state").agg(pl.len().alias("entries"))
    grid = pl.DataFrame(
        {"offset": list(range(-window, window + 1))}, schema={"offset": pl.Int32}
    ).join(pl.DataFrame({"state": list(STATES)}), how="cross")
    counts = counts.with_columns(pl.col("offset").cast(pl.Int32))
    observed = pl.col("entries").sum().over("offset")
    return (
        grid.join(counts, on=["offset", "state"], how="left")
        .with_columns(pl.col("entries").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("entries") / observed).fill_nan(None).alias("share"))
        .sort("offset", "state")
    )


# --- amounts -----------------------------------------------------------------------------------

_CLASS = re.compile(
    r"^(?:<(?P<below>[\d.]+)|\[(?P<low>[\d.]+),(?P<high>[\d.]+)\)|>=(?P<above>[\d.]+))$"
)


def class_bounds(label: str) -> tuple[float | None, float | None]:
    """(lower, upper) bounds of a class label: `<40`, `[40,50)` or `>=80`; None where open."""
    match = _CLASS.match(label)
    if match is None:
        raise ValueError(f"not a class label: {label!r}")
    if match["below"]:
        return None, float(match["below"])
    if match["above"]:
        return float(match["above"]), None
    return float(match["low"]), float(match["high"])


def class_midpoints(labels: list[str]) -> dict[str, float]:
    """A value for each class: its middle; an open class lies half the width of its neighbour
    beyond its bound (`<40` next to `[40,50)` becomes 35)."""
    bounds = {label: class_bounds(label) for label in labels}
    closed = sorted((lo, hi) for lo, hi in bounds.values() if lo is not None and hi is not None)
    if not closed:
        raise ValueError("open classes need a closed neighbour to be given a value")
    first_width = closed[0][1] - closed[0][0]
    last_width = closed[-1][1] - closed[-1][0]
    values = {}
    for label, (lo, hi) in bounds.items():
        if lo is None and hi is not None:
            values[label] = hi - first_width / 2
        elif hi is None and lo is not None:
            values[label] = lo + last_width / 2
        elif lo is not None and hi is not None:
            values[label] = (lo + hi) / 2
    return values


def amount_values(frame: Frame, column: str) -> pl.Expr:
    """Amounts in euro: the exact value, or the class midpoint where amounts are classes."""
    if frame.collect_schema()[column] != pl.String:
        return pl.col(column).cast(pl.Float64)
    labels = _collected(frame.select(pl.col(column).drop_nulls().unique()))[column].to_list()
    if not labels:
        return pl.col(column).cast(pl.Float64)
    midpoints = class_midpoints(labels)
    return pl.col(column).replace_strict(midpoints, return_dtype=pl.Float64, default=None)


def share_below(frame: pl.DataFrame, column: str, threshold: float) -> float | None:
    """Share of the non-null amounts below `threshold`; with classes, only if it is a class edge."""
    values = frame[column].drop_nulls()
    if values.len() == 0:
        return None
    if frame.schema[column] != pl.String:
        return _mean(values < threshold)
    below = []
    for label in values.to_list():
        lo, hi = class_bounds(label)
        if hi is not None and hi <= threshold:
            below.append(True)
        elif lo is not None and lo >= threshold:
            below.append(False)
        else:
            raise ValueError(f"{threshold} is not a class edge: {label} straddles it")
    return sum(below) / len(below)


# --- nationality -------------------------------------------------------------------------------


def invalidity_by_nationality(month: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Per nationality group (Belgian or not, last quarter), the persons and the share of them
    in invalidity at some month-end of the panel."""
    ever = month.group_by("person_id").agg(
        (pl.col("incapacity_phase") == "invalidity").any().alias("invalidity")
    )
    return (
        people.join(ever, on="person_id", how="left")
        .with_columns(
            pl.when(pl.col("nationality") == BELGIUM)
            .then(pl.lit("Belgian"))
            .otherwise(pl.lit("other"))
            .alias("nationality_group")
        )
        .group_by("nationality_group")
        .agg(pl.len().alias("persons"), pl.col("invalidity").mean().alias("share_invalidity"))
        .sort("nationality_group")
    )


# --- everything at once, and the utility comparison --------------------------------------------


@dataclass(frozen=True)
class Indicators:
    """Every indicator of the barometer, computed on one release."""

    people: pl.DataFrame
    episodes: pl.DataFrame
    inflow: pl.DataFrame
    invalidity: pl.DataFrame
    survival: pl.DataFrame
    trajectories: pl.DataFrame
    nationality: pl.DataFrame


def indicators(release: Release) -> Indicators:
    months = release.month["month"].to_list()
    first_year, last_year = int(min(months)[:4]), int(max(months)[:4])
    people = persons(release.quarter)
    eps = episodes(release.month, people)
    in_period = eps.filter(pl.col("start_year").is_between(first_year, last_year))
    return Indicators(
        people=people,
        episodes=eps,
        inflow=inflow(eps, first_year, last_year),
        invalidity=invalidity_share(release.month, people),
        survival=survival(in_period),
        trajectories=trajectories(release.month, eps),
        nationality=invalidity_by_nationality(release.month, people),
    )


def _share_at(trajectory: pl.DataFrame, offset: int, state_name: str) -> float | None:
    value = trajectory.filter((pl.col("offset") == offset) & (pl.col("state") == state_name))[
        "share"
    ]
    return None if value.len() == 0 or value[0] is None else float(value[0])


def _mean(values: pl.Series) -> float | None:
    present = values.drop_nulls().cast(pl.Float64).to_list()
    return sum(present) / len(present) if present else None


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


def headline(found: Indicators) -> dict[str, float | None]:
    """The figures the utility table compares, named as they appear there."""
    figures: dict[str, float | None] = {}
    inflow_ = found.inflow
    years = inflow_["year"].to_list()
    first_year, last_year = min(years), max(years)
    span = f"{first_year}-{last_year}"
    figures[f"inflow {span}: entries"] = float(inflow_["entries"].sum())
    for group in AGE_GROUPS:
        cell = inflow_.filter(pl.col("age_group") == group)["entries"].sum()
        figures[f"inflow {span}: entries aged {group}"] = float(cell)
    for sex in SEXES:
        cell = inflow_.filter(pl.col("sex") == sex)["entries"].sum()
        figures[f"inflow {span}: entries, sex {sex}"] = float(cell)
    everyone = found.invalidity.filter(pl.col("sex") == "all").sort("year")
    if everyone.height:
        last = everyone.row(-1, named=True)
        figures[f"in invalidity on 31 Dec {last['year']} (%)"] = 100 * last["share"]
        figures["in invalidity on 31 Dec, mean over years (%)"] = _percent(_mean(everyone["share"]))
    eps = found.episodes.filter(pl.col("start_year").is_between(first_year, last_year))
    completed = eps.filter(pl.col("ended"))
    figures["episodes: mean duration of ended episodes (months)"] = _mean(completed["time_months"])
    figures["episodes: median duration, Kaplan-Meier (months)"] = median_duration(found.survival)
    for months in (1, 3, 6, 12, 24):
        figures[f"episodes: still running after {months} months (%)"] = 100 * still_running_after(
            found.survival, months
        )
    figures["episodes: reaching invalidity (%)"] = _percent(_mean(eps["reached_invalidity"]))
    for offset, state_name in (
        (-WINDOW, "employment"),
        (-1, "employment"),
        (-1, "unemployment"),
        (WINDOW, "incapacity"),
        (WINDOW, "employment"),
    ):
        share = _share_at(found.trajectories, offset, state_name)
        figures[f"trajectory: {state_name} at month {offset:+d} (%)"] = _percent(share)
    benefits = eps.with_columns(amount_values(eps, "entry_benefit").alias("euro"))
    figures["first-month daily incapacity benefit: mean (euro)"] = _mean(benefits["euro"])
    below = share_below(eps, "entry_benefit", 50)
    figures["first-month daily incapacity benefit: below 50 euro (%)"] = _percent(below)
    nationality = {r["nationality_group"]: r for r in found.nationality.iter_rows(named=True)}
    total = sum(r["persons"] for r in nationality.values())
    if total:
        others = nationality["other"]["persons"] if "other" in nationality else 0
        figures["persons not Belgian (%)"] = 100 * others / total
    for group in ("Belgian", "other"):
        if group in nationality:
            figures[f"ever in invalidity, nationality {group} (%)"] = (
                100 * nationality[group]["share_invalidity"]
            )
    return figures


def largest_differences(protected: Indicators, exact: Indicators) -> pl.DataFrame:
    """Over the tables with many cells: how many cells differ and the largest difference."""
    rows = []
    for table, keys, value, unit in (
        ("inflow", ["year", "sex", "age_group"], "entries", "entries"),
        ("invalidity", ["year", "sex"], "share", "points"),
        ("trajectories", ["offset", "state"], "share", "points"),
    ):
        ours, theirs = getattr(protected, table), getattr(exact, table)
        joined = ours.join(theirs, on=keys, how="full", coalesce=True, suffix="_exact")
        diff = (joined[value] - joined[f"{value}_exact"]).abs()
        scale = 100.0 if unit == "points" else 1.0
        rows.append(
            {
                "table": f"{table} ({' x '.join(keys)})",
                "cells": joined.height,
                "cells_that_differ": int((diff > 1e-12).sum()),
                "largest_difference": scale * max(diff.drop_nulls().to_list(), default=0.0),
                "unit": unit,
            }
        )
    return pl.DataFrame(rows)


def utility(protected: Indicators, exact: Indicators) -> pl.DataFrame:
    """Indicator, protected value, exact value, difference (protected - exact)."""
    ours, theirs = headline(protected), headline(exact)
    rows = [
        {"indicator": name, "protected": ours.get(name), "exact": theirs.get(name)}
        for name in dict.fromkeys([*ours, *theirs])
    ]
    return pl.DataFrame(
        rows, schema={"indicator": pl.String, "protected": pl.Float64, "exact": pl.Float64}
    ).with_columns((pl.col("protected") - pl.col("exact")).alias("difference"))
