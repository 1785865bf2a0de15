"""The barometer notebook: its indicator functions on inline rows, and the notebook run top to
bottom on a release made by the real flows, with the utility comparison against the exact panels."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
NOTEBOOK = NOTEBOOKS / "barometer.ipynb"


def _import_barometer():
    spec = importlib.util.spec_from_file_location("barometer", NOTEBOOKS / "barometer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["barometer"] = module
    spec.loader.exec_module(module)
    return module


bm = _import_barometer()

MONTH_SCHEMA = {
    "person_id": pl.String,
    "month": pl.String,
    "socio_economic_position": pl.String,
    "unemployment_category": pl.String,
    "incapacity_phase": pl.String,
    "incapacity_start": pl.String,
    "incapacity_end": pl.String,
    "incapacity_daily_benefit": pl.String,
}
EXACT_MONTH_SCHEMA = {
    **MONTH_SCHEMA,
    "incapacity_start": pl.Date,
    "incapacity_end": pl.Date,
    "incapacity_daily_benefit": pl.Float64,
}


def month_panel(rows, exact=False):
    """Month rows: (person, month, position, unemployment, phase, start, end, benefit)."""
    return pl.DataFrame(rows, schema=EXACT_MONTH_SCHEMA if exact else MONTH_SCHEMA, orient="row")


def people(rows, exact=False):
    """Person rows: (person, sex, birth, nationality)."""
    schema = {
        "person_id": pl.String,
        "sex": pl.String,
        "birth_date": pl.Date if exact else pl.String,
        "nationality": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


D = dt.date

# Two persons: p1's episode reaches invalidity and ends; p2's starts in the birthday month, the
# month before the 25th birthday, and still runs when the panel ends (2015-12).
SAMPLE_MONTHS = month_panel(
    [
        ("p1", "2010-01", "111", None, None, None, None, None),
        ("p1", "2010-02", "331", None, "primary", "2010-02", "2011-03", "[50,60)"),
        ("p1", "2011-02", "332", None, "invalidity", "2010-02", "2011-03", "[40,50)"),
        ("p2", "2015-11", "331", None, "primary", "2015-11", None, "<40"),
        ("p2", "2015-12", "331", None, "primary", "2015-11", None, "<40"),
    ]
)
EXACT_MONTHS = month_panel(
    [
        ("p1", "2010-01", "111", None, None, None, None, None),
        ("p1", "2010-02", "331", None, "primary", D(2010, 2, 10), D(2011, 3, 5), 55.0),
        ("p1", "2011-02", "332", None, "invalidity", D(2010, 2, 10), D(2011, 3, 5), 45.0),
        ("p2", "2015-11", "331", None, "primary", D(2015, 11, 5), None, 38.0),
        ("p2", "2015-12", "331", None, "primary", D(2015, 11, 5), None, 38.0),
    ],
    exact=True,
)
SAMPLE_PEOPLE = people([("p1", "F", "1970-05", "150"), ("p2", "M", "1990-11", "354")])
EXACT_PEOPLE = people(
    [("p1", "F", D(1970, 5, 20), "150"), ("p2", "M", D(1990, 11, 20), "354")], exact=True
)


def test_month_number_counts_months_from_a_date_or_a_month():
    frame = pl.DataFrame({"d": [D(2010, 2, 10)], "m": ["2010-02"]})
    assert frame.select(bm.month_number(frame, "d"), bm.month_number(frame, "m")).row(0) == (
        2010 * 12 + 1,
        2010 * 12 + 1,
    )


def test_episodes_from_months_have_whole_month_durations_and_month_ages():
    episodes = bm.episodes(SAMPLE_MONTHS, SAMPLE_PEOPLE)
    p1, p2 = episodes.rows(named=True)
    assert (p1["start_year"], p1["age"], p1["age_group"], p1["sex"]) == (2010, 39, "35-44", "F")
    assert p1["ended"] and p1["reached_invalidity"] and p1["time_months"] == 13.0
    assert p1["entry_benefit"] == "[50,60)"  # the class of the episode's first month
    # started in November 2015, the birthday month: 25 from months, though still 24 that day
    assert (p2["age"], p2["age_group"]) == (25, "25-34")
    assert not p2["ended"] and not p2["reached_invalidity"]
    assert p2["time_months"] == 1.0  # censored at the last month of the panel, 2015-12


def test_episodes_from_dates_have_exact_durations_and_ages():
    episodes = bm.episodes(EXACT_MONTHS, EXACT_PEOPLE)
    p1, p2 = episodes.rows(named=True)
    assert p1["time_months"] == pytest.approx(388 / (365.25 / 12))  # 10 Feb 2010 to 5 Mar 2011
    assert (p1["age"], p1["age_group"], p1["entry_benefit"]) == (39, "35-44", 55.0)
    assert (p2["age"], p2["age_group"]) == (24, "<25")
    assert p2["time_months"] == pytest.approx(56 / (365.25 / 12))  # censored on 31 Dec 2015


def test_inflow_counts_entries_per_year_sex_and_age_group_with_zeros():
    episodes = pl.DataFrame(
        {
            "start_year": [2010, 2010, 2010, 2011, 2009],
            "sex": ["F", "F", "M", "M", "F"],
            "age_group": ["35-44", "35-44", "<25", "55+", "35-44"],
        },
        schema={"start_year": pl.Int32, "sex": pl.String, "age_group": pl.String},
    )
    inflow = bm.inflow(episodes, 2010, 2011)
    assert inflow.height == 2 * 2 * 5
    assert inflow["entries"].sum() == 4  # the 2009 entry is outside the years asked for

    def cell(year, sex, group):
        return inflow.filter(
            (pl.col("year") == year) & (pl.col("sex") == sex) & (pl.col("age_group") == group)
        )["entries"].item()

    assert cell(2010, "F", "35-44") == 2
    assert cell(2010, "M", "<25") == 1
    assert cell(2011, "M", "55+") == 1
    assert cell(2011, "F", "35-44") == 0


def test_invalidity_share_counts_persons_alive_on_31_december():
    months = month_panel(
        [
            ("p1", "2010-12", "332", None, "invalidity", "2009-01", None, None),
            ("p2", "2010-12", "331", None, "primary", "2010-06", None, None),
            ("p3", "2010-12", "111", None, None, None, None, None),
            ("p3", "2011-06", "332", None, "invalidity", "2010-01", None, None),  # not December
            ("p1", "2011-12", "332", None, "invalidity", "2009-01", None, None),
            ("p2", "2011-12", "332", None, "invalidity", "2010-06", None, None),
        ]
    )
    persons = people(
        [
            ("p1", "F", "1960-01", "150"),
            ("p2", "M", "1960-01", "150"),
            ("p3", "F", "1960-01", "150"),
        ]
    )
    shares = {
        (r["year"], r["sex"]): (r["in_invalidity"], r["persons"])
        for r in bm.invalidity_share(months, persons).iter_rows(named=True)
    }
    assert shares == {
        (2010, "all"): (1, 3),
        (2010, "F"): (1, 2),
        (2010, "M"): (0, 1),
        (2011, "all"): (2, 2),
        (2011, "F"): (1, 1),
        (2011, "M"): (1, 1),
    }


def test_survival_is_kaplan_meier_with_censored_episodes_at_risk():
    # durations 1, 2, 3 ended; 2 and 5 still running (censored)
    episodes = pl.DataFrame(
        {"time_months": [1.0, 2.0, 2.0, 3.0, 5.0], "ended": [True, True, False, True, False]}
    )
    curve = bm.survival(episodes)
    assert curve["at_risk"].to_list() == [5, 4, 2, 1]
    assert curve["surviving"].to_list() == pytest.approx([0.8, 0.6, 0.3, 0.3])
    assert bm.median_duration(curve) == 3.0
    assert bm.still_running_after(curve, 0.5) == 1.0
    assert bm.still_running_after(curve, 2.5) == pytest.approx(0.6)
    # an episode of exactly 2 months may have lasted just under or just over: it counts half
    assert bm.still_running_after(curve, 2) == pytest.approx((0.8 + 0.6) / 2)


def test_median_duration_is_none_while_more_than_half_still_run():
    curve = bm.survival(
        pl.DataFrame({"time_months": [1.0, 4.0, 4.0], "ended": [True, False, False]})
    )
    assert bm.median_duration(curve) is None


def test_trajectories_give_each_state_share_around_the_entry():
    months = month_panel(
        [
            ("p", "2003-01", "111", None, None, None, None, None),
            ("p", "2003-02", "211", "WN", None, None, None, None),
            ("p", "2003-03", "331", None, "primary", "2003-03", "2003-04", None),
            ("p", "2003-04", "399", None, None, None, None, None),
            ("p", "2003-05", "111", None, None, None, None, None),
            ("q", "2003-03", "111", None, None, None, None, None),
            # a limited incapacity next to work is incapacity; q dies in May
            ("q", "2003-04", "111", None, "primary", "2003-04", None, None),
        ]
    )
    persons = people([("p", "F", "1970-01", "150"), ("q", "M", "1970-01", "150")])
    shares = bm.trajectories(months, bm.episodes(months, persons), window=1)
    observed = {
        (r["offset"], r["state"]): r["share"] for r in shares.iter_rows(named=True) if r["share"]
    }
    assert observed == {
        (-1, "unemployment"): 0.5,
        (-1, "employment"): 0.5,
        (0, "incapacity"): 1.0,
        (1, "other"): 1.0,
    }


def test_class_labels_give_bounds_middles_and_exact_shares_below_an_edge():
    assert bm.class_bounds("<40") == (None, 40.0)
    assert bm.class_bounds("[40,50)") == (40.0, 50.0)
    assert bm.class_bounds(">=80") == (80.0, None)
    assert bm.class_midpoints(["<40", "[40,50)", "[60,80)", ">=80"]) == {
        "<40": 35.0,
        "[40,50)": 45.0,
        "[60,80)": 70.0,
        ">=80": 90.0,
    }
    frame = pl.DataFrame({"benefit": ["<40", "[40,50)", "[50,60)", None]})
    assert bm.share_below(frame, "benefit", 50) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="not a class edge"):
        bm.share_below(frame, "benefit", 45)
    exact = pl.DataFrame({"benefit": [39.0, 49.99, 50.0]})
    assert bm.share_below(exact, "benefit", 50) == pytest.approx(2 / 3)


def test_persons_take_the_nationality_of_their_last_quarter():
    quarter = pl.DataFrame(
        {
            "person_id": ["p", "p"],
            "quarter": ["2003-Q2", "2003-Q1"],
            "birth_date": ["1970-01", "1970-01"],
            "sex": ["F", "F"],
            "nationality": ["150", "354"],
        }
    )
    assert bm.persons(quarter).row(0, named=True)["nationality"] == "150"


def test_invalidity_by_nationality_groups_belgians_and_others():
    months = month_panel(
        [
            ("p1", "2010-12", "332", None, "invalidity", "2009-01", None, None),
            ("p2", "2010-06", "332", None, "invalidity", "2009-01", None, None),
            ("p3", "2010-12", "111", None, None, None, None, None),
        ]
    )
    persons = people(
        [
            ("p1", "F", "1960-01", "150"),
            ("p2", "M", "1960-01", "354"),
            ("p3", "F", "1960-01", "150"),
        ]
    )
    groups = bm.invalidity_by_nationality(months, persons).rows()
    assert groups == [("Belgian", 2, 0.5), ("other", 1, 1.0)]


# --- on a release made by the real flows --------------------------------------------------------


@pytest.fixture(scope="module")
def both(world):
    """The sample's indicators and the exact ones of the same persons (by the build's mark)."""
    sample = bm.load_release(world["sample"].folder)
    exact = bm.load_release(
        world["onprem"].folder, persons=bm.sample_persons(world["onprem"].folder)
    )
    return bm.indicators(sample), bm.indicators(exact)


def test_exact_panels_of_the_marked_persons_hold_as_many_persons_and_episodes(both):
    protected, exact = both
    assert protected.people.height == exact.people.height
    assert not set(protected.people["person_id"]) & set(exact.people["person_id"])  # unlinked
    assert protected.episodes.height == exact.episodes.height > 0
    assert (
        protected.people["sex"]
        .value_counts()
        .sort("sex")
        .equals(exact.people["sex"].value_counts().sort("sex"))
    )


def test_indicators_on_months_positions_and_phases_are_not_changed_by_the_protections(both):
    protected, exact = both
    per_year = ["year", "sex"]
    assert (
        protected.inflow.group_by(per_year)
        .agg(pl.col("entries").sum())
        .sort(per_year)
        .equals(exact.inflow.group_by(per_year).agg(pl.col("entries").sum()).sort(per_year))
    )
    assert protected.invalidity.equals(exact.invalidity)
    assert protected.trajectories.equals(exact.trajectories)


def test_months_cost_the_episodes_at_most_a_year_of_age_and_little_duration_on_average(both):
    protected, exact = both
    ours, theirs = protected.episodes, exact.episodes
    # from months, never too young, at most a year too old: so over the same episodes the mean
    # age is between 0 and 1 year higher, and the totals per start month agree
    assert 0 <= ours["age"].mean() - theirs["age"].mean() <= 1
    per_month = ["start_month", "ended"]
    assert (
        ours.group_by(per_month)
        .len()
        .sort(per_month)
        .equals(theirs.group_by(per_month).len().sort(per_month))
    )
    ended, ended_exact = ours.filter(pl.col("ended")), theirs.filter(pl.col("ended"))
    # months between months vs days / 30.44: about the same on average
    assert abs(ended["time_months"].mean() - ended_exact["time_months"].mean()) < 0.25


def test_utility_table_compares_every_headline_figure(both):
    protected, exact = both
    table = bm.utility(protected, exact)
    assert table.columns == ["indicator", "protected", "exact", "difference"]
    assert table["exact"].null_count() == 0
    row = table.filter(pl.col("indicator").str.starts_with("in invalidity on 31 Dec 2015"))
    assert row["difference"].item() == 0
    same = bm.utility(exact, exact)
    assert (same["difference"].drop_nulls().abs() < 1e-12).all()


def test_notebook_runs_top_to_bottom_on_a_fresh_release(world, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("REX_RELEASE", str(world["sample"].folder))
    monkeypatch.setenv("REX_ONPREM", str(world["onprem"].folder))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert str(world["sample"].folder.name) in text
    assert "comparison is skipped" not in text
    assert "still running after 12 months" in text and "difference" in text
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 5
