"""Identifiers in an output, in any common encoding: spec tests with inline texts."""

from __future__ import annotations

import base64
import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import identifiers

PERSON = "abcdefghijklmnopabcd"
OTHER = "ponmlkjihgfedcbaponm"
IDS = pl.Series([PERSON, OTHER])


def _hits(*texts: str) -> dict[str, int]:
    return identifiers.pseudonym_hits(pl.Series(texts, dtype=pl.String), IDS)


def _number(pseudonym: str) -> str:
    return str(int("".join(f"{ord(c) - ord('a'):x}" for c in pseudonym), 16))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (PERSON, identifiers.PSEUDONYMS),
        (PERSON.upper(), identifiers.PSEUDONYMS),
        (f"xx{PERSON}yy", identifiers.PSEUDONYMS),  # inside a longer word
        (f"label,{PERSON[::-1]}", identifiers.REVERSED),
        (base64.b64encode(PERSON.encode()).decode(), identifiers.BASE64),
        (base64.b64encode(b"{'id': '" + PERSON.encode() + b"'}").decode(), identifiers.BASE64),
        (PERSON.encode().hex(), identifiers.HEX),
        ("".join(f"{ord(c) - ord('a'):x}" for c in PERSON), identifiers.HEX),
        (_number(PERSON), identifiers.NUMBERS),
    ],
    ids=[
        "plain",
        "upper",
        "inside",
        "reversed",
        "base64",
        "base64 blob",
        "hex",
        "nibbles",
        "number",
    ],
)
def test_a_pseudonym_is_found_in_each_encoding(text, kind):
    assert _hits(text).get(kind, 0) >= 1


def test_text_without_pseudonyms_names_nobody():
    assert _hits("year,sex,persons\n2015,F,120\n2015,M,95\n", "abcdefghij abcdefghij") == {}


def test_a_pseudonym_split_across_two_columns_is_found_in_either_order():
    frame = pl.DataFrame({"a": [PERSON[:7], "x"], "b": [PERSON[7:], "y"], "c": ["m", OTHER]})
    assert identifiers.split_hits(frame, IDS) == 1
    swapped = pl.DataFrame({"a": [OTHER[9:]], "b": [OTHER[:9].upper()]})
    assert identifiers.split_hits(swapped, IDS) == 1


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("85073003328", 1),  # born 1985-07-30, check digits 28
        ("85.07.30-033.28", 1),
        ("85073003327", 0),  # wrong check digits
        ("00010100105", 1),  # born 2000-01-01: the check digits count a leading 2
        ("41567.84", 0),
        ("12345678901", 0),
    ],
)
def test_insz_numbers_are_found_by_their_check_digits(text, hits):
    assert identifiers.insz_hits(pl.Series([text])) == hits


def test_exact_birth_dates_of_the_workspace_are_found_and_other_dates_are_not():
    born = pl.Series([dt.date(1967, 2, 6), dt.date(1970, 1, 1)])
    text = pl.Series(["born 1967-02-06 and seen 2015-12-31"])
    assert identifiers.birth_date_hits(text, born) == 1


@settings(max_examples=50, deadline=None)
@given(
    prefix=st.text(alphabet="abcdefghijklmnop", max_size=30),
    suffix=st.text(alphabet="abcdefghijklmnop", max_size=30),
)
def test_a_pseudonym_is_found_wherever_it_stands_in_a_run_of_letters(prefix, suffix):
    runs = pl.Series([prefix, prefix + PERSON + suffix, "q" * 40, suffix], dtype=pl.String)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(identifiers, "BATCH_CHARACTERS", 7)  # the windows in several batches
        assert identifiers.pseudonym_hits(runs, IDS)[identifiers.PSEUDONYMS] >= 1
