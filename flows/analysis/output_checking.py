"""Checking an analysis run's outputs with numbers rex computed itself, before any may leave.

The code in the sandbox declares its outputs through rex's researcher API (`researcher.outputs`):
a lazy query over the workspace's panels and what to make of it. Nothing it computed is read.
For each declaration rex checks the query (transforms.plans: no Python, no data of the code's
own, only the workspace's panels), runs it on the workspace itself, and makes the output with
the same functions the API uses (researcher.tables, researcher.drawing):

- a table: its cells against the spec's `output_checks` (transforms.output_checks), its labels
  (transforms.labels), and every cell against the cells released from the workspace before and
  in this run (transforms.ledger); a table whose cells are persons is person-level;
- a model's estimates: OLS or logit fitted by rex, which needs the threshold of persons and of
  residual degrees of freedom it measured, and of persons on each side of every predictor;
- a plot: drawn by rex from its table as that table may leave.

Any other file the code wrote (its own figure, a CSV, anything) is unchecked: it never leaves
on the automatic checks. Every output, computed or written, is then scanned for the
workspace's persons (transforms.identifiers): a match makes it person-level, never released.

Outputs are numbered in the order of their names; reasons, the report and the log refer to an
output by its number and sha256 and never quote a name or a value the code chose.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import polars as pl

from flows.analysis.sandbox import WORKSPACE as WORKSPACE_AT
from flows.release.files import sha256_file
from researcher import drawing, tables
from researcher.outputs import FORMAT, REQUESTS
from specs.modes import OutputChecks
from transforms import identifiers, labels, ledger, output_checks, person_level, plans
from transforms.output_checks import CellOutcome

RELEASED = "released"
RELEASED_CHANGED = "released with cells suppressed or rounded"
WITHHELD = "withheld"
TABULAR = frozenset({".csv", ".tsv", ".parquet"})
# a declaration is a small JSON document; anything larger is not one
REQUEST_BYTES = 4 << 20


@dataclass(frozen=True)
class Persons:
    """What the scans look for of the workspace's persons: their pseudonyms and birth dates."""

    ids: pl.Series
    birth_dates: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.Date))

    @classmethod
    def of(cls, ids: pl.Series | Persons) -> Persons:
        return ids if isinstance(ids, Persons) else cls(ids)


@dataclass(frozen=True)
class FileCheck:
    """The outcome for one output; `released` holds the bytes that may leave. `name` is the
    code's, kept in the run's folder for the reviewer, never quoted elsewhere."""

    name: str
    kind: str
    outcome: str
    reason: str
    cells: dict[str, int] = field(default_factory=dict)
    released: bytes | None = None
    person_level: bool = False
    number: int = 0
    computed: bool = False

    @property
    def label(self) -> str:
        """How reports and the log name the output: its number."""
        return f"output {self.number}"

    @property
    def released_name(self) -> str:
        """The name it leaves under: its number and the kind of file it is."""
        return f"output-{self.number:03d}{Path(self.name).suffix}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "output": self.number,
            "kind": self.kind,
            "computed_by_rex": self.computed,
            "outcome": self.outcome,
            "reason": self.reason,
            "cells": self.cells,
        }


@dataclass(frozen=True)
class Workspace:
    """What the checks read of the workspace: its panels (name -> path), its persons, and the
    folder the code saw the panels in (the sandbox's mount)."""

    panels: dict[str, Path]
    persons: Persons
    mounted_at: str = WORKSPACE_AT


@dataclass
class _Table:
    """A computed table between its checks: the cells' outcomes, before the ledger's."""

    tabulated: tables.Tabulated
    outcomes: pl.DataFrame
    levels: dict[str, list[Any]] | None = None


def output_files(outputs: Path) -> list[Path]:
    """Every file the code wrote itself, but its declarations."""
    return sorted(
        p
        for p in outputs.rglob("*")
        if p.is_file() and REQUESTS not in p.relative_to(outputs).parts
    )


def declarations(outputs: Path) -> dict[str, dict[str, Any] | str]:
    """The code's declarations by output name: the request, or why it cannot be read."""
    folder = outputs / REQUESTS
    found: dict[str, dict[str, Any] | str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        name = path.name.removesuffix(".json")
        if not path.is_file() or path.stat().st_size > REQUEST_BYTES:
            found[name] = "its declaration is not a file rex reads"
            continue
        try:
            request = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError):
            found[name] = "its declaration is not JSON"
            continue
        valid = isinstance(request, dict) and request.get("format") == FORMAT
        found[name] = request if valid else "its declaration is not one rex's API writes"
    return found


def check_outputs(
    outputs: Path,
    workspace: Workspace,
    rules: OutputChecks,
    released_cells: pl.DataFrame | None = None,
) -> tuple[list[FileCheck], pl.DataFrame]:
    """The outcome of every output, numbered, and the cells this run lets pass (their persons,
    for the ledger). `released_cells`: the ledger's cells of the workspace so far."""
    declared = declarations(outputs)
    written = output_files(outputs)
    entries = sorted(
        [(name, "declared") for name in declared]
        + [(str(p.relative_to(outputs)), "written") for p in written]
    )
    numbers = {entry: index + 1 for index, entry in enumerate(entries)}
    computed: dict[int, _Table | FileCheck] = {}
    fitted: dict[int, tuple[str, tables.Fitted]] = {}
    plots: dict[int, dict[str, Any]] = {}
    for (name, source), number in numbers.items():
        if source == "written":
            computed[number] = _written(outputs / name, name, number, workspace.persons)
            continue
        request = declared[name]
        if isinstance(request, str):
            computed[number] = _unchecked(name, number, "file", request)
            continue
        try:
            made = _compute(request, workspace, rules)
        except (plans.PlanRefused, ValueError, TypeError, KeyError) as error:
            # (numpy's LinAlgError is a ValueError: a model rex cannot fit)
            reason = f"rex cannot run its declared query: {_said(error)}"
            computed[number] = _unchecked(name, number, str(request.get("kind")), reason)
            continue
        except RecursionError:
            reason = "rex cannot run its declared query: it is nested deeper than rex reads"
            computed[number] = _unchecked(name, number, str(request.get("kind")), reason)
            continue
        except pl.exceptions.PolarsError:
            reason = "rex cannot run its declared query: polars refused it"
            computed[number] = _unchecked(name, number, str(request.get("kind")), reason)
            continue
        if isinstance(made, tables.Fitted):
            fitted[number] = (name, made)
        elif isinstance(made, _Table):
            computed[number] = made
            if request["kind"] == "plot":
                plots[number] = request
        else:
            computed[number] = made
    # the ledger, over every cell of this run that passed and every cell released before
    candidates = _candidate_members(computed, workspace.persons)
    previous = released_cells if released_cells is not None else _empty_ledger()
    differing = ledger.disclosive(previous, candidates, rules.min_persons)
    checks: list[FileCheck] = []
    passed: list[pl.DataFrame] = []
    for (name, _source), number in numbers.items():
        kept = computed.get(number)
        if number in fitted:
            checks.append(_check_estimates(name, number, fitted[number][1], rules, workspace))
        elif isinstance(kept, _Table):
            check, cells = _finish_table(
                name, number, kept, differing, plots.get(number), workspace, rules
            )
            checks.append(check)
            if check.outcome != WITHHELD:
                passed.append(cells)
        else:
            assert isinstance(kept, FileCheck)
            checks.append(kept)
    members = pl.concat(passed) if passed else _empty_ledger()
    return checks, members


def _empty_ledger() -> pl.DataFrame:
    return pl.DataFrame(schema=ledger.SCHEMA)


def _said(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def _unchecked(name: str, number: int, kind: str, reason: str) -> FileCheck:
    return FileCheck(name, kind, WITHHELD, f"unchecked: {reason}", number=number)


def _person_level(name: str, number: int, kind: str, reason: str, computed: bool) -> FileCheck:
    return FileCheck(
        name,
        kind,
        WITHHELD,
        f"person-level: {reason}",
        person_level=True,
        number=number,
        computed=computed,
    )


def _written(path: Path, name: str, number: int, persons: Persons) -> FileCheck:
    named = identifiers_in_bytes(path.read_bytes(), path.suffix, persons)
    if named:
        return _person_level(
            name, number, "file", f"it names persons of the workspace ({named})", False
        )
    return _unchecked(
        name,
        number,
        "file",
        "written by the code, not computed by rex: only a reviewer may let it out",
    )


def _compute(
    request: dict[str, Any], workspace: Workspace, rules: OutputChecks
) -> _Table | tables.Fitted | FileCheck:
    kind = request.get("kind")
    if kind == "plot":
        table_request = request.get("table")
        if not isinstance(table_request, dict) or table_request.get("kind") != "table":
            raise ValueError("a plot is drawn from a declared table")
        return _compute({**table_request, "format": FORMAT}, workspace, rules)
    if kind not in ("table", "estimates"):
        raise ValueError("rex's API declares tables, estimates and plots only")
    if request.get("person", tables.PERSON_ID) != tables.PERSON_ID:
        raise plans.PlanRefused(f"persons are counted by the workspace's {tables.PERSON_ID}")
    plan = plans.checked(
        plans.parsed(str(request.get("plan"))), workspace.panels, workspace.mounted_at
    )
    person = tables.PERSON_ID
    if kind == "estimates":
        outcome, predictors = str(request["outcome"]), list(request["predictors"])

        def rows_of(frame: pl.LazyFrame) -> pl.LazyFrame:
            return tables.model_rows(frame, outcome, predictors, person)
    else:
        by, value = list(request["by"]), request.get("value")

        def rows_of(frame: pl.LazyFrame) -> pl.LazyFrame:
            return tables.table_rows(frame, by, value, person)

    rows = _person_local_rows(plan, rows_of, workspace)
    if kind == "estimates":
        return tables.fit(rows, outcome, predictors, str(request["model"]), person)
    levels = request.get("levels")
    tabulated = tables.tabulate(
        rows,
        by,
        str(request["statistic"]),
        value,
        person,
        levels if isinstance(levels, dict) else None,
        str(request.get("name", tables.PERSONS)),
    )
    cells = tabulated.cells.cast(output_checks.CELL_SCHEMA)  # type: ignore[arg-type]
    declared = levels if isinstance(levels, dict) else None
    return _Table(tabulated, output_checks.cell_outcomes(cells, rules), declared)


# the run part of this run's cell ids while they are checked (the ledger keeps its run's id)
THIS_RUN = "this"


def _deserialised(plan: dict[str, Any]) -> pl.LazyFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # polars calls its JSON plans deprecated; rex reads them
        return pl.LazyFrame.deserialize(BytesIO(json.dumps(plan).encode()), format="json")


def _person_local_rows(
    plan: dict[str, Any],
    rows_of: Callable[[pl.LazyFrame], pl.LazyFrame],
    workspace: Workspace,
) -> pl.DataFrame:
    """The rows the declaration is made of, from rex's run of the plan, refused unless each is
    a person of the workspace's and the plan is person-local (transforms.plans)."""
    person = tables.PERSON_ID
    rows = rows_of(_deserialised(plan)).collect()
    strangers = rows[person].is_null().sum() + int(
        (~rows[person].is_in(workspace.persons.ids.implode())).sum()
    )
    if strangers:
        raise plans.PlanRefused(f"{strangers:,} of its rows are of no person of the workspace")
    seed = secrets.randbits(63)
    parts = [
        rows_of(_deserialised(plans.split(plan, person, seed, part))).collect()
        for part in range(plans.PARTS)
    ]
    moved = plans.person_local(rows, parts, person, seed)
    if moved:
        raise plans.PlanRefused(moved)
    return rows


def _cell_ids(number: int, run: str = "") -> pl.Expr:
    """A cell's id in the ledger: the output's number, its row and its column (with `run`, the
    run's id before them)."""
    prefix = f"{run}:" if run else ""
    return pl.format(
        f"{prefix}{number}:{{}}:{{}}", pl.col(output_checks.ROW), pl.col(output_checks.COLUMN)
    )


def _passing_members(
    number: int,
    tabulated: tables.Tabulated,
    outcomes: pl.DataFrame,
    persons: Persons,
    run: str = "",
) -> pl.DataFrame:
    """The persons (by their place in the workspace's persons) of each cell not suppressed."""
    index = persons.ids.to_frame(tables.PERSON_ID).with_row_index(ledger.PERSON)
    passing = outcomes.filter(~pl.col(output_checks.OUTCOME).str.starts_with("suppressed"))
    return (
        tabulated.members.join(
            passing.select(output_checks.ROW, output_checks.COLUMN), on=output_checks.ROW
        )
        .join(index, on=tables.PERSON_ID)
        .select(_cell_ids(number, run).alias(ledger.CELL), pl.col(ledger.PERSON).cast(pl.UInt32))
    )


def _candidate_members(computed: dict[int, _Table | FileCheck], persons: Persons) -> pl.DataFrame:
    """The persons of every cell of this run that passed its own rules, by cell id."""
    frames = [
        _passing_members(number, made.tabulated, made.outcomes, persons, THIS_RUN)
        for number, made in computed.items()
        if isinstance(made, _Table)
    ]
    return pl.concat(frames) if frames else _empty_ledger()


def _finish_table(
    name: str,
    number: int,
    made: _Table,
    differing: set[str],
    plot: dict[str, Any] | None,
    workspace: Workspace,
    rules: OutputChecks,
) -> tuple[FileCheck, pl.DataFrame]:
    kind = "plot" if plot else "table"
    tabulated = made.tabulated
    by = [c for c in tabulated.table.columns if c in set(tabulated.labels["column"])]
    outcomes = made.outcomes.with_columns(
        pl.when(_cell_ids(number, THIS_RUN).is_in(list(differing)))
        .then(pl.lit(CellOutcome.DIFFERENCE.value))
        .otherwise(pl.col(output_checks.OUTCOME))
        .alias(output_checks.OUTCOME)
    )
    none = _empty_ledger()
    if person_level.cells_are_persons(outcomes):
        return _person_level(
            name, number, kind, "each of its cells is one person (a row per person)", True
        ), none
    count_column = tabulated.cells.filter(pl.col(output_checks.STATISTIC) == output_checks.COUNT)
    row_persons = (
        count_column.group_by(output_checks.ROW)
        .agg(pl.col(output_checks.PERSONS).max())
        .sort(output_checks.ROW)[output_checks.PERSONS]
    )
    left_out = labels.rare_rows(
        tabulated.table, row_persons, tabulated.labels, by, made.levels, rules.min_persons
    )
    held = int((row_persons > 0).sum())
    found = labels.findings(tabulated.table, tabulated.labels, by, left_out, held)
    if tabulated.constant:
        # a constant from the code's literals (it may be a value it read): a reviewer's to judge
        said = "its value is the same for every person: a number of the code's, not the data's"
        found = labels.LabelFindings(review="; ".join(filter(None, [found.review, said])))
    if found.person_level:
        return _person_level(name, number, kind, found.person_level, True), none
    # rows of a few persons' labels are left out, and their cells with them
    gone = pl.Series(output_checks.ROW, range(left_out.len()), dtype=pl.Int64).filter(left_out)
    outcomes = outcomes.with_columns(
        pl.when(pl.col(output_checks.ROW).is_in(gone.implode()))
        .then(pl.lit(CellOutcome.LEFT_OUT.value))
        .otherwise(pl.col(output_checks.OUTCOME))
        .alias(output_checks.OUTCOME)
    )
    counted = output_checks.summary(outcomes)
    released = output_checks.released_table(tabulated.table, outcomes)
    if not gone.is_empty():
        released = released.filter(~left_out)
    if plot is not None:
        figure = drawing.draw(released, plot)
        buffer = BytesIO()
        figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        data = buffer.getvalue()
        reason = "drawn by rex from its table as it may leave"
    else:
        data = released.write_csv().encode()
        reason = "every cell passes" if released is tabulated.table else _changed(outcomes, counted)
    named = identifiers_in_bytes(data, Path(name).suffix, workspace.persons)
    if named:
        return _person_level(
            name, number, kind, f"it names persons of the workspace ({named})", True
        ), none
    if found.review:
        # kept (never published as it is): reviewers may approve it having read its labels
        reason = f"unchecked: it needs a reviewer ({found.review})"
        return FileCheck(
            name, kind, WITHHELD, reason, counted, data, number=number, computed=True
        ), none
    magnitudes = outcomes.filter(pl.col(output_checks.STATISTIC) != output_checks.COUNT)
    purpose = magnitudes if not magnitudes.is_empty() else outcomes
    if purpose[output_checks.OUTCOME].str.starts_with("suppressed").all():
        said = "; ".join(
            f"{n:,} {o.removeprefix('suppressed: ')}"
            for o, n in output_checks.summary(purpose).items()
        )
        what = "magnitude" if purpose is magnitudes else "count"
        reason = f"every {what} cell is suppressed ({said})"
        check = FileCheck(name, kind, WITHHELD, reason, counted, number=number, computed=True)
        return check, none
    outcome = RELEASED if released is tabulated.table else RELEASED_CHANGED
    check = FileCheck(name, kind, outcome, reason, counted, data, number=number, computed=True)
    return check, _passing_members(number, tabulated, outcomes, workspace.persons)


def _changed(outcomes: pl.DataFrame, counted: dict[str, int]) -> str:
    said = ", ".join(
        f"{n:,} {outcome.removeprefix('suppressed: ')}"
        for outcome, n in counted.items()
        if outcome != CellOutcome.RELEASED
    )
    return f"of {outcomes.height:,} cells: {said} (its _check columns say which are suppressed)"


def _check_estimates(
    name: str, number: int, fitted: tables.Fitted, rules: OutputChecks, workspace: Workspace
) -> FileCheck:
    few = sorted(c for c, n in fitted.minority.items() if n < rules.min_persons)
    if fitted.persons < rules.min_persons or fitted.residual_dof < rules.min_persons:
        return FileCheck(
            name,
            "estimates",
            WITHHELD,
            f"fitted by rex on {fitted.persons:,} persons with {fitted.residual_dof:,} residual "
            f"degrees of freedom; at least {rules.min_persons} of each are needed",
            number=number,
            computed=True,
        )
    if few:
        return FileCheck(
            name,
            "estimates",
            WITHHELD,
            f"{len(few):,} of its predictors single out fewer than {rules.min_persons} persons "
            "(their coefficients would be those persons' values)",
            number=number,
            computed=True,
        )
    data = fitted.table.write_csv().encode()
    return FileCheck(
        name,
        "estimates",
        RELEASED,
        f"fitted by rex on {fitted.persons:,} persons",
        {},
        data,
        number=number,
        computed=True,
    )


def _frame(data: bytes, suffix: str) -> pl.DataFrame | None:
    """A tabular output as text cells (None: not a table, or not readable as one)."""
    if suffix not in TABULAR:
        return None
    try:
        if suffix == ".parquet":
            return pl.read_parquet(BytesIO(data)).select(pl.all().cast(pl.String))
        separator = "\t" if suffix == ".tsv" else ","
        return pl.read_csv(BytesIO(data), infer_schema=False, separator=separator)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None


def identifiers_in(path: Path, persons: Persons | pl.Series) -> str:
    """What of the file identifies the workspace's persons ('' for nothing)."""
    return identifiers_in_bytes(path.read_bytes(), path.suffix, Persons.of(persons))


def identifiers_in_bytes(data: bytes, suffix: str, persons: Persons) -> str:
    """What of an output identifies the workspace's persons ('' for nothing): its text columns,
    if it is a table, then every identifier in any encoding in its text and its cells."""
    found = []
    texts = [data.decode("latin-1")]
    frame = _frame(data, suffix)
    if frame is not None:
        columns = person_level.pseudonym_columns(frame, persons.ids)
        found += [f"{n:,} pseudonyms in one column" for n in columns.values()]
        if suffix == ".parquet":  # compressed: its bytes say nothing, its cells do
            texts += [frame[c].drop_nulls().str.join("\n").item() for c in frame.columns]
    text = pl.Series("text", texts, dtype=pl.String)
    hits = identifiers.pseudonym_hits(text, persons.ids)
    if frame is not None:
        hits[identifiers.SPLIT] = identifiers.split_hits(frame, persons.ids)
    hits[identifiers.INSZ] = identifiers.insz_hits(text)
    hits[identifiers.BIRTH_DATES] = identifiers.birth_date_hits(text, persons.birth_dates)
    plain = hits.pop(identifiers.PSEUDONYMS, 0)
    if plain and not found:
        found.append(f"{plain:,} pseudonyms in its text")
    found += [f"{n:,} {kind}" for kind, n in hits.items() if n]
    return "; ".join(found)


def sha256_of(check: FileCheck, outputs: Path) -> str:
    """The sha256 of what may leave (rex's bytes), or of the code's file."""
    if check.released is not None:
        return hashlib.sha256(check.released).hexdigest()
    path = outputs / check.name
    return sha256_file(path) if path.is_file() else ""
