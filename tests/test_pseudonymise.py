"""Pseudonyms: keyed, stable, separated by project and domain, and telling nothing of the INSZ."""

from __future__ import annotations

import hashlib
import hmac
import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.patterns import PSEUDONYM_PATTERN
from transforms import pseudonymise
from transforms.protect import replace_identifiers
from transforms.pseudonymise import PseudonymCollision, pseudonym, pseudonym_map

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
identifiers = st.lists(
    st.text(alphabet="0123456789", min_size=11, max_size=11), min_size=1, max_size=50, unique=True
)


def pseudonyms_of(ids: list[str], key: bytes, domain: str = "person") -> list[str]:
    return pl.DataFrame({"id": ids}).select(p=pseudonym(pl.col("id"), key, domain))["p"].to_list()


def reference(identifier: str, key: bytes, domain: str) -> str:
    digest = hmac.new(key.hex().encode(), f"{domain}\x00{identifier}".encode(), hashlib.sha256)
    return digest.hexdigest()[:20].translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))


@given(identifiers)
@settings(max_examples=50, deadline=None)
def test_pseudonym_is_the_hmac_sha256_of_the_domain_and_identifier(ids):
    assert pseudonyms_of(ids, KEY_A) == [reference(i, KEY_A, "person") for i in ids]


@given(identifiers)
@settings(max_examples=30, deadline=None)
def test_same_key_and_identifier_give_the_same_pseudonym(ids):
    assert pseudonyms_of(ids, KEY_A) == pseudonyms_of(list(ids), KEY_A)


@given(identifiers)
@settings(max_examples=30, deadline=None)
def test_pseudonym_differs_between_projects(ids):
    assert not set(pseudonyms_of(ids, KEY_A)) & set(pseudonyms_of(ids, KEY_B))


@given(identifiers)
@settings(max_examples=30, deadline=None)
def test_pseudonym_differs_between_domains(ids):
    assert not set(pseudonyms_of(ids, KEY_A, "person")) & set(pseudonyms_of(ids, KEY_A, "employer"))


@given(identifiers)
@settings(max_examples=30, deadline=None)
def test_pseudonym_holds_only_letters_so_it_never_looks_like_a_number(ids):
    assert all(re.fullmatch(PSEUDONYM_PATTERN, p) for p in pseudonyms_of(ids, KEY_A))


def test_pseudonym_reveals_neither_birth_date_nor_sex():
    # INSZ = YYMMDD + counter (odd for men) + check digits: the pseudonyms' order must not follow
    # the birth date, and their letters must not tell men from women.
    births = pl.date_range(pl.date(1950, 1, 1), pl.date(1999, 12, 31), "9d", eager=True)
    frame = (
        pl.DataFrame({"birth": births})
        .with_row_index("n")
        .with_columns(
            counter=(pl.col("n") % 400 + 1),
        )
        .with_columns(
            insz=pl.col("birth").dt.strftime("%y%m%d")
            + pl.col("counter").cast(pl.String).str.zfill(3)
            + pl.lit("00"),
            is_man=pl.col("counter") % 2 == 1,
        )
    )
    frame = frame.with_columns(pseudonym=pseudonym(pl.col("insz"), KEY_A, "person"))
    rank = frame.select(
        pl.corr(pl.col("birth").rank(), pl.col("pseudonym").rank(), method="spearman")
    ).item()
    assert abs(rank) < 0.05
    first_letter_men = (
        frame.filter("is_man")["pseudonym"].str.slice(0, 1).value_counts(normalize=True)
    )
    assert first_letter_men["proportion"].max() < 0.09  # 16 letters, about 1/16 each


def test_pseudonym_map_refuses_a_collision(monkeypatch):
    monkeypatch.setattr(pseudonymise, "pseudonym", lambda ids, key, domain: pl.lit("aaaa"))
    with pytest.raises(PseudonymCollision, match="same pseudonym"):
        pseudonym_map(pl.Series(["1", "2"]), KEY_A, "person")


def test_pseudonym_map_hashes_each_distinct_identifier_once():
    mapping = pseudonym_map(pl.Series(["2", "1", "2", None]), KEY_A, "employer")
    assert mapping["id"].to_list() == ["1", "2"]


@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])), max_size=30),
    st.lists(st.sampled_from(["a", "b", "c", "e"]), unique=True, max_size=4),
)
@settings(max_examples=50, deadline=None)
def test_identifiers_are_replaced_as_a_join_on_the_map_replaces_them(column, mapped):
    # the lookup of one column keeps the rows, their order and the other columns, and gives
    # null to a null and to an identifier the map does not hold, as a left join would
    frame = pl.DataFrame(
        {"id_column": column, "other": list(range(len(column)))},
        schema={"id_column": pl.String, "other": pl.Int64},
    )
    mapping = pseudonym_map(pl.Series(mapped, dtype=pl.String), KEY_A, "employer")
    joined = (
        frame.join(mapping, left_on="id_column", right_on="id", how="left", maintain_order="left")
        .drop("id_column")
        .rename({"pseudonym": "id_column"})
        .select(frame.columns)
    )
    assert replace_identifiers(frame, "id_column", mapping).equals(joined)
