"""The INSZ rule of specs.identifiers against python-stdnum 2.2 (`be.nn` or `be.bis`).

The SQL rule and stdnum must agree on every number but one kind, rex's one deliberate
difference: a known birth month with a day past its end (32-99, 30 February, 29 February of a
year that is not a leap year), which stdnum takes for "day not known" and rex refuses.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random

import duckdb
import polars as pl
import pytest
from stdnum.be import bis, nn

from flows.stores.sources import open_sources
from specs.identifiers import Scheme, valid
from synthetic.generate import generate
from transforms import source_checks

RANDOM_STRINGS = 300_000
SEED = 20261201


def rex_accepts(numbers: list[str]) -> dict[str, bool]:
    frame = pl.DataFrame({"number": numbers})  # noqa: F841 (read by DuckDB by name)
    rows = duckdb.sql(
        f"select number, coalesce({valid(Scheme.INSZ, 'number')}, false) from frame"
    ).fetchall()
    return dict(rows)


def stdnum_accepts(number: str) -> bool:
    return nn.is_valid(number) or bis.is_valid(number)


def is_deliberate_difference(number: str) -> bool:
    """A number stdnum accepts whose known birth month has no such day (see the module doc)."""
    month, day = int(number[2:4]) % 20, int(number[4:6])
    if month == 0 or day == 0 or not 1 <= month <= 12:
        return False
    year = nn.get_birth_year(number)
    return day > calendar.monthrange(year, month)[1]


def with_check_digits(first_nine: str, born_2000s: bool) -> str:
    value = int(first_nine) + (2_000_000_000 if born_2000s else 0)
    return f"{first_nine}{97 - value % 97:02d}"


def around_edge_dates() -> list[str]:
    """Numbers with right check digits for both centuries around every edge of the date part:
    unknown months and days, BIS shifts, month ends, leap days, this year and the next."""
    this_year = dt.date.today().year
    numbers = []
    for year in (1900, 1901, 1904, 1999, 2000, 2001, 2004, 2020, this_year, this_year + 1):
        for month in range(0, 14):
            for shift in (0, 20, 40):
                for day in (0, 1, 28, 29, 30, 31, 32, 75, 99):
                    for counter in ("001", "998"):
                        first_nine = f"{year % 100:02d}{month + shift:02d}{day:02d}{counter}"
                        numbers.append(with_check_digits(first_nine, year >= 2000))
    numbers += [with_check_digits("000001001", False), with_check_digits("002001002", False)]
    return numbers


def test_insz_rule_agrees_with_stdnum_on_random_strings_but_for_days_past_the_month_end():
    rng = random.Random(SEED)
    numbers = list({f"{rng.randrange(10**11):011d}" for _ in range(RANDOM_STRINGS)})
    ours = rex_accepts(numbers)
    theirs = {n: stdnum_accepts(n) for n in numbers}
    differ = [n for n in numbers if ours[n] != theirs[n]]
    assert all(theirs[n] and not ours[n] and is_deliberate_difference(n) for n in differ)
    assert [n for n in numbers if theirs[n] and is_deliberate_difference(n)] == differ
    # the random set reaches every branch: both accepted, the deliberate difference, refusals
    assert sum(ours.values()) > 400 and len(differ) > 400


def test_insz_rule_agrees_with_stdnum_around_edge_dates_but_for_days_past_the_month_end():
    numbers = around_edge_dates()
    ours = rex_accepts(numbers)
    for number in numbers:
        expected = stdnum_accepts(number) and not is_deliberate_difference(number)
        assert ours[number] == expected, (number[:6], stdnum_accepts(number))


@pytest.mark.parametrize(
    ("date_part", "born_2000s", "accepted"),
    [
        ("850730", False, True),
        ("853830", False, False),  # month 38: neither a month nor a BIS month
        ("850775", False, False),  # day 75
        ("850231", False, False),  # 31 February
        ("000229", True, True),  # 2000 is a leap year
        ("000229", False, False),  # 1900 is not
        ("850700", False, True),  # day not known
        ("850000", False, True),  # month not known: the day is not checked (stdnum's rule)
        ("852730", False, True),  # BIS, sex unknown at issue
        ("854730", False, True),  # BIS, sex known at issue
        ("855330", False, False),  # BIS month 53
    ],
)
def test_insz_rule_checks_the_birth_date_part(date_part, born_2000s, accepted):
    number = with_check_digits(date_part + "123", born_2000s)
    assert rex_accepts([number])[number] is accepted


def test_insz_rule_refuses_a_birth_in_a_year_still_to_come():
    next_year = dt.date.today().year + 1
    number = with_check_digits(f"{next_year % 100:02d}0615123", True)
    assert rex_accepts([number])[number] is False


def test_generated_store_passes_the_insz_rule_of_the_source_checks(tmp_path):
    generate(300, 5, tmp_path / "store")
    findings = source_checks.find_defects(open_sources(duckdb.connect(), tmp_path / "store"))
    assert not [f for f in findings if f.kind.value == "invalid_check_digits" and f.records]
