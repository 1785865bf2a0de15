"""Tables, models and plots that may leave the premises: the code asks, rex computes.

The researchers' code declares its outputs with these functions, at home on the sample release
and on premise on the whole population alike:

    month = pl.scan_parquet(release / "month.parquet")        # a lazy query, not a frame
    by_sex = outputs.count_table(month, ["sex"])               # declared, and computed here
    outputs.save_table(by_sex, "persons_by_sex")

Each function takes a polars lazy query over the release's panels (`pl.scan_parquet`) and
returns a `Declared`: the table computed here, in the code's own process (`.table`, for the
code to use), and the declaration (the query as polars serialises it, and what to make of it).
`save_*` writes the declaration into the output folder (`REX_OUTPUT`; at home `outputs/`), in a
hidden folder rex reads and that never leaves.

At home, `save_*` also writes the table the code computed, so the code runs as it will on
premise and its author sees the result; it says so on the terminal. On premise (`REX_ONPREM`),
nothing the code computes leaves: rex checks the declared query (no Python, no data of the
code's own, only the workspace's panels), runs it on its own side of the sandbox, makes the
table, the estimates or the plot itself (with the same functions, `researcher.tables`) and
checks what it made. rex also runs the query on parts of the workspace and refuses it if a
person's rows are made of other persons' data (a cross join, a value broadcast to every row, a
shift across persons): work per person (`group_by("person_id")`, `over("person_id")`, joins
on `person_id`) and let the declared table aggregate. A file the code writes itself
(`save_figure`, or any other) is unchecked: only a reviewer may let it out.

Why not ACRO (the SACRO project's `acro`): its checks run in the researcher's process, on
numbers that process computed, so hostile code can forge them; and it wraps pandas and
statsmodels where rex's panels are polars. Its rules and thresholds are kept: rex's defaults
are ACRO's (10 persons, (2, 0.9) dominance, p-ratio 0.1, zeros disclosive).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from researcher import tables
from researcher.tables import COUNT, PERSON_ID, PERSONS, STATISTICS

__all__ = [
    "COUNT",
    "PERSON_ID",
    "PERSONS",
    "STATISTICS",
    "Declared",
    "count_table",
    "line_plot",
    "magnitude_table",
    "model",
    "save_figure",
    "save_plot",
    "save_table",
]

# The folder, inside the output folder, that holds the declarations (never released).
REQUESTS = ".rex-requests"
OUTPUT_VARIABLE = "REX_OUTPUT"
ONPREM_VARIABLE = "REX_ONPREM"
FORMAT = 1
# an output's name: what a file name may be made of (rex refers to outputs by number anyway)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# axis titles of a plot rex draws: short plain text
TITLE = re.compile(r"[A-Za-z0-9 .,:;()%/_'+-]{0,60}")


@dataclass(frozen=True)
class Declared:
    """An output the code asked for: `table` as computed here, `request` as rex receives it."""

    table: pl.DataFrame
    request: dict[str, Any] = field(repr=False)


def on_premise() -> bool:
    return bool(os.environ.get(ONPREM_VARIABLE))


def output_folder() -> Path:
    """Where outputs go: the run's folder on premise (REX_OUTPUT), `outputs/` at home."""
    folder = Path(os.environ.get(OUTPUT_VARIABLE, "outputs"))
    (folder / REQUESTS).mkdir(parents=True, exist_ok=True)
    return folder


def plan_of(frame: pl.LazyFrame) -> str:
    """The query as polars serialises it (JSON), which rex checks and runs again."""
    if not isinstance(frame, pl.LazyFrame):
        raise TypeError(
            "declare outputs over a lazy query of the release's panels (pl.scan_parquet(...)), "
            f"not a {type(frame).__name__}: on premise rex runs the query itself"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # polars calls its JSON plans deprecated; rex reads them
        return frame.serialize(format="json")


def count_table(
    frame: pl.LazyFrame,
    by: Sequence[str],
    person: str = PERSON_ID,
    levels: Mapping[str, Sequence[Any]] | None = None,
    name: str = PERSONS,
) -> Declared:
    """Persons per combination of `by` (each person once per cell); with `levels`, every
    combination of the levels given, zeros included."""
    request = {
        "kind": "table",
        "statistic": COUNT,
        "by": list(by),
        "person": person,
        "levels": {k: list(v) for k, v in (levels or {}).items()} or None,
        "name": name,
        "plan": plan_of(frame),
    }
    return Declared(computed_table(frame, request), request)


def magnitude_table(
    frame: pl.LazyFrame,
    by: Sequence[str],
    value: str,
    statistic: str = "mean",
    person: str = PERSON_ID,
) -> Declared:
    """Per combination of `by`, the persons with a value and the `statistic` of `value` over
    the rows (sum, mean, median or p10 .. p90)."""
    tables.declared_statistic(statistic)
    request = {
        "kind": "table",
        "statistic": statistic,
        "by": list(by),
        "value": value,
        "person": person,
        "plan": plan_of(frame),
    }
    return Declared(computed_table(frame, request), request)


def model(
    frame: pl.LazyFrame,
    outcome: str,
    predictors: Sequence[str],
    kind: str = "ols",
    person: str = PERSON_ID,
) -> Declared:
    """A model's estimates (OLS or logit, with an intercept; text predictors as dummies): one
    row per parameter with its estimate and standard error."""
    request = {
        "kind": "estimates",
        "model": kind,
        "outcome": outcome,
        "predictors": list(predictors),
        "person": person,
        "plan": plan_of(frame),
    }
    return Declared(tables.fit(frame, outcome, predictors, kind, person).table, request)


def line_plot(
    table: Declared,
    x: str,
    y: str,
    by: str | None = None,
    share: bool = False,
    xlabel: str = "",
    ylabel: str = "",
) -> Declared:
    """A line plot of a declared table, which rex draws on premise from the table as it may
    leave (suppressed cells are gaps): `y` against `x`, a line per value of `by`; with `share`,
    `y` as a share of its sum over the same `x`."""
    for title in (xlabel, ylabel):
        if not TITLE.fullmatch(title):
            raise ValueError(f"axis title {title!r}: plain text of at most 60 characters")
    request = {
        "kind": "plot",
        "table": table.request,
        "x": x,
        "y": y,
        "by": by,
        "share": share,
        "xlabel": xlabel,
        "ylabel": ylabel,
    }
    return Declared(table.table, request)


def computed_table(frame: pl.LazyFrame | pl.DataFrame, request: Mapping[str, Any]) -> pl.DataFrame:
    statistic = request["statistic"]
    return tables.tabulate(
        frame,
        request["by"],
        statistic,
        request.get("value"),
        request["person"],
        request.get("levels"),
        request.get("name", PERSONS),
    ).table


def save_table(declared: Declared, name: str) -> Path:
    """Declare the table as the output `<name>.csv` (the estimates of a model too)."""
    return _save(declared, name, ".csv", ("table", "estimates"))


def save_plot(declared: Declared, name: str) -> Path:
    """Declare the plot as the output `<name>.png`, which rex draws."""
    return _save(declared, name, ".png", ("plot",))


def save_figure(figure: Any, name: str) -> Path:
    """Save a figure of the code's own drawing as `<name>.png`. rex cannot check it: on
    premise it leaves only if a reviewer lets it out."""
    path = output_folder() / f"{_name(name)}.png"
    figure.savefig(path, dpi=100, metadata={"Software": None})
    return path


def _name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError(
            f"output name {name!r}: letters, digits, '_' and '-', at most 64, starting with a "
            "letter or digit"
        )
    return name


def _save(declared: Declared, name: str, suffix: str, kinds: tuple[str, ...]) -> Path:
    if declared.request["kind"] not in kinds:
        raise TypeError(f"a {declared.request['kind']} is not saved as {suffix}")
    folder = output_folder()
    path = folder / f"{_name(name)}{suffix}"
    request = {"format": FORMAT, "output": path.name, **declared.request}
    (folder / REQUESTS / f"{path.name}.json").write_text(json.dumps(request) + "\n")
    if on_premise():
        return path
    # at home: the code's own result, to look at; on premise rex makes this file itself
    if suffix == ".csv":
        declared.table.write_csv(path)
    else:
        from researcher import drawing

        drawing.draw(declared.table, declared.request).savefig(path, dpi=100)
    print(f"{path}: computed at home on the sample; on premise rex computes it and checks it")
    return path
