"""A recipient's list of the persons it asks about (13/021 point 20: VSAWSE sends the INSZ of the
workers whose subsidy it checks): read, verified, and refused whole when any line is wrong.

The file holds one person per line: the INSZ, plainly or with the usual separators
(85.07.30-033.28), and optionally the months to check, `85073003328;2013-01;2013-06` (none: the
spec's whole period); blank lines and lines starting with '#' are skipped. A refusal names the
file (its name, not its folder) and the line numbers, never a value: the list is made of
identifiers.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from specs.identifiers import Scheme, valid
from specs.model import RequestKind
from specs.refusal import Refusal
from transforms.relations import selected

SHOWN_LINES = 10  # line numbers named in a refusal, at most
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")


class RequestError(Refusal, RuntimeError):
    """The list of requested persons cannot be used; the message says which lines and why."""


def _lines(numbers: pl.Series) -> str:
    shown = ", ".join(str(n) for n in numbers.head(SHOWN_LINES))
    more = numbers.len() - SHOWN_LINES
    return shown + (f" and {more} more" if more > 0 else "")


def _request_lines(path: Path) -> pl.DataFrame:
    """The file's lines (`line` number, `raw` text), or RequestError for a file that cannot be
    read, is empty or is not text."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RequestError(f"{path.name}: cannot be read ({error.strerror})") from None
    if not data:
        raise RequestError(f"{path.name}: is empty; it should list one INSZ per line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"  # refused just below, like any other binary file
    # A control character other than the line ends and tabs means a binary file (or the wrong
    # file), whatever its lines happen to decode to.
    if CONTROL_CHARACTER.search(text):
        raise RequestError(
            f"{path.name}: is not a text file (binary content); it should list one INSZ per "
            "line, in UTF-8"
        )
    return pl.DataFrame({"raw": text.splitlines()}).with_row_index("line", offset=1)


def _refuse_invalid_insz(path: Path, rows: pl.DataFrame) -> None:
    """RequestError naming the lines whose `insz` is not a valid INSZ."""
    checked = rows.select("line", "insz")  # noqa: F841 (read by DuckDB by name)
    verdicts = selected(
        duckdb.sql(f"select line, coalesce({valid(Scheme.INSZ, 'insz')}, false) as ok from checked")
    ).pl()
    invalid = verdicts.filter(~pl.col("ok"))["line"].sort()
    if invalid.len():
        raise RequestError(
            f"{path.name}: {invalid.len()} line(s) do not hold a valid INSZ (11 digits with valid "
            f"check digits): line {_lines(invalid)}"
        )


def _listed_rows(path: Path, *after: str) -> pl.DataFrame:
    """The request's lines that list a person (blank lines and '#' comments skipped): the line
    number, the INSZ without its separators, how many `;` fields the line has, and the fields
    after the INSZ under the names `after`; RequestError if none lists a person or an INSZ is
    not valid."""
    fields = pl.col("raw").str.split(";")
    rows = (
        _request_lines(path)
        .with_columns(
            insz=fields.list.get(0).str.replace_all(r"[\s.\-]", ""),
            fields=fields.list.len(),
            **{
                name: fields.list.get(place, null_on_oob=True).str.strip_chars()
                for place, name in enumerate(after, start=1)
            },
        )
        .filter(
            (pl.col("insz") != "") & ~pl.col("raw").str.strip_chars_start().str.starts_with("#")
        )
    )
    if rows.is_empty():
        raise RequestError(f"{path.name}: lists no person")
    _refuse_invalid_insz(path, rows)
    return rows


def read_person_list(path: Path) -> pl.DataFrame:
    """The persons the file lists (`insz`) with the months asked about for each (`from_month`,
    `until_month`, YYYY-MM, null for the spec's whole period), or RequestError."""
    rows = _listed_rows(path, "from_month", "until_month")
    month = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
    bad_period = rows.filter(
        ~pl.col("fields").is_in([1, 3])
        | (
            (pl.col("fields") == 3)
            & ~(
                pl.col("from_month").str.contains(month)
                & pl.col("until_month").str.contains(month)
                & (pl.col("from_month") <= pl.col("until_month"))
            )
        )
    )["line"]
    if bad_period.len():
        raise RequestError(
            f"{path.name}: {bad_period.len()} line(s) do not give the period to check as two "
            f"months YYYY-MM;YYYY-MM, the first not after the second: line {_lines(bad_period)}"
        )
    repeated = rows.filter(pl.col("insz").is_duplicated() & ~pl.col("insz").is_first_distinct())
    if repeated.height:
        raise RequestError(
            f"{path.name}: {repeated.height} line(s) repeat a person listed above: line "
            f"{_lines(repeated['line'])}"
        )
    return rows.select("insz", "from_month", "until_month").sort("insz")


# 04/037: a consultation request gives, with each person, what the consultation looks up: a
# message's unique number (A052L, point 1.4) or the day work resumed (the fitness declaration,
# point 3.1). The persons alone (L051) are read by read_person_list.
MESSAGE_NUMBER = re.compile(r"^[0-9]{12}$")
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def read_consultation_request(path: Path, kind: RequestKind) -> pl.DataFrame:
    """The lines of a consultation request: `insz` and, by `kind`, `message_number` (a person
    may be listed with several) or `resumption_date` (one per person), or RequestError. A line
    is `INSZ;NUMBER` or `INSZ;YYYY-MM-DD`; blank lines and lines starting with '#' are skipped."""
    if kind is RequestKind.PERSONS:
        raise ValueError("a request of persons alone is read by read_person_list")
    asked = "message_number" if kind is RequestKind.MESSAGE_NUMBERS else "resumption_date"
    shape = (
        "INSZ;UNIQUE-NUMBER (12 digits)"
        if kind is RequestKind.MESSAGE_NUMBERS
        else "INSZ;YYYY-MM-DD (the day work resumed)"
    )
    rows = _listed_rows(path, "value")
    wanted = MESSAGE_NUMBER if kind is RequestKind.MESSAGE_NUMBERS else DAY
    by_date = kind is RequestKind.RESUMPTION_DATE
    parsed = rows.with_columns(day=pl.col("value").str.to_date("%Y-%m-%d", strict=False))
    malformed = parsed.filter(
        (pl.col("fields") != 2)
        | ~pl.col("value").fill_null("").str.contains(wanted.pattern)
        | (pl.col("day").is_null() if by_date else pl.lit(False))
    )["line"]
    if malformed.len():
        raise RequestError(
            f"{path.name}: {malformed.len()} line(s) are not {shape}: line {_lines(malformed)}"
        )
    once = ["insz", "value"] if kind is RequestKind.MESSAGE_NUMBERS else ["insz"]
    repeated = parsed.filter(pl.struct(once).is_duplicated() & ~pl.struct(once).is_first_distinct())
    if repeated.height:
        what = "a person and number" if kind is RequestKind.MESSAGE_NUMBERS else "a person"
        raise RequestError(
            f"{path.name}: {repeated.height} line(s) repeat {what} listed above: line "
            f"{_lines(repeated['line'])}"
        )
    value = pl.col("day") if by_date else pl.col("value")
    return parsed.select("insz", value.alias(asked)).sort(pl.all())


def one_person(text: str) -> str:
    """The INSZ in `text` (with or without the usual separators), checked as a list's lines are;
    RequestError, quoting nothing of it, if it is not a valid one."""
    given = pl.DataFrame({"insz": [re.sub(r"[\s.\-]", "", text)]})  # noqa: F841 (read by DuckDB)
    verdict = selected(
        duckdb.sql(f"select insz, coalesce({valid(Scheme.INSZ, 'insz')}, false) as ok from given")
    ).fetchall()
    insz, ok = verdict[0]
    if not ok:
        raise RequestError(
            "the person asked about is not given by a valid INSZ (11 digits with valid check "
            "digits)"
        )
    return str(insz)
