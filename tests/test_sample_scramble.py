"""The keyed sample and the nationality scramble: the global steps of sample mode."""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.sample import PopulationTooSmall, draw_sample
from transforms.scramble import apply_pairs, scramble

KEY = bytes(32)
OTHER_KEY = bytes([7] * 32)


def population(n: int, offset: int = 0) -> pl.DataFrame:
    return pl.DataFrame({"insz": [f"{i:011d}" for i in range(offset, offset + n)]})


@given(st.integers(min_value=1, max_value=300), st.data())
@settings(max_examples=30, deadline=None)
def test_sample_holds_exactly_n_distinct_persons_of_the_population(size, data):
    n = data.draw(st.integers(min_value=1, max_value=size))
    sample = draw_sample(population(size), KEY, n)
    assert sample.height == n == sample["insz"].n_unique()
    assert set(sample["insz"]) <= set(population(size)["insz"])


def test_sample_is_deterministic_and_depends_on_the_key():
    pop = population(1000)
    assert draw_sample(pop, KEY, 100).equals(draw_sample(pop.reverse(), KEY, 100))
    overlap = set(draw_sample(pop, KEY, 100)["insz"]) & set(
        draw_sample(pop, OTHER_KEY, 100)["insz"]
    )
    assert len(overlap) < 30  # about 10 expected by chance


@given(st.integers(min_value=10, max_value=400), st.integers(min_value=0, max_value=200))
@settings(max_examples=30, deadline=None)
def test_sampled_persons_stay_sampled_when_the_population_grows_unless_displaced(size, growth):
    n = size // 2
    before = set(draw_sample(population(size), KEY, n)["insz"])
    grown = pl.concat([population(size), population(growth, offset=10**6)])
    after = set(draw_sample(grown, KEY, n)["insz"])
    newcomers = after - before
    # only newcomers can push persons out, one each
    assert all(int(p) >= 10**6 for p in newcomers)
    assert len(before - after) == len(newcomers)


def test_sample_larger_than_the_population_is_refused():
    with pytest.raises(
        PopulationTooSmall, match="3 eligible persons, fewer than the sample size of 5"
    ):
        draw_sample(population(3), KEY, 5)


def panel(nationalities: list[tuple[str, str]], periods: int = 2) -> pl.DataFrame:
    rows = [
        {
            "person_id": f"p{i:05d}",
            "quarter": f"2010-Q{q}",
            "nationality": nat,
            "first": first,
            "other": i,
        }
        for i, (nat, first) in enumerate(nationalities)
        for q in range(1, periods + 1)
    ]
    return pl.DataFrame(rows)


pairs = st.lists(
    st.tuples(st.sampled_from(["150", "111", "129"]), st.sampled_from(["150", "354"])),
    min_size=1,
    max_size=60,
)


@given(pairs)
@settings(max_examples=40, deadline=None)
def test_scramble_keeps_the_distribution_of_pairs_over_persons_exactly(nationalities):
    before = panel(nationalities)
    after = scramble(before, ["nationality", "first"], KEY, "person_id", "quarter")
    per_person = after.group_by("person_id").agg(
        pl.col("nationality").first(), pl.col("first").first()
    )
    assert Counter(per_person.select("nationality", "first").rows()) == Counter(nationalities)
    # one pair per person, in every period; the other columns untouched
    assert (
        after.group_by("person_id").agg(pl.col("nationality").n_unique())["nationality"].max() == 1
    )
    assert (
        after.drop("nationality", "first")
        .sort("person_id", "quarter")
        .equals(before.drop("nationality", "first").sort("person_id", "quarter"))
    )


def test_scramble_links_persons_to_their_own_nationality_at_chance_level_only():
    own = [("150", "150") if i % 2 else ("111", "111") for i in range(4000)]
    after = scramble(panel(own, periods=1), ["nationality", "first"], KEY, "person_id", "quarter")
    kept = after.sort("person_id")["nationality"] == panel(own, 1).sort("person_id")["nationality"]
    assert 0.46 < kept.mean() < 0.54  # chance for two equal halves is one half


def test_scramble_is_reproducible_with_the_key_only():
    own = [(str(100 + i % 50), "150") for i in range(500)]
    first = scramble(panel(own), ["nationality", "first"], KEY, "person_id", "quarter")
    again = scramble(panel(own), ["nationality", "first"], KEY, "person_id", "quarter")
    other = scramble(panel(own), ["nationality", "first"], OTHER_KEY, "person_id", "quarter")
    assert first.sort("person_id", "quarter").equals(again.sort("person_id", "quarter"))
    assert not first.sort("person_id", "quarter").equals(other.sort("person_id", "quarter"))


@given(
    st.lists(st.sampled_from(["p1", "p2", "p3", "p4"]), max_size=30),
    st.lists(st.sampled_from(["p1", "p2", "p3", "p5"]), unique=True, max_size=4),
)
@settings(max_examples=50, deadline=None)
def test_received_pairs_are_handed_out_as_a_join_on_the_persons_hands_them(rows, holders):
    # the lookup per column keeps the rows, their order and the other columns, and gives null
    # to a person the pairs do not hold, as a left join would
    frame = pl.DataFrame(
        {
            "person_id": rows,
            "nationality": ["150"] * len(rows),
            "other": list(range(len(rows))),
            "first": ["150"] * len(rows),
        },
        schema={
            "person_id": pl.String,
            "nationality": pl.String,
            "other": pl.Int64,
            "first": pl.String,
        },
    )
    received = pl.DataFrame(
        {
            "person_id": holders,
            "nationality": [f"1{i}" for i in range(len(holders))],
            "first": [f"3{i}" for i in range(len(holders))],
        },
        schema={"person_id": pl.String, "nationality": pl.String, "first": pl.String},
    )
    joined = (
        frame.drop("nationality", "first")
        .join(received, on="person_id", how="left", maintain_order="left")
        .select(frame.columns)
    )
    assert apply_pairs(frame, ["nationality", "first"], received, "person_id").equals(joined)
