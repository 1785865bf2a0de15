"""Disclosure risk measured against the whole population: spec tests with inline rows, and the
invariants (counts only, order and slicing do not matter)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.modes import DisclosureRisk, Protections
from transforms.disclosure_risk import (
    IN_SAMPLE,
    DisclosureRiskTooHigh,
    as_released,
    digested,
    refuse_above_threshold,
    risk_figures,
    trajectories,
    trajectory_uniqueness,
)

# A population of eight; the sample is persons a, c, e, h.
POPULATION = pl.DataFrame(
    {
        "person": ["a", "b", "c", "d", "e", "f", "g", "h"],
        "sex": ["1", "1", "2", "2", "2", "1", "1", "2"],
        "birth_date": [
            "1970-01",
            "1970-01",
            "1980-05",
            "1980-05",
            "1980-05",
            "1990-03",
            "1990-03",
            "1955-12",
        ],  # fmt: skip
        "medical_code": ["x", "y", "x", "x", "x", None, "z", "y"],
        IN_SAMPLE: [True, False, True, False, True, False, False, True],
    }
)
QIS = ["sex", "birth_date"]


def test_sample_person_alone_in_the_population_is_counted_unique():
    figures = risk_figures(POPULATION, QIS, ["medical_code"])
    # h is alone in the population; a shares with b, c and e with d
    assert figures["unique_in_population"] == 1
    assert figures["unique_share"] == 0.25
    assert figures["sample_persons"] == 4
    assert figures["population_persons"] == 8
    assert figures["k_min"] == 1
    assert figures["k_bands"] == {"1": 1, "2": 1, "3-4": 2, "5-9": 0, "10+": 0}


def test_unique_in_sample_counts_classes_within_the_sample_only():
    # a and h are alone in the sample; c and e share a class
    assert risk_figures(POPULATION, QIS, [])["unique_in_sample"] == 2


def test_l_diversity_counts_distinct_sensitive_values_in_the_sample_classes():
    figures = risk_figures(POPULATION, QIS, ["medical_code"])
    # sample classes: {a: x}, {c, e: x, x}, {h: y}: every class has one value
    assert figures["l_diversity"] == {
        "medical_code": {"min": 1, "bands": {"1": 4, "2": 0, "3-4": 0, "5-9": 0, "10+": 0}}
    }


def test_missing_values_form_a_class_of_their_own():
    frame = pl.DataFrame(
        {"person": ["a", "b", "c"], "sex": [None, None, "1"], IN_SAMPLE: [True, False, True]}
    )
    figures = risk_figures(frame, ["sex"], [])
    assert figures["unique_in_population"] == 1  # c only
    assert figures["k_bands"]["2"] == 1  # a with b


def test_figures_hold_counts_and_names_only():
    figures = risk_figures(POPULATION, QIS, ["medical_code"])
    text = repr(figures)
    for value in ("1970-01", "1955-12", "'x'", "'a'", "'h'"):
        assert value not in text


def test_released_values_are_the_last_quarter_cut_to_the_month():
    quarter = pl.DataFrame(
        {
            "person": ["a", "a", "b"],
            "quarter": ["2015-Q1", "2015-Q2", "2015-Q2"],
            "birth_date": [dt.date(1970, 1, 9)] * 2 + [dt.date(1970, 1, 28)],
            "municipality": ["21004", "11002", "11002"],
        }
    )
    mode_protect = Protections(amounts="classes", dates="month", nationality="scramble")

    class _Mode:
        protect = mode_protect

    released = as_released(
        quarter, ["birth_date", "municipality"], "person", "quarter", _Mode(), {}
    ).sort("person")
    assert released.to_dicts() == [
        {"person": "a", "birth_date": "1970-01", "municipality": "11002"},
        {"person": "b", "birth_date": "1970-01", "municipality": "11002"},
    ]


def test_trajectory_unique_in_population():
    monthly = pl.DataFrame(
        {
            "person": ["a", "a", "b", "b", "c", "c"],
            "month": ["2015-01", "2015-02"] * 3,
            "position": ["W", "U", "W", "U", "W", None],
        }
    )
    flags = pl.DataFrame({"person": ["a", "b", "c"], IN_SAMPLE: [True, False, True]})
    figures = trajectory_uniqueness(trajectories(monthly, "person", "month", "position", flags))
    assert figures == {"unique": 1, "share": 0.5}  # c; a shares hers with b


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.sampled_from(["W", "U", "I", None])),
        min_size=1,
        max_size=40,
    ),
    st.sets(st.sampled_from("abcdefgh")),
)
def test_trajectories_as_digests_give_the_same_uniqueness_as_their_text(rows, sampled):
    """The export keeps a digest of each person's trajectory, not its text: the same persons
    share one, so the figures are those of the text."""
    persons = sorted({person for person, _ in rows})
    monthly = pl.DataFrame(
        {
            "person": [person for person, _ in rows],
            "month": [f"2015-{n % 12 + 1:02d}/{n // 12}" for n in range(len(rows))],
            "position": [position for _, position in rows],
        }
    )
    flags = pl.DataFrame({"person": persons, IN_SAMPLE: [p in sampled for p in persons]})
    text = trajectories(monthly, "person", "month", "position", flags)
    assert trajectory_uniqueness(digested(text)) == trajectory_uniqueness(text)
    same = text.join(text, on="sequence").select("person", "person_right")
    kept = digested(text)
    assert (
        kept.join(kept, on="sequence")
        .select("person", "person_right")
        .sort(pl.all())
        .equals(same.sort(pl.all()))
    )


def test_unique_share_above_the_threshold_refuses():
    figures = risk_figures(POPULATION, QIS, [])
    refuse_above_threshold(figures, 0.25)
    refuse_above_threshold(figures, None)
    with pytest.raises(DisclosureRiskTooHigh, match="1 of 4 sample persons"):
        refuse_above_threshold(figures, 0.2)


def test_spec_names_only_quarter_variables_as_quasi_identifiers():
    assert DisclosureRisk(quasi_identifiers=("sex",)).quasi_identifiers == ("sex",)
    with pytest.raises(ValueError, match="not a variable of the quarter panel"):
        DisclosureRisk(quasi_identifiers=("socio_economic_position",))
    with pytest.raises(ValueError):
        DisclosureRisk(max_unique_share=1.5)


persons = st.lists(
    st.tuples(st.sampled_from("12"), st.integers(0, 3), st.sampled_from("xyz"), st.booleans()),
    min_size=1,
    max_size=40,
)


def frame(rows: list[tuple[str, int, str, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person": [str(i) for i in range(len(rows))],
            "sex": [r[0] for r in rows],
            "year": [r[1] for r in rows],
            "medical_code": [r[2] for r in rows],
            IN_SAMPLE: [r[3] for r in rows],
        }
    )


@settings(max_examples=60, deadline=None)
@given(persons, st.randoms())
def test_figures_bound_each_other_and_do_not_depend_on_row_order(rows, random):
    population = frame(rows)
    figures = risk_figures(population, ["sex", "year"], ["medical_code"])
    assert figures["unique_in_population"] <= figures["unique_in_sample"]
    assert sum(figures["k_bands"].values()) == figures["sample_persons"]
    bands = figures["l_diversity"]["medical_code"]["bands"]
    assert sum(bands.values()) == figures["sample_persons"]
    order = list(range(population.height))
    random.shuffle(order)
    shuffled = population[order]
    assert risk_figures(shuffled, ["sex", "year"], ["medical_code"]) == figures
    # the figures of a sample built slice by slice: the sample persons are the same wherever
    # they were cut, so the figures of the concatenated slices are the figures
    cut = len(order) // 2
    sliced = pl.concat([shuffled[:cut], shuffled[cut:]])
    assert risk_figures(sliced, ["sex", "year"], ["medical_code"]) == figures


def test_a_release_without_quasi_identifiers_is_one_class():
    figures = risk_figures(POPULATION, [], [])
    assert figures["quasi_identifiers"] == []
    assert figures["unique_in_population"] == 0
    assert figures["k_min"] == 8
    assert figures["k_bands"]["5-9"] == 4
