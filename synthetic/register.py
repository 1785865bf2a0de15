"""The National Register: persons, residences, nationalities and households.

Everyone alive at some moment of 2003-2020 (START to END): an age structure close to Belgium's,
50.8% women, Gompertz mortality, residence weighted by the municipalities' inhabitants, more
foreigners in Brussels, some naturalisations, and LIPRO household positions that follow age.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import polars as pl
from faker.providers.address.nl_BE import Provider as DutchAddress
from faker.providers.person.fr_BE import Provider as FrenchNames
from faker.providers.person.nl_BE import Provider as DutchNames

from specs import codes
from synthetic import identifiers

START = dt.date(2003, 1, 1)
# The last day of every synthetic source: the one constant the other modules follow.
END = dt.date(2020, 12, 31)
REFERENCE_DAY = dt.date(2010, 1, 1)  # ages are drawn as of this day

SHARE_WOMEN = 0.508
# Births after the reference day, up to END: about 1% of the population a year, as in Belgium.
BIRTHS_PER_YEAR = 0.01
YEARS_OF_BIRTHS = END.year + 1 - REFERENCE_DAY.year
# Age on the reference day: (share, youngest, oldest); negative ages are births up to END.
# Tuned so that at the end of 2010 the 0-17, 18-64 and 65+ are about 20.5%, 62% and 17.5%
# (the persons born later are not alive then, so the length of the birth group leaves these
# shares alone).
AGE_GROUPS = (
    (BIRTHS_PER_YEAR * YEARS_OF_BIRTHS, -YEARS_OF_BIRTHS, 0),
    (0.175, 0, 18),
    (0.56, 18, 65),
    (0.145, 65, 80),
    (0.06, 80, 100),
)
# Gompertz mortality per year: exp(A + B * age).
MORTALITY_A, MORTALITY_B = -10.0, 0.092
SHARE_MOVING = 0.15
SHARE_FOREIGN = {"Brussels": 0.35, "other": 0.09}
FOREIGN_WEIGHTS = {
    "111": 0.14,
    "129": 0.13,
    "124": 0.10,
    "128": 0.13,
    "354": 0.09,
    "109": 0.05,
    "139": 0.06,
    "123": 0.04,
    "262": 0.04,
    "306": 0.03,
    "103": 0.03,
    "145": 0.03,
}
SHARE_NATURALISED = 0.20
CHILD_POSITIONS = {"CMAR": 0.60, "CUNM": 0.15, "C1PA": 0.25}
ADULT_POSITIONS = {
    "MAR+": 0.25,
    "MAR0": 0.21,
    "UNM+": 0.08,
    "UNM0": 0.08,
    "SING": 0.22,
    "H1PA": 0.07,
    "NFRP": 0.05,
    "OTHR": 0.03,
    "COLL": 0.01,
}
# Household size per position: (smallest, largest).
HOUSEHOLD_SIZE = {
    "SING": (1, 1),
    "MAR0": (2, 2),
    "UNM0": (2, 2),
    "MAR+": (3, 6),
    "UNM+": (3, 5),
    "CMAR": (3, 6),
    "CUNM": (3, 5),
    "H1PA": (2, 4),
    "C1PA": (2, 4),
    "NFRP": (3, 5),
    "OTHR": (2, 4),
    "COLL": (10, 80),
}
MUNICIPALITIES = Path(__file__).parent / "municipalities_2018.csv"

assert set(HOUSEHOLD_SIZE) == set(codes.LIPRO)
assert set(FOREIGN_WEIGHTS) <= set(codes.COUNTRY)


def _days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _weighted(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    values = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return values[rng.choice(len(values), size=size, p=p / p.sum())]


@functools.cache
def municipalities() -> pl.DataFrame:
    return pl.read_csv(
        MUNICIPALITIES, schema_overrides={"NIS_code": pl.String, "zip": pl.String}
    ).select(
        nis_code=pl.col("NIS_code"),
        postal_code=pl.col("zip"),
        region=pl.when(pl.col("region_NL").str.contains("Brussel"))
        .then(pl.lit("Brussels"))
        .when(pl.col("region_NL").str.contains("Vlaams"))
        .then(pl.lit("Flanders"))
        .otherwise(pl.lit("Wallonia")),
        inhabitants=pl.col("inhabitants").str.replace_all(",", "").cast(pl.Int64),
    )


def _birth_and_death(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    shares = np.array([g[0] for g in AGE_GROUPS])
    group = rng.choice(len(AGE_GROUPS), size=n, p=shares / shares.sum())
    low = np.array([g[1] for g in AGE_GROUPS])[group]
    high = np.array([g[2] for g in AGE_GROUPS])[group]
    age_days = ((low + rng.random(n) * (high - low)) * 365.25).astype(np.int64)
    birth = np.minimum(_days(REFERENCE_DAY) - age_days, _days(END))
    # Death: a yearly Gompertz hazard from START (or birth) to END.
    death = np.full(n, -1, dtype=np.int64)
    for year in range(START.year, END.year + 1):
        first = _days(dt.date(year, 1, 1))
        age = (first - birth) / 365.25
        alive = (death < 0) & (birth < first + 365)
        dies = alive & (rng.random(n) < np.exp(MORTALITY_A + MORTALITY_B * np.maximum(age, 0)))
        day = np.maximum(first + rng.integers(0, 365, n), birth + 1)
        death = np.where(dies, np.minimum(day, _days(END)), death)
    return birth, death


def _names(rng: np.random.Generator, is_man: np.ndarray, french: np.ndarray) -> tuple:
    n = is_man.size

    def draw(provider_list) -> np.ndarray:
        return _weighted(rng, dict(provider_list), n)

    first = np.where(
        is_man,
        np.where(french, draw(FrenchNames.first_names_male), draw(DutchNames.first_names_male)),
        np.where(french, draw(FrenchNames.first_names_female), draw(DutchNames.first_names_female)),
    )
    last = np.where(french, draw(FrenchNames.last_names), draw(DutchNames.last_names))
    dutch_street = np.char.add(
        draw(DutchNames.first_names_male),
        _weighted(rng, {s: 1.0 for s in DutchAddress.street_suffixes}, n),
    )
    french_street = np.char.add("Rue ", draw(FrenchNames.last_names))
    number = rng.integers(1, 250, n).astype(str)
    street = np.char.add(np.char.add(np.where(french, french_street, dutch_street), " "), number)
    return first, last, street


def persons_frame(
    rng: np.random.Generator,
    n: int,
    first_person: int = 0,
    counters: identifiers.DayCounters | None = None,
) -> pl.DataFrame:
    """One row per person (numbered from `first_person`) with everything the register tables
    are cut from. INSZ day counters continue from `counters` (fresh ones when not given)."""
    birth, death = _birth_and_death(rng, n)
    is_man = rng.random(n) >= SHARE_WOMEN
    places = municipalities()
    weights = places["inhabitants"].to_numpy().astype(float)
    home = rng.choice(places.height, size=n, p=weights / weights.sum())
    moved_to = rng.choice(places.height, size=n, p=weights / weights.sum())
    region = places["region"].to_numpy()[home]
    french = (region == "Wallonia") | ((region == "Brussels") & (rng.random(n) < 0.8))
    first, last, street = _names(rng, is_man, french)
    foreign_share = np.where(
        region == "Brussels", SHARE_FOREIGN["Brussels"], SHARE_FOREIGN["other"]
    )
    first_nationality = np.where(
        rng.random(n) < foreign_share, _weighted(rng, FOREIGN_WEIGHTS, n), codes.BELGIUM
    )
    frame = (
        pl.DataFrame(
            {
                "person": np.arange(first_person, first_person + n, dtype=np.int32),
                "birth_date": birth.astype("datetime64[D]"),
                "death_date": pl.Series(np.where(death >= 0, death, 0))
                .cast(pl.Int32)
                .cast(pl.Date),
                "has_died": death >= 0,
                "is_man": is_man,
                "first_name": first,
                "last_name": last,
                "street": street,
                "nis_code": places["nis_code"].to_numpy()[home],
                "postal_code": places["postal_code"].to_numpy()[home],
                "moved_nis_code": places["nis_code"].to_numpy()[moved_to],
                "moved_postal_code": places["postal_code"].to_numpy()[moved_to],
                "moves": rng.random(n) < SHARE_MOVING,
                "move_share": rng.random(n),
                "first_nationality": first_nationality,
                "naturalises": (first_nationality != codes.BELGIUM)
                & (rng.random(n) < SHARE_NATURALISED),
                "naturalise_share": rng.random(n),
                "child_position": _weighted(rng, CHILD_POSITIONS, n),
                "adult_position": _weighted(rng, ADULT_POSITIONS, n),
                "size_draw": rng.random(n),
            }
        )
        .with_columns(death_date=pl.when("has_died").then(pl.col("death_date")))
        .drop("has_died")
    )
    birth_days, men = frame["birth_date"].to_numpy(), frame["is_man"].to_numpy()
    ranks = (counters or identifiers.DayCounters()).take(birth_days, men)
    return frame.with_columns(insz=pl.Series(identifiers.insz(birth_days, men, ranks)))


def _period_day(share: pl.Expr, first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """A day between first and last (inclusive), at the given share of the way."""
    span = (last - first).dt.total_days()
    return first + pl.duration(days=(share * (span + 1)).floor().cast(pl.Int64).clip(0, None))


def _lived_span(frame: pl.DataFrame) -> pl.DataFrame:
    """The part of START-END each person lived, for dating moves and naturalisations."""
    return frame.with_columns(
        span_start=pl.max_horizontal(pl.col("birth_date"), pl.lit(START)),
        span_end=pl.min_horizontal(pl.col("death_date").fill_null(pl.lit(END)), pl.lit(END)),
    )


def persons_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "insz",
        "last_name",
        "first_name",
        sex=pl.when("is_man").then(pl.lit("M")).otherwise(pl.lit("F")),
        birth_date="birth_date",
        death_date="death_date",
        street="street",
        postal_code=pl.when("moves").then("moved_postal_code").otherwise("postal_code"),
        first_nationality="first_nationality",
    )


def _episodes(first: pl.DataFrame, second: pl.DataFrame) -> pl.DataFrame:
    """Two-part episode tables: the first closes the day before the second opens."""
    return pl.concat([first, second]).sort("insz", "valid_from")


def with_moves(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with each person's move day and whether the move happens (within the lived
    span): the residences table and the life course's region of residence both follow it."""
    return (
        _lived_span(frame)
        .with_columns(
            move_day=_period_day(
                pl.col("move_share"), pl.col("span_start") + pl.duration(days=1), pl.col("span_end")
            )
        )
        .with_columns(
            moves=pl.col("moves")
            & (pl.col("move_day") <= pl.col("span_end"))
            & (pl.col("move_day") > pl.col("birth_date"))
        )
    )


def residences_table(frame: pl.DataFrame) -> pl.DataFrame:
    lived = with_moves(frame)
    first = lived.select(
        "insz",
        valid_from="birth_date",
        valid_until=pl.when("moves")
        .then(pl.col("move_day") - pl.duration(days=1))
        .otherwise(pl.col("death_date")),
        nis_code="nis_code",
    )
    second = lived.filter("moves").select(
        "insz", valid_from="move_day", valid_until="death_date", nis_code="moved_nis_code"
    )
    return _episodes(first, second)


def nationalities_table(frame: pl.DataFrame) -> pl.DataFrame:
    lived = (
        _lived_span(frame)
        .with_columns(
            change=_period_day(
                pl.col("naturalise_share"),
                pl.col("span_start") + pl.duration(days=1),
                pl.col("span_end"),
            )
        )
        .with_columns(
            naturalises=pl.col("naturalises")
            & (pl.col("change") <= pl.col("span_end"))
            & (pl.col("change") > pl.col("birth_date"))
        )
    )
    first = lived.select(
        "insz",
        valid_from="birth_date",
        valid_until=pl.when("naturalises")
        .then(pl.col("change") - pl.duration(days=1))
        .otherwise(pl.col("death_date")),
        nationality="first_nationality",
    )
    second = lived.filter("naturalises").select(
        "insz", valid_from="change", valid_until="death_date", nationality=pl.lit(codes.BELGIUM)
    )
    return _episodes(first, second)


def _size(position: pl.Expr, draw: pl.Expr) -> pl.Expr:
    low = position.replace_strict({k: v[0] for k, v in HOUSEHOLD_SIZE.items()})
    high = position.replace_strict({k: v[1] for k, v in HOUSEHOLD_SIZE.items()})
    return (
        (low + (draw * (high - low + 1)).floor().cast(pl.Int64))
        .clip(upper_bound=high)
        .cast(pl.Int32)
    )


def households_table(frame: pl.DataFrame) -> pl.DataFrame:
    """A child position from birth, an adult position from the 18th birthday."""
    adult_from = pl.col("birth_date").dt.offset_by("18y")
    dead_first = pl.col("death_date").is_not_null() & (pl.col("death_date") < adult_from)
    child = frame.select(
        "insz",
        valid_from="birth_date",
        valid_until=pl.when(dead_first)
        .then(pl.col("death_date"))
        .when(adult_from <= pl.lit(END))
        .then(adult_from - pl.duration(days=1)),
        lipro="child_position",
        household_size=_size(pl.col("child_position"), pl.col("size_draw")),
    )
    adult = frame.filter(~dead_first & (adult_from <= pl.lit(END))).select(
        "insz",
        valid_from=adult_from,
        valid_until="death_date",
        lipro="adult_position",
        household_size=_size(pl.col("adult_position"), pl.col("size_draw")),
    )
    return _episodes(child, adult)
