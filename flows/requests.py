"""A recipient's list of the persons it asks about (13/021 point 20: VSAWSE sends the INSZ of the
workers whose subsidy it checks): read, verified, and refused whole when any line is wrong.

The file holds one INSZ per line, plainly or with the usual separators (85.07.30-033.28); blank
lines and lines starting with '#' are skipped. A refusal names the file (its name, not its
folder) and the line numbers, never a value: the list is made of identifiers.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from specs.identifiers import Scheme, valid

SHOWN_LINES = 10  # line numbers named in a refusal, at most


class RequestError(RuntimeError):
    """The list of requested persons cannot be used; the message says which lines and why."""


def _lines(numbers: pl.Series) -> str:
    shown = ", ".join(str(n) for n in numbers.head(SHOWN_LINES))
    more = numbers.len() - SHOWN_LINES
    return shown + (f" and {more} more" if more > 0 else "")


def read_person_list(path: Path) -> pl.DataFrame:
    """The distinct INSZs the file lists (column `insz`), or RequestError."""
    try:
        text = path.read_text()
    except OSError as error:
        raise RequestError(f"{path.name}: cannot be read ({error.strerror})") from None
    rows = pl.DataFrame({"raw": text.splitlines()}).with_row_index("line", offset=1)
    rows = rows.with_columns(insz=pl.col("raw").str.replace_all(r"[\s.\-]", "")).filter(
        (pl.col("insz") != "") & ~pl.col("raw").str.strip_chars_start().str.starts_with("#")
    )
    if rows.is_empty():
        raise RequestError(f"{path.name}: lists no person")
    checked = rows.select("line", "insz")  # noqa: F841 (read by DuckDB by name)
    verdicts = duckdb.sql(
        f"select line, coalesce({valid(Scheme.INSZ, 'insz')}, false) as ok from checked"
    ).pl()
    invalid = verdicts.filter(~pl.col("ok"))["line"].sort()
    if invalid.len():
        raise RequestError(
            f"{path.name}: {invalid.len()} line(s) do not hold a valid INSZ (11 digits with valid "
            f"check digits): line {_lines(invalid)}"
        )
    repeated = rows.filter(pl.col("insz").is_duplicated() & ~pl.col("insz").is_first_distinct())
    if repeated.height:
        raise RequestError(
            f"{path.name}: {repeated.height} line(s) repeat a person listed above: line "
            f"{_lines(repeated['line'])}"
        )
    return rows.select("insz").sort("insz")
