"""One life per person, month by month over 2003-2020, that every source then reports on.

States: inactive, employed, unemployed, incapacitated. Only persons aged 18-64 who live through
the whole month take part; the rest are inactive. The loop runs over the MONTHS months from
register.START to register.END (216), each step vectorised over all persons.

Every hazard depends on the person's region of residence that month, age band and sex, through
the factors of synthetic/hazards.py (their sources are there): unemployment is lowest in
Flanders and highest in Brussels, incapacity entries rise with age and are more frequent for
women, spells last longer the older the onset, and a long primary incapacity more often turns
into invalidity until pension at an older age. The base probabilities below are those of a
reference person (factors 1); they were tuned so that the national targets keep holding.

Incapacity is oversampled relative to Belgium (about 30% of the persons alive in 2003-2015 have
an episode in 2003-2015, 18/088's period; tests/test_realism.py keeps it above 25%), so that a
50,000-person population holds the 10,000 persons 18/088's sample needs. Over the whole store,
2003-2020, about 34% of all persons have one.
Durations are long-tailed (median about 2.5 months at 35-44, shorter when younger, longer when
older and for women; about 11% beyond a year, i.e. invalidity), and from 30% (18-24) to three
in four (55-64) of those in invalidity stay there until they leave working age.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic import hazards as hz
from synthetic.register import END, START, municipalities, with_moves

MONTHS = (END.year - START.year + 1) * 12
INACTIVE, EMPLOYED, UNEMPLOYED, INCAPACITATED = 0, 1, 2, 3
WORKING_AGE = (18, 65)

INITIAL_SHARES = {EMPLOYED: 0.66, UNEMPLOYED: 0.07, INCAPACITATED: 0.04}
# Share employed among those entering working age after January 2003 (the rest start inactive).
SHARE_EMPLOYED_ON_ENTRY = 0.3
# Monthly transition probabilities, tuned against synthetic/targets.py (salaried employment
# rate 20-64, benefit unemployment rate, invalidity stock, share with an incapacity episode).
FIND_JOB_FROM_INACTIVE = 0.010
FIND_JOB_FROM_UNEMPLOYED = 0.06
LOSE_JOB = 0.0055
LEAVE_LABOUR_MARKET = 0.003
CHANGE_EMPLOYER = 0.008
FALL_ILL = 0.0105
RECOVERY_TO_SAME_JOB = 0.75
RECOVERY_TO_UNEMPLOYMENT = 0.15
# Incapacity duration in months: log-normal.
ILLNESS_MEDIAN_MONTHS = 2.5
ILLNESS_SIGMA = 1.3
# Invalidity (incapacity beyond a year) often lasts until pension, the more so the older the
# onset (hazards.INVALIDITY_UNTIL_PENSION_BY_AGE). Without it the invalidity stock is a quarter
# of Belgium's.
PRIMARY_PHASE_MONTHS = 12
UNTIL_PENSION = 12 * 100
EMPLOYERS_PER_PERSON = 1 / 15


def month_starts() -> np.ndarray:
    return np.arange(
        np.datetime64(START, "M"), np.datetime64(START, "M") + MONTHS, dtype="datetime64[M]"
    ).astype("datetime64[D]")


def _eligible(birth: np.ndarray, death: np.ndarray, start: np.datetime64) -> np.ndarray:
    """Aged 18-64 during the whole month and alive at its end."""
    end = (start.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    eighteenth = (birth.astype("datetime64[M]") + 12 * WORKING_AGE[0]).astype("datetime64[D]")
    sixty_fifth = (birth.astype("datetime64[M]") + 12 * WORKING_AGE[1]).astype("datetime64[D]")
    alive = np.isnat(death) | (death > end)
    return alive & (eighteenth < start) & (sixty_fifth > end)


def _illness_months(
    rng: np.random.Generator, median: np.ndarray, until_pension: np.ndarray
) -> np.ndarray:
    """Durations around each person's median; beyond the primary phase, a share `until_pension`
    (per person) stays in invalidity until leaving working age."""
    size = median.size
    months = np.exp(np.log(median) + ILLNESS_SIGMA * rng.standard_normal(size))
    permanent = (months > PRIMARY_PHASE_MONTHS) & (rng.random(size) < until_pension)
    return np.where(permanent, UNTIL_PENSION, np.maximum(1, np.round(months))).astype(np.int32)


def _regions(persons: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per person: region index (hazards.REGIONS) before and after the move, and the first day
    of residence in the second (NaT: never moves), as register.residences_table dates it."""
    region_of = dict(municipalities().select("nis_code", "region").iter_rows())
    moved = with_moves(persons)
    home = moved["nis_code"].replace_strict(region_of).to_numpy()
    later = moved["moved_nis_code"].replace_strict(region_of).to_numpy()
    move_day = (
        moved.select(pl.when("moves").then("move_day"))
        .to_series()
        .to_numpy()
        .astype("datetime64[D]")
    )
    return hz.region_index(home), hz.region_index(later), move_day


def simulate(rng: np.random.Generator, persons: pl.DataFrame, employers: int) -> pl.DataFrame:
    """Per person and eligible month: state, employer (-1: none) and whether the person was
    employed the month before. Long format, sorted by person and month."""
    n = persons.height
    person_ids = persons["person"].to_numpy()
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    death = persons["death_date"].to_numpy().astype("datetime64[D]")
    zipf = 1.0 / np.arange(1, employers + 1) ** 1.1
    cumulative = np.cumsum(zipf) / zipf.sum()
    cumulative[-1] = 1.0
    initial_states = [EMPLOYED, UNEMPLOYED, INCAPACITATED]
    is_man = persons["is_man"].to_numpy()
    home, later, move_day = _regions(persons)
    entry_by_sex = hz.by_sex(hz.INCAPACITY_ENTRY_BY_SEX, is_man)
    median_by_sex = hz.by_sex(hz.ILLNESS_MEDIAN_BY_SEX, is_man)

    state = np.full(n, INACTIVE, dtype=np.int8)
    employer = np.full(n, -1, dtype=np.int32)
    illness_left = np.zeros(n, dtype=np.int32)
    was_eligible = np.zeros(n, dtype=bool)
    frames = []
    for m, start in enumerate(month_starts()):
        eligible = _eligible(birth, death, start)
        region = np.where(~np.isnat(move_day) & (move_day <= start), later, home)
        band = hz.age_band((start - birth).astype(np.int64) / 365.25)
        finding = hz.by_region(hz.JOB_FINDING_BY_REGION, region)
        fall_ill = FALL_ILL * hz.by_age(hz.INCAPACITY_ENTRY_BY_AGE, band) * entry_by_sex
        lose_job = (
            LOSE_JOB
            * hz.by_region(hz.JOB_LOSS_BY_REGION, region)
            * hz.by_age(hz.JOB_LOSS_BY_AGE, band)
        )
        leave = LEAVE_LABOUR_MARKET * hz.by_age(hz.LEAVE_LABOUR_MARKET_BY_AGE, band)
        find_job = FIND_JOB_FROM_UNEMPLOYED * finding * hz.by_age(hz.JOB_FINDING_BY_AGE, band)
        start_work = FIND_JOB_FROM_INACTIVE * hz.by_region(hz.INACTIVE_TO_JOB_BY_REGION, region)
        draw = rng.random(n)
        hired_by = np.searchsorted(cumulative, rng.random(n)).astype(np.int32)
        duration = _illness_months(
            rng,
            ILLNESS_MEDIAN_MONTHS * hz.by_age(hz.ILLNESS_MEDIAN_BY_AGE, band) * median_by_sex,
            hz.by_age(hz.INVALIDITY_UNTIL_PENSION_BY_AGE, band),
        )
        previous = state
        state = state.copy()

        staying = eligible & was_eligible
        employed = staying & (previous == EMPLOYED)
        unemployed = staying & (previous == UNEMPLOYED)
        inactive = staying & (previous == INACTIVE)
        ill = staying & (previous == INCAPACITATED)

        falls_ill = (employed | unemployed) & (draw < fall_ill)
        loses_job = employed & _between(draw, fall_ill, lose_job)
        leaves = employed & _between(draw, fall_ill + lose_job, leave)
        changes = employed & _between(draw, 0.9, CHANGE_EMPLOYER)
        finds_job = unemployed & _between(draw, fall_ill, find_job)
        starts_work = inactive & (draw < start_work)
        illness_left = np.where(ill, illness_left - 1, illness_left)
        recovers = ill & (illness_left <= 0)
        back_to_job = recovers & (employer >= 0) & (draw < RECOVERY_TO_SAME_JOB)
        to_unemployment = (
            recovers & ~back_to_job & (draw < RECOVERY_TO_SAME_JOB + RECOVERY_TO_UNEMPLOYMENT)
        )

        state[falls_ill] = INCAPACITATED
        state[loses_job] = UNEMPLOYED
        state[leaves] = INACTIVE
        state[finds_job | starts_work | back_to_job] = EMPLOYED
        state[to_unemployment] = UNEMPLOYED
        state[recovers & ~back_to_job & ~to_unemployment] = INACTIVE
        employer = np.where(loses_job | leaves | (recovers & ~back_to_job), -1, employer)
        employer = np.where(changes | finds_job | starts_work, hired_by, employer)

        # Persons entering working age (or the window, in its first month) start somewhere.
        entering = eligible & ~was_eligible
        init = rng.random(n)
        # Starting states follow the regional gap from the first month: the employed share with
        # the square root of the job-finding factor, the unemployed share with its inverse square
        # (about the odds of unemployment the regional hazards settle at).
        employed_share = INITIAL_SHARES[EMPLOYED] * np.sqrt(finding)
        if m == 0:
            shares = [
                employed_share,
                INITIAL_SHARES[UNEMPLOYED] / finding**2,
                np.full(n, INITIAL_SHARES[INCAPACITATED]),
            ]
            bounds = np.cumsum(shares, axis=0)
            start_state = np.select([init < b for b in bounds], initial_states, INACTIVE).astype(
                np.int8
            )
        else:
            start_state = np.where(
                init < SHARE_EMPLOYED_ON_ENTRY * np.sqrt(finding), EMPLOYED, INACTIVE
            ).astype(np.int8)
        with_contract = (start_state == EMPLOYED) | (
            (start_state == INCAPACITATED) & (rng.random(n) < 0.5)
        )
        state = np.where(entering, start_state, state)
        employer = np.where(entering, np.where(with_contract, hired_by, -1), employer)

        state = np.where(eligible, state, INACTIVE).astype(np.int8)
        employer = np.where(eligible, employer, -1)
        new_illness = (state == INCAPACITATED) & ((previous != INCAPACITATED) | entering)
        illness_left = np.where(new_illness, duration, illness_left)

        frames.append(
            pl.DataFrame(
                {
                    "person": person_ids[eligible].astype(np.int32),
                    "month": np.full(int(eligible.sum()), m, dtype=np.int16),
                    "state": state[eligible],
                    "employer": employer[eligible],
                    "was_employed": (previous[eligible] == EMPLOYED) & ~entering[eligible],
                }
            )
        )
        was_eligible = eligible
    return pl.concat(frames).sort("person", "month")


def _between(draw: np.ndarray, low: np.ndarray | float, width: np.ndarray | float) -> np.ndarray:
    return (draw >= low) & (draw < low + width)
