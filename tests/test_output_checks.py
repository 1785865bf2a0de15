"""The output checks' rules on inline tables (spec tests), and their invariants (property tests):
no released count cell rests on fewer persons than the threshold, no released magnitude cell
fails a dominance rule, and person-level output is told apart."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from researcher.tables import Tabulated, tabulate
from specs.modes import OutputChecks
from transforms import output_checks
from transforms.output_checks import CellOutcome, released_table, rounded
from transforms.person_level import cells_are_persons, pseudonym_columns

RULES = OutputChecks()  # ACRO's and OpenSAFELY's defaults: 10 persons, (2, 0.9), p 0.1, round 5


def _persons(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(count)]


def count_table(frame: pl.DataFrame, by: list[str], levels=None) -> Tabulated:
    return tabulate(frame, by, levels=levels)


def magnitude_table(frame: pl.DataFrame, by: list[str], value: str, statistic: str) -> Tabulated:
    return tabulate(frame, by, statistic, value)


def cell_outcomes(cells: pl.DataFrame, rules: OutputChecks) -> pl.DataFrame:
    return output_checks.cell_outcomes(cells.cast(output_checks.CELL_SCHEMA), rules)


def test_defaults_are_acros_threshold_and_dominance_and_opensafelys_rounding():
    assert (RULES.min_persons, RULES.dominance_n, RULES.dominance_k, RULES.p_ratio) == (
        10,
        2,
        0.9,
        0.1,
    )
    assert (RULES.round_counts_to, RULES.zeros) == (5, "suppress")


def test_count_cells_below_the_threshold_and_zeros_are_suppressed_and_the_rest_rounded():
    frame = pl.DataFrame(
        {
            "person_id": _persons("f", 25) + _persons("m", 12) + _persons("x", 3),
            "sex": ["F"] * 25 + ["M"] * 12 + ["X"] * 3,
        }
    )
    checked = count_table(frame, ["sex"], levels={"sex": ["F", "M", "X", "Y"]})
    outcomes = cell_outcomes(checked.cells, RULES)
    # every count is rounded, a multiple already or not
    assert outcomes["outcome"].to_list() == [
        CellOutcome.ROUNDED,
        CellOutcome.ROUNDED,
        CellOutcome.FEW_PERSONS,
        CellOutcome.ZERO,
    ]
    released = released_table(checked.table, outcomes)
    assert released.to_dicts() == [
        {"sex": "F", "persons": 25, "persons_check": ""},
        {"sex": "M", "persons": 10, "persons_check": ""},
        # the released table does not tell the few persons of X from the nobody of Y
        {"sex": "X", "persons": None, "persons_check": "suppressed"},
        {"sex": "Y", "persons": None, "persons_check": "suppressed"},
    ]


def test_zeros_are_released_when_the_spec_says_so():
    rules = OutputChecks(zeros="release", round_counts_to=1)
    frame = pl.DataFrame({"person_id": _persons("f", 11), "sex": ["F"] * 11})
    checked = count_table(frame, ["sex"], levels={"sex": ["F", "M"]})
    outcomes = cell_outcomes(checked.cells, rules)
    assert outcomes["outcome"].to_list() == [CellOutcome.RELEASED, CellOutcome.RELEASED]
    assert released_table(checked.table, outcomes) is checked.table


def test_a_mean_dominated_by_one_person_is_suppressed():
    wages = [100.0] * 14 + [1_000_000.0]
    frame = pl.DataFrame({"person_id": _persons("p", 15), "group": ["a"] * 15, "wage": wages})
    checked = magnitude_table(frame, ["group"], "wage", "mean")
    outcomes = cell_outcomes(checked.cells, RULES)
    by_column = dict(zip(outcomes["column"], outcomes["outcome"], strict=True))
    assert by_column == {"persons": CellOutcome.ROUNDED, "mean_wage": CellOutcome.DOMINANCE}
    released = released_table(checked.table, outcomes)
    assert released.row(0, named=True)["mean_wage"] is None


def test_a_sum_whose_second_contributor_would_learn_the_first_is_suppressed_by_the_p_ratio():
    # with ACRO's (2, 0.9) the (n, k) rule catches every such cell first; at k = 0.99 the two
    # largest hold 97% (allowed), but the rest is under 10% of the largest
    rules = OutputChecks(dominance_k=0.99)
    values = [100.0, 50.0] + [0.5] * 10
    frame = pl.DataFrame({"person_id": _persons("p", 12), "group": ["a"] * 12, "wage": values})
    outcomes = cell_outcomes(magnitude_table(frame, ["group"], "wage", "sum").cells, rules)
    assert outcomes.filter(pl.col("column") == "sum_wage")["outcome"].to_list() == [
        CellOutcome.P_RATIO
    ]


def test_a_persons_rows_count_once_as_their_sum_in_a_cell():
    frame = pl.DataFrame(
        {"person_id": ["a", "a", "b"], "group": ["g"] * 3, "days": [1.0, 2.0, 4.0]}
    )
    checked = magnitude_table(frame, ["group"], "days", "mean")
    cell = checked.cells.filter(pl.col("column") == "mean_days").row(0, named=True)
    assert (cell["persons"], cell["total"], cell["largest"], cell["second"]) == (2, 7.0, 4.0, 3.0)
    assert checked.table.row(0, named=True) == {"group": "g", "persons": 2, "mean_days": 7 / 3}


def test_rounding_goes_to_the_nearest_multiple_halves_up():
    values = pl.DataFrame({"n": [10, 12, 13, 17, 18]})
    assert values.select(rounded(pl.col("n"), 5))["n"].to_list() == [10, 10, 15, 15, 20]


def test_a_table_whose_cells_are_single_persons_is_person_level():
    frame = pl.DataFrame({"person_id": _persons("p", 30), "wage": [float(i) for i in range(30)]})
    assert cells_are_persons(magnitude_table(frame, ["person_id"], "wage", "sum").cells)
    grouped = frame.with_columns(pl.lit("all").alias("group"))
    assert not cells_are_persons(magnitude_table(grouped, ["group"], "wage", "sum").cells)


def test_text_columns_holding_pseudonyms_are_found_and_counted():
    ids = pl.Series(["abcdefghijklmnopabcd", "ponmlkjihgfedcbaponm"])
    frame = pl.DataFrame({"who": ["abcdefghijklmnopabcd", "x"], "sex": ["F", "M"], "n": [1, 2]})
    assert pseudonym_columns(frame, ids) == {"who": 1}
    assert pseudonym_columns(frame.drop("who"), ids) == {}


contributions = st.lists(
    st.tuples(
        st.integers(0, 40),  # person
        st.sampled_from(["a", "b", "c"]),  # cell
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=300,
)
rules = st.builds(
    OutputChecks,
    min_persons=st.integers(1, 15),
    dominance_n=st.integers(1, 3),
    dominance_k=st.floats(0.5, 1.0),
    p_ratio=st.floats(0.0, 0.5),
    round_counts_to=st.integers(1, 10),
    zeros=st.sampled_from(["suppress", "release"]),
)


def _frame(rows: list[tuple[int, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"person_id": pl.Int64, "cell": pl.String, "value": pl.Float64}, orient="row"
    ).with_columns(pl.col("person_id").cast(pl.String))


@settings(max_examples=150, deadline=None)
@given(rows=contributions, rules=rules)
def test_no_released_cell_rests_on_fewer_persons_than_the_threshold(rows, rules):
    frame = _frame(rows)
    checked = count_table(frame, ["cell"], levels={"cell": ["a", "b", "c", "d"]})
    outcomes = cell_outcomes(checked.cells, rules)
    released = released_table(checked.table, outcomes)
    truth = frame.group_by("cell").agg(pl.col("person_id").n_unique().alias("true_persons"))
    shown = released.join(truth, on="cell", how="left").filter(pl.col("persons").is_not_null())
    true_persons = shown["true_persons"].fill_null(0)
    allowed = true_persons >= rules.min_persons
    if rules.zeros == "release":
        allowed = allowed | (true_persons == 0)
    assert allowed.all()
    assert (shown["persons"] % rules.round_counts_to == 0).all()


@settings(max_examples=150, deadline=None)
@given(rows=contributions, rules=rules, statistic=st.sampled_from(["sum", "mean", "median"]))
def test_no_released_magnitude_cell_fails_a_dominance_rule(rows, rules, statistic):
    frame = _frame(rows)
    checked = magnitude_table(frame, ["cell"], "value", statistic)
    outcomes = cell_outcomes(checked.cells, rules)
    released = released_table(checked.table, outcomes)
    value = f"{statistic}_value"
    # recomputed from the rows, independently of the recorded cells
    per_person = frame.group_by("cell", "person_id").agg(pl.col("value").sum().abs().alias("c"))
    truth = per_person.group_by("cell").agg(
        pl.len().alias("n"),
        pl.col("c").sum().alias("total"),
        pl.col("c").sort(descending=True).head(rules.dominance_n).sum().alias("top_n"),
        pl.col("c").sort(descending=True).head(2).sum().alias("top_2"),
        pl.col("c").max().alias("largest"),
    )
    shown = released.filter(pl.col(value).is_not_null()).join(truth, on="cell")
    tolerance = 1e-9 * shown["total"].abs().max() if shown.height else 0
    assert (shown["n"] >= rules.min_persons).all()
    assert (shown["top_n"] <= rules.dominance_k * shown["total"] + tolerance).all()
    assert (shown["total"] - shown["top_2"] >= rules.p_ratio * shown["largest"] - tolerance).all()


@pytest.mark.parametrize("statistic", ["median", "p90"])
def test_percentiles_get_the_dominance_rules_sums_get(statistic):
    frame = pl.DataFrame(
        {"person_id": _persons("p", 12), "group": ["a"] * 12, "wage": [1.0] * 11 + [1e9]}
    )
    outcomes = cell_outcomes(magnitude_table(frame, ["group"], "wage", statistic).cells, RULES)
    value_cells = outcomes.filter(pl.col("column") == f"{statistic}_wage")
    assert value_cells["outcome"].to_list() == [CellOutcome.DOMINANCE]


@pytest.mark.parametrize("statistic", ["median", "p10", "p90"])
def test_a_percentile_that_is_one_persons_value_is_suppressed(statistic):
    # 11 persons: the median, p10 and p90 fall each on one person's exact wage
    wages = [30_000.0 + 1_000 * i for i in range(11)]
    frame = pl.DataFrame({"person_id": _persons("p", 11), "group": ["a"] * 11, "wage": wages})
    outcomes = cell_outcomes(magnitude_table(frame, ["group"], "wage", statistic).cells, RULES)
    value_cells = outcomes.filter(pl.col("column") == f"{statistic}_wage")
    assert value_cells["outcome"].to_list() == [CellOutcome.EXACT]
    # between two persons' values, a percentile is nobody's
    even = pl.DataFrame(
        {"person_id": _persons("p", 12), "group": ["a"] * 12, "wage": [*wages, 41_000.0]}
    )
    median = cell_outcomes(magnitude_table(even, ["group"], "wage", "median").cells, RULES)
    assert median.filter(pl.col("column") == "median_wage")["outcome"].to_list() == [
        CellOutcome.RELEASED
    ]


def test_a_sum_of_ones_is_rounded_as_a_count_and_a_mean_of_ones_and_zeros_as_a_share():
    frame = pl.DataFrame(
        {
            "person_id": _persons("p", 23),
            "band": ["18-29"] * 23,
            "one": [1.0] * 23,
            "flag": [1.0] * 7 + [0.0] * 16,
        }
    )
    summed = magnitude_table(frame, ["band"], "one", "sum")
    released = released_table(summed.table, cell_outcomes(summed.cells, RULES))
    assert released["sum_one"].to_list() == [25.0]
    share = magnitude_table(frame, ["band"], "flag", "mean")
    released = released_table(share.table, cell_outcomes(share.cells, RULES))
    assert released["mean_flag"].to_list() == [pytest.approx(5 / 25)]


@settings(max_examples=100, deadline=None)
@given(tens=st.integers(2, 40), residue=st.integers(0, 4), base=st.sampled_from([3, 5, 10]))
def test_rounding_says_nothing_of_the_residue(tens, residue, base):
    """Whether a count was a multiple already shows nowhere: the released table of a count is
    the same columns, the same check text, and the rounded value whatever its residue."""
    rules = OutputChecks(round_counts_to=base, min_persons=1)
    count = tens * base + residue % base
    frame = pl.DataFrame({"person_id": _persons("p", count), "group": ["a"] * count})
    checked = count_table(frame, ["group"])
    released = released_table(checked.table, cell_outcomes(checked.cells, rules))
    assert released.columns == ["group", "persons"]
    assert released["persons"].to_list() == [((count + base // 2) // base) * base]
