"""Identifiers in an output, in any common encoding (18/088 point 12: only anonymous results
leave; a person named in an output is person-level output, whatever its form).

An output names a person when its text holds one of the workspace's pseudonyms, in any case,
reversed, in hexadecimal (of its letters' values or of its bytes), in base64, as the number its
letters spell (a-p are the sixteen digits of a base-16 number), or split across two columns of
one row; an INSZ (11 digits whose check digits hold, with or without its dots and dash); or an
exact birth date of one of the workspace's persons. Each is looked for in every text the output
holds: its bytes read as text and, for a table, every cell.

Pseudonyms are searched for in every window of 20 letters of a run of letters, so that one
written inside a longer word is found as well; the windows are taken a batch of runs at a time,
so that memory follows the batch, not the output.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Iterator

import polars as pl

from specs.patterns import PSEUDONYM_LETTERS

WIDTH = PSEUDONYM_LETTERS
PSEUDONYM_LETTER_SET = "abcdefghijklmnop"
HEX_DIGITS = "0123456789abcdef"
INSZ_DIGITS = 11
# Windows looked at together (characters): memory follows this, not the output's size.
BATCH_CHARACTERS = 4 << 20

PSEUDONYMS = "pseudonyms"
REVERSED = "pseudonyms reversed"
HEX = "pseudonyms in hexadecimal"
BASE64 = "pseudonyms in base64"
NUMBERS = "pseudonyms as numbers"
SPLIT = "pseudonyms split across columns"
INSZ = "INSZ numbers"
BIRTH_DATES = "exact birth dates"


def _windows(runs: pl.Series, width: int) -> Iterator[pl.Series]:
    """Every substring of `width` characters of every run, a batch of runs at a time."""
    runs = runs.filter(runs.str.len_chars() >= width)
    start, lengths = 0, runs.str.len_chars().to_list()
    while start < len(lengths):
        end, characters = start, 0
        while end < len(lengths) and (characters < BATCH_CHARACTERS or end == start):
            characters += lengths[end]
            end += 1
        batch = pl.DataFrame({"run": runs.slice(start, end - start)})
        yield (
            batch.with_columns(offset=pl.int_ranges(0, pl.col("run").str.len_chars() - width + 1))
            .explode("offset")
            .select(pl.col("run").str.slice(pl.col("offset"), width))
            .to_series()
        )
        start = end


def _named(candidates: pl.Series, person_ids: pl.Series) -> int:
    """How many of the candidates are pseudonyms of the workspace's persons."""
    if candidates.is_empty():
        return 0
    return int(candidates.is_in(person_ids.implode()).sum())


def _runs(texts: pl.Series, pattern: str) -> pl.Series:
    return texts.str.extract_all(pattern).explode().drop_nulls()


def _letter_hits(texts: pl.Series, person_ids: pl.Series) -> dict[str, int]:
    """Pseudonyms as they are (any case) and reversed, in every run of the letters a-p."""
    plain, backwards = 0, 0
    for windows in _windows(_runs(texts.str.to_lowercase(), f"[a-p]{{{WIDTH},}}"), WIDTH):
        plain += _named(windows, person_ids)
        backwards += _named(windows.str.reverse(), person_ids)
    return {PSEUDONYMS: plain, REVERSED: backwards}


def _as_letters(hex_text: pl.Series) -> pl.Series:
    """Hexadecimal digits written with the pseudonyms' letters (0 -> a, ..., f -> p)."""
    return hex_text.str.replace_many(list(HEX_DIGITS), list(PSEUDONYM_LETTER_SET))


def _hex_hits(texts: pl.Series, person_ids: pl.Series) -> int:
    """A pseudonym's letters as the hexadecimal digits they stand for, or its bytes in hex."""
    runs = _runs(texts.str.to_lowercase(), f"[0-9a-f]{{{WIDTH},}}")
    found = 0
    for windows in _windows(runs, WIDTH):
        found += _named(_as_letters(windows), person_ids)
    for windows in _windows(runs, 2 * WIDTH):
        decoded = windows.str.decode("hex", strict=False).drop_nulls()
        found += _named(_latin1(decoded), person_ids)
    return found


def _latin1(blobs: pl.Series) -> pl.Series:
    """Decoded bytes as text, one character per byte (polars casts only valid UTF-8)."""
    # one decode per token of the output, not per person or row of a population
    return pl.Series([blob.decode("latin-1") for blob in blobs.to_list()], dtype=pl.String)


def _base64_hits(texts: pl.Series, person_ids: pl.Series) -> int:
    """Pseudonyms inside anything written in base64 (standard or URL-safe), decoded whole."""
    runs = _runs(texts, r"[A-Za-z0-9+/_-]{24,}={0,2}")
    decoded = []
    for run in runs.to_list():  # one decode per base64 run of the output
        cut = run.rstrip("=")
        cut = cut[: len(cut) - len(cut) % 4] if len(cut) % 4 == 1 else cut
        padded = cut + "=" * (-len(cut) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(binascii.Error, ValueError):
                decoded.append(decode(padded).decode("latin-1"))
    if not decoded:
        return 0
    hits = _letter_hits(pl.Series(decoded, dtype=pl.String), person_ids)
    return hits[PSEUDONYMS] + hits[REVERSED]


def _number_hits(texts: pl.Series, person_ids: pl.Series) -> int:
    """A pseudonym as the base-16 number its letters spell, written in decimal."""
    sixteen = pl.lit(16, pl.Int128)
    numbers = (
        pl.DataFrame({"n": _runs(texts, r"[0-9]{15,25}")})
        .select(pl.col("n").str.to_integer(dtype=pl.Int128, strict=False))
        .filter(pl.col("n").is_between(0, sixteen**WIDTH, closed="left"))
    )
    if numbers.is_empty():
        return 0
    digits = [
        ((pl.col("n") // sixteen ** (WIDTH - 1 - place)) % 16).cast(pl.UInt8)
        for place in range(WIDTH)
    ]
    letters = numbers.select(
        pl.concat_str(
            [d.replace_strict(list(range(16)), list(PSEUDONYM_LETTER_SET)) for d in digits]
        )
    )
    return _named(letters.to_series(), person_ids)


def pseudonym_hits(texts: pl.Series, person_ids: pl.Series) -> dict[str, int]:
    """How many pseudonyms of the workspace's persons the texts hold, per encoding."""
    if person_ids.is_empty() or texts.is_empty():
        return {}
    hits = _letter_hits(texts, person_ids)
    hits[HEX] = _hex_hits(texts, person_ids)
    hits[BASE64] = _base64_hits(texts, person_ids)
    hits[NUMBERS] = _number_hits(texts, person_ids)
    return {kind: n for kind, n in hits.items() if n}


def split_hits(frame: pl.DataFrame, person_ids: pl.Series) -> int:
    """Pseudonyms split across two text columns of one row (in either order, any case)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    pairs = [(a, b) for a in text for b in text if a != b]
    if not pairs or person_ids.is_empty():
        return 0
    joined = frame.select(
        pl.concat_str([pl.col(a), pl.col(b)]).str.to_lowercase().alias(f"{i}")
        for i, (a, b) in enumerate(pairs)
    )
    return sum(_named(joined[column].drop_nulls(), person_ids) for column in joined.columns)


def insz_hits(texts: pl.Series) -> int:
    """INSZ and BIS numbers: 11 digits (or YY.MM.DD-NNN.CC) whose check digits hold for a
    birth in the 1900s or the 2000s, with a month and day an INSZ can have."""
    found = _runs(texts, r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}|[0-9]{11,}")
    digits = found.str.replace_all(r"[.-]", "")
    numbers = digits.filter(digits.str.len_chars() == INSZ_DIGITS)
    if numbers.is_empty():
        return 0
    frame = pl.DataFrame({"n": numbers}).select(
        base=pl.col("n").str.slice(0, 9).cast(pl.Int64),
        check=pl.col("n").str.slice(9, 2).cast(pl.Int64),
        month=pl.col("n").str.slice(2, 2).cast(pl.Int64),
        day=pl.col("n").str.slice(4, 2).cast(pl.Int64),
    )
    valid = (
        (
            (97 - pl.col("base") % 97 == pl.col("check"))
            | (97 - (pl.col("base") + 2_000_000_000) % 97 == pl.col("check"))
        )
        & (pl.col("month") % 20 <= 12)
        & (pl.col("month") < 53)
        & (pl.col("day") <= 31)
    )
    return int(frame.select(valid.sum()).item())


def birth_date_hits(texts: pl.Series, birth_dates: pl.Series) -> int:
    """Exact birth dates of the workspace's persons, written as YYYY-MM-DD."""
    dates = _runs(texts, r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    if dates.is_empty() or birth_dates.is_empty():
        return 0
    known = birth_dates.drop_nulls().cast(pl.String).unique()
    return int(dates.is_in(known.implode()).sum())
