"""The generated population looks like Belgium: its figures meet synthetic/targets.py.

A 30,000-person store is generated once; each figure is measured on the source tables (what the
pipeline sees), as of the targets' reference day, and compared with its target and tolerance.
Besides the national figures, the gradients a researcher checks first: unemployment and
employment by region, the women's share and the age profile of invalidity, incapacity entries
by age.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.runtime.settings import SPECS_DIR
from specs import codes
from specs.load import load_spec
from specs.sources import SOURCE_TABLES
from synthetic import register
from synthetic.generate import generate
from synthetic.targets import EPISODE_PERIOD, REFERENCE_DAY, TARGETS

PERSONS = 30_000
SEED = 20180703
FULL_QUARTER_FULL_TIME_DAYS = 6500  # hundredths of days: 65 paid days, the 5-day regime
REFERENCE_QUARTER = REFERENCE_DAY.year * 10 + (REFERENCE_DAY.month - 1) // 3 + 1
TOP_NATIONALITIES = 4
# France, the Netherlands and Italy are among the five largest groups in every year of 2003-2015
MAIN_NATIONALITIES = ("111", "129", "128")


def read(store: Path, key: str) -> pl.DataFrame:
    return pl.read_parquet(store / SOURCE_TABLES[key].relative_path)


def covering(frame: pl.DataFrame, start: str, end: str, day: dt.date) -> pl.DataFrame:
    """The rows whose [start, end] episode (end null: still running) holds `day`."""
    return frame.filter((pl.col(start) <= day) & (pl.col(end).is_null() | (pl.col(end) >= day)))


def share(condition: pl.Series) -> float:
    return float(condition.cast(pl.Float64).mean() or 0.0)


def rate(frame: pl.DataFrame, condition: pl.Expr) -> float:
    return share(frame.select(condition).to_series())


def entries_per_person_by_decade(store: Path, persons: pl.DataFrame, year: int) -> dict[int, float]:
    """Primary-incapacity entries in `year` per person alive on 1 July, by decade of age then
    (2: 20-29, ..., 5: 50-59)."""
    entries = (
        read(store, "nic.incapacity")
        .filter((pl.col("phase") == "primary") & (pl.col("start_date").dt.year() == year))
        .group_by("insz")
        .len("entries")
    )
    mid_year = dt.date(year, 7, 1)
    by_decade = (
        persons.filter(
            (pl.col("birth_date") <= mid_year)
            & (pl.col("death_date").is_null() | (pl.col("death_date") > mid_year))
        )
        .with_columns(
            decade=((pl.lit(mid_year) - pl.col("birth_date")).dt.total_days() / 3652.5).floor()
        )
        .join(entries, on="insz", how="left")
        .group_by("decade")
        .agg(pl.col("entries").fill_null(0).mean())
    )
    return {int(decade): float(mean) for decade, mean in by_decade.iter_rows()}


def measure(store: Path) -> dict[str, float]:
    """Every figure of TARGETS, measured on a source store."""
    day = REFERENCE_DAY
    persons = read(store, "register.persons")
    alive = persons.filter(
        (pl.col("birth_date") <= day)
        & (pl.col("death_date").is_null() | (pl.col("death_date") > day))
    ).with_columns(age=(pl.lit(day) - pl.col("birth_date")).dt.total_days() / 365.25)
    regions = register.municipalities().select("nis_code", "region")
    residence = covering(read(store, "register.residences"), "valid_from", "valid_until", day)
    nationality = covering(read(store, "register.nationalities"), "valid_from", "valid_until", day)
    people = (
        alive.join(residence.select("insz", "nis_code"), on="insz", how="left")
        .join(regions, on="nis_code", how="left")
        .join(nationality.select("insz", "nationality"), on="insz", how="left")
        .with_columns(foreign=pl.col("nationality") != codes.BELGIUM)
    )
    foreigners = people.filter("foreign")["nationality"].value_counts(sort=True)

    occupations = read(store, "dmfa.occupations")
    working = covering(
        occupations.filter((pl.col("quarter") == REFERENCE_QUARTER) & (pl.col("days_worked") > 0)),
        "occupation_start",
        "occupation_end",
        day,
    ).join(persons.select("insz", "sex"), on="insz")
    # one job per person: the one with the most paid days
    jobs = working.sort("days_worked", "employer_rsz", descending=[True, False]).unique(
        "insz", keep="first"
    )
    unemployed = covering(read(store, "rva.unemployment"), "start_date", "end_date", day)
    invalid = covering(
        read(store, "nic.incapacity").filter(pl.col("phase") == "invalidity"),
        "start_date",
        "end_date",
        day,
    )
    adults = people.filter(pl.col("age").is_between(20, 65, closed="left"))
    active_age = people.filter(pl.col("age").is_between(15, 65, closed="left"))
    employed_ids, unemployed_ids = jobs["insz"].implode(), unemployed["insz"].implode()
    employed_n = active_age["insz"].is_in(employed_ids).sum()
    unemployed_n = (
        active_age["insz"].is_in(unemployed_ids) & ~active_age["insz"].is_in(employed_ids)
    ).sum()
    full_time_monthly = (
        occupations.filter(
            (pl.col("quarter") // 10 == day.year)
            & (pl.col("contract_type") == "0")
            & (pl.col("days_worked") == FULL_QUARTER_FULL_TIME_DAYS)
        )["gross_wage_cents"]
        / 300
    )
    part_time = jobs["contract_type"] == "1"
    first, last = EPISODE_PERIOD
    lived = persons.filter(
        (pl.col("birth_date") <= last)
        & (pl.col("death_date").is_null() | (pl.col("death_date") >= first))
    )
    episodes = read(store, "nic.incapacity").filter(
        (pl.col("start_date") <= last)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= first))
    )
    p10, p50, p90 = (float(full_time_monthly.quantile(q) or 0) for q in (0.10, 0.50, 0.90))
    is_employed = pl.col("insz").is_in(employed_ids)
    is_unemployed = pl.col("insz").is_in(unemployed_ids) & ~is_employed
    unemployment = {
        region: rate(
            active_age.filter(pl.col("region") == region, is_employed | is_unemployed),
            is_unemployed,
        )
        for region in ("Flanders", "Wallonia", "Brussels")
    }
    is_invalid = pl.col("insz").is_in(invalid["insz"].implode())
    invalidity_by_age = {
        band: rate(
            people.filter(pl.col("age").is_between(low, low + 10, closed="left")), is_invalid
        )
        for band, low in (("25-34", 25), ("55-64", 55))
    }
    per_decade = entries_per_person_by_decade(store, persons, day.year)
    messages = read(store, "nic.a052_messages")
    latest = pl.col("message_version") == pl.col("message_version").max().over("message_number")
    period_quarters = (first.year * 10 + 1, last.year * 10 + 4)
    messages = messages.filter(latest & pl.col("quarter").is_between(*period_quarters)).join(
        persons.select("insz", "sex"), on="insz"
    )
    message_part_time = messages["q_hours"] < messages["s_hours"]
    return {
        "share_flanders": share(people["region"] == "Flanders"),
        "share_wallonia": share(people["region"] == "Wallonia"),
        "share_brussels": share(people["region"] == "Brussels"),
        "share_women": share(people["sex"] == "F"),
        "share_age_0_17": share(people["age"] < 18),
        "share_age_18_64": share(people["age"].is_between(18, 65, closed="left")),
        "share_age_65_plus": share(people["age"] >= 65),
        "share_foreign": share(people["foreign"]),
        "share_foreign_in_brussels": share(
            people.filter(pl.col("region") == "Brussels")["foreign"]
        ),
        "share_of_foreigners_top_4": float(
            foreigners["count"].head(TOP_NATIONALITIES).sum() / foreigners["count"].sum()
        ),
        "employment_rate_20_64": share(adults["insz"].is_in(employed_ids)),
        "unemployment_rate": unemployed_n / (employed_n + unemployed_n),
        "share_invalidity": share(people["insz"].is_in(invalid["insz"].implode())),
        "wage_p10": p10,
        "wage_p50": p50,
        "wage_p90": p90,
        "wage_p10_to_p50": p10 / p50,
        "wage_p90_to_p50": p90 / p50,
        "part_time_share": share(part_time),
        "part_time_share_women": share(part_time.filter(jobs["sex"] == "F")),
        "part_time_share_men": share(part_time.filter(jobs["sex"] == "M")),
        "part_time_share_women_in_a052": share(message_part_time.filter(messages["sex"] == "F")),
        "part_time_share_men_in_a052": share(message_part_time.filter(messages["sex"] == "M")),
        "share_with_incapacity_episode": share(lived["insz"].is_in(episodes["insz"].implode())),
        "unemployment_rate_flanders": unemployment["Flanders"],
        "unemployment_ratio_wallonia_to_flanders": unemployment["Wallonia"]
        / unemployment["Flanders"],
        "unemployment_ratio_brussels_to_flanders": unemployment["Brussels"]
        / unemployment["Flanders"],
        **{
            f"employment_rate_20_64_{region.lower()}": rate(
                adults.filter(pl.col("region") == region), is_employed
            )
            for region in ("Flanders", "Wallonia", "Brussels")
        },
        "share_women_in_invalidity": rate(people.filter(is_invalid), pl.col("sex") == "F"),
        "invalidity_ratio_55_64_to_25_34": invalidity_by_age["55-64"] / invalidity_by_age["25-34"],
        "incapacity_entry_ratio_50s_to_20s": per_decade[5] / per_decade[2],
        "share_foreign_in_flanders": rate(
            people.filter(pl.col("region") == "Flanders"), pl.col("foreign")
        ),
        "share_foreign_in_wallonia": rate(
            people.filter(pl.col("region") == "Wallonia"), pl.col("foreign")
        ),
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("realism") / "sources"
    generate(PERSONS, SEED, folder)
    return folder


@pytest.fixture(scope="module")
def figures(store) -> dict[str, float]:
    return measure(store)


def test_every_target_is_measured(figures):
    assert set(figures) == set(TARGETS)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_generated_population_meets_target(figures, name):
    target = TARGETS[name]
    assert target.accepts(figures[name]), (
        f"{name}: measured {figures[name]:.4g}, target {target.value:.4g} "
        f"+- {target.tolerance:.3g} ({target.source})"
    )


def test_main_nationalities_lead_the_foreigners(store):
    nationality = covering(
        read(store, "register.nationalities"), "valid_from", "valid_until", REFERENCE_DAY
    ).filter(pl.col("nationality") != codes.BELGIUM)
    largest = nationality["nationality"].value_counts(sort=True)["nationality"].head(5).to_list()
    assert set(MAIN_NATIONALITIES) <= set(largest), largest


def test_the_episode_share_is_measured_over_18_088s_period():
    """EPISODE_PERIOD is 18/088's period, whose sample the incapacity target exists for."""
    spec = load_spec(SPECS_DIR / "18-088.yaml")
    first, last = EPISODE_PERIOD
    assert (spec.period.from_, spec.period.until) == (f"{first:%Y-%m}", f"{last:%Y-%m}")
    assert first == register.START and last < register.END


def test_unemployment_is_lowest_in_flanders_and_highest_in_brussels(figures):
    wallonia = figures["unemployment_ratio_wallonia_to_flanders"]
    brussels = figures["unemployment_ratio_brussels_to_flanders"]
    assert 1 < wallonia < brussels, (wallonia, brussels)


def test_employment_is_highest_in_flanders(figures):
    flanders, wallonia, brussels = (
        figures[f"employment_rate_20_64_{region}"]
        for region in ("flanders", "wallonia", "brussels")
    )
    assert flanders > max(wallonia, brussels), (flanders, wallonia, brussels)


def test_incapacity_entries_rise_with_every_decade_of_age(store):
    persons = read(store, "register.persons")
    per_decade = entries_per_person_by_decade(store, persons, REFERENCE_DAY.year)
    working_decades = [per_decade[decade] for decade in (2, 3, 4, 5)]
    assert working_decades == sorted(working_decades), working_decades
