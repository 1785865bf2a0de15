"""The queries a researcher's code declares, checked before rex runs them itself.

On premise, the researcher API (`researcher.outputs`) does not hand rex numbers: it hands rex
the polars lazy query the code built over the workspace's panels, serialised as polars writes a
plan (JSON). rex runs that query again on its own side of the sandbox, so every count, sum and
contribution it checks is one it computed. A plan is data, but polars can also carry Python
inside one (a `map_elements`, a `map_batches`, a renaming function: pickled bytes), and loading
such a plan would run the code in rex's own process. So before polars sees a plan, `checked`
walks it and refuses:

- any Python: a node or an expression of a Python function, a Python scan, and any bytes but
  those of a literal Series or list (Arrow IPC, which polars reads without Python);
- data of the code's own: a frame in the code's memory (`DataFrameScan`): its numbers are the
  code's, not the workspace's;
- any scan but of a Parquet file of the workspace, named exactly (no folder, no pattern);
- anything that writes (a sink).

Checked, the plan's paths point at rex's copy of the workspace; everything else stays as the
code wrote it.

A plan that passes can still move one person's values into other persons' rows: a cross join
with the target's row, a maximum broadcast to every row, a shift after a sort, the target's rows
exploded under other persons' pseudonyms. Every cell would then hold many "persons" who all
carry one person's value. So rex also runs the plan on parts of the workspace (`split`: each
scan keeps the persons of one part, by a keyed hash of their pseudonym, the key drawn anew for
each check) and `person_local` asks of what it made that each part's rows belong to that part's
persons only, and that the parts together are the whole run's rows. A person-local query (what
a person's rows become depends on that person's rows alone) passes, whatever it does; a query
that moves values between persons is caught unless every person it moves them to falls in the
source's part (for the ten persons a cell needs, one chance in 4^10).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from specs.refusal import Refusal

# Nodes and expressions polars builds around a Python function or object, and the nodes that
# would write or read data that is not the workspace's.
REFUSED_NODES = frozenset(
    {
        "AnonymousFunction",
        "OpaquePython",
        "PythonScan",
        "PythonUdf",
        "DataFrameScan",
        "Sink",
        "SinkMultiple",
        "FileSink",
        "Map",
    }
)
# Arrow IPC's continuation marker: how a literal Series (or list) serialised by polars begins.
IPC_MARKER = b"\xff\xff\xff\xff"
# where polars puts literal values as Arrow IPC: a Series, or a list scalar (`is_in([...])`)
LITERALS = frozenset({"Series", "List"})
SCAN = "Scan"


class PlanRefused(Refusal, ValueError):
    """A declared query that rex will not run; the message says why, never what it holds."""


def parsed(text: str) -> dict[str, Any]:
    """The plan as JSON data; a clear refusal if it is not JSON."""
    try:
        plan = json.loads(text)
    except RecursionError:
        raise PlanRefused("not a polars plan: nested deeper than rex reads") from None
    except json.JSONDecodeError as error:
        raise PlanRefused(f"not a polars plan (JSON): {error.msg}") from None
    except TypeError:
        raise PlanRefused("not a polars plan (JSON)") from None
    if not isinstance(plan, dict):
        raise PlanRefused("not a polars plan: expected a JSON object")
    return plan


def checked(plan: dict[str, Any], workspace: Mapping[str, Path], mounted_at: str) -> dict[str, Any]:
    """The plan, refused if it holds Python, the code's own data, a sink or a scan of anything
    but the workspace's Parquet files (`workspace`: name -> rex's path, `mounted_at`: where the
    code saw them); its scans pointed at rex's paths."""
    for key, value, where in _walk(plan, ()):
        if key in REFUSED_NODES or "Python" in key:
            raise PlanRefused(f"it runs Python or holds the code's own data ({key}), at {where}")
        if key == SCAN:
            _check_scan(value, workspace, mounted_at, where)
    for path, data in _byte_arrays(plan, ()):
        if not (path and path[-1] in LITERALS and data.startswith(IPC_MARKER)):
            raise PlanRefused(
                f"it holds bytes rex does not read (a Python function?), at {_at(path)}"
            )
    return _pointed(plan, workspace, mounted_at)


def scanned(plan: dict[str, Any]) -> list[str]:
    """The workspace files a checked plan reads, by name."""
    names = []
    for key, value, _ in _walk(plan, ()):
        if key == SCAN:
            names += [Path(p["inner"]).name for p in value["sources"]["Paths"]]
    return sorted(set(names))


def _at(where: tuple[str, ...]) -> str:
    return "/".join(where[-4:]) or "its root"


def _walk(node: Any, where: tuple[str, ...]) -> Iterator[tuple[str, Any, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value, _at((*where, str(key)))
            yield from _walk(value, (*where, str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, where)


def _byte_arrays(node: Any, where: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Every list of small integers (how polars writes bytes in JSON), with where it lies."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _byte_arrays(value, (*where, str(key)))
    elif isinstance(node, list):
        if len(node) >= 4 and all(isinstance(x, int) and 0 <= x < 256 for x in node):
            yield where, bytes(node)
        else:
            for value in node:
                yield from _byte_arrays(value, where)


def _check_scan(scan: Any, workspace: Mapping[str, Path], mounted_at: str, where: str) -> None:
    if not isinstance(scan, dict):
        raise PlanRefused(f"a scan rex cannot read, at {where}")
    kind = scan.get("scan_type")
    if not (isinstance(kind, dict) and set(kind) == {"Parquet"}):
        raise PlanRefused(f"it scans something but Parquet files of the workspace, at {where}")
    sources = scan.get("sources")
    if not (isinstance(sources, dict) and set(sources) == {"Paths"}):
        raise PlanRefused(f"it scans data that is not a file of the workspace, at {where}")
    for source in sources["Paths"]:
        path = source.get("inner") if isinstance(source, dict) else None
        if not isinstance(path, str):
            raise PlanRefused(f"a scan of no file, at {where}")
        pure = PurePosixPath(path)
        if str(pure.parent) != mounted_at or pure.name not in workspace:
            raise PlanRefused(
                f"it scans a file that is not one of the workspace's panels (expected "
                f"{mounted_at}/<panel>.parquet), at {where}"
            )


def _pointed(node: Any, workspace: Mapping[str, Path], mounted_at: str) -> Any:
    """A copy of the plan with each workspace path replaced by rex's path of the same file."""
    if isinstance(node, dict):
        if set(node) == {"inner"} and isinstance(node["inner"], str):
            pure = PurePosixPath(node["inner"])
            if str(pure.parent) == mounted_at and pure.name in workspace:
                return {"inner": str(workspace[pure.name])}
        return {key: _pointed(value, workspace, mounted_at) for key, value in node.items()}
    if isinstance(node, list):
        return [_pointed(value, workspace, mounted_at) for value in node]
    return node


# how many parts `split` cuts the workspace into
PARTS = 4


def split(plan: dict[str, Any], person: str, seed: int, part: int) -> dict[str, Any]:
    """The plan with every scan keeping only the persons of one part of the workspace: those
    whose pseudonym hashes (keyed by `seed`) to `part` of PARTS."""
    predicate = _part_predicate(person, seed, part)

    def wrapped(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {SCAN}:
                return {"Filter": {"input": node, "predicate": predicate}}
            return {key: wrapped(value) for key, value in node.items()}
        if isinstance(node, list):
            return [wrapped(value) for value in node]
        return node

    return wrapped(plan)  # type: ignore[no-any-return]


def in_part(person: str, seed: int, part: int) -> pl.Expr:
    """Whether a row's person falls in `part` (the rule `split` scans by)."""
    return (pl.col(person).hash(seed) % PARTS) == part


def _part_predicate(person: str, seed: int, part: int) -> Any:
    # polars writes the expression; rex only takes it, so its form follows polars' version
    probe = pl.LazyFrame(schema={person: pl.String}).filter(in_part(person, seed, part))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return json.loads(probe.serialize(format="json"))["Filter"]["predicate"]


def person_local(whole: pl.DataFrame, parts: list[pl.DataFrame], person: str, seed: int) -> str:
    """'' if the rows of the parts' runs are each their part's persons' and together the whole
    run's rows; else what differs (no value, no name)."""
    for part, rows in enumerate(parts):
        if rows.height and not rows.select(in_part(person, seed, part).all()).item():
            return "it gives persons rows made of other persons' data"
    joined = pl.concat(parts) if parts else whole.clear()
    if joined.height != whole.height:
        return "what it makes of a person depends on other persons' rows"
    columns = whole.columns
    first, second = (f.sort(columns, nulls_last=True) for f in (whole, joined))
    for column in columns:
        a, b = first[column], second[column]
        if a.dtype.is_float():
            close = ((a - b).abs() <= 1e-9 * (a.abs() + 1)) | (a.is_null() & b.is_null())
            same = bool(close.fill_null(False).all())
        else:
            same = a.equals(b)
        if not same:
            return "what it makes of a person depends on other persons' rows"
    return ""
