"""How the life-course hazards depend on region of residence, age and sex, each factor declared
once with its source (or the assumption it stands for), as synthetic/targets.py does.

A factor multiplies a base monthly probability of synthetic/lifecourse.py (or, for durations, a
base median). The factors of one dimension are relative: lifecourse's base probabilities were
re-tuned with them so that the national targets of synthetic/targets.py keep holding, while the
gradients (targets.py, GRADIENT_TARGETS) come out of the hazards, not out of a nudged marginal.
Sources are those of /work/shared/domain.md section 4 unless said otherwise; a line marked
"assumption" has no public figure behind it and says what it stands for.
"""

from __future__ import annotations

import numpy as np

REGIONS = ("Flanders", "Wallonia", "Brussels")
# Lower bounds of the age bands (in years) the age factors are given for: 18-24, 25-34, 35-44,
# 45-54, 55-64.
AGE_BANDS = (18, 25, 35, 45, 55)

# Entering unemployment (losing a salaried job). ILO unemployment 2023 is 3.3% / 7.9% / 11% in
# Flanders / Wallonia / Brussels (Statbel LFS, domain.md 4); in 2010 about 5.2% / 11.5% / 17.4%
# (Statbel LFS 2010, approximate). Half of the regional odds ratio comes from job loss, half
# from job finding below, so that the benefit rates keep these ratios (about 2.3 and 3.3).
JOB_LOSS_BY_REGION = {"Flanders": 0.72, "Wallonia": 1.25, "Brussels": 1.45}
# Leaving unemployment for a job: the other half of the regional ratio (same source). Brussels'
# long-term unemployment is the highest of the three regions (Actiris, VDAB, FOREM yearly reports).
JOB_FINDING_BY_REGION = {"Flanders": 1.35, "Wallonia": 0.78, "Brussels": 0.66}
# Youth unemployment (15-24) runs at about twice the 25-64 rate and the 50-64 rate below it
# (Statbel LFS 2010: about 22% vs 7%, approximate); older job seekers find work far less often
# (assumption: half the rate at 55-64, as the LFS long-term share of the 50+ suggests).
JOB_LOSS_BY_AGE = (1.9, 1.0, 0.85, 0.8, 0.8)
JOB_FINDING_BY_AGE = (1.3, 1.1, 1.0, 0.8, 0.5)

# Entering employment from inactivity, and the share employed at the start of working age: the
# regional employment rates 20-64 of 2010 (Statbel LFS: Flanders 72%, Wallonia 62%, Brussels 59%,
# approximate) follow from the unemployment factors and these.
INACTIVE_TO_JOB_BY_REGION = {"Flanders": 1.2, "Wallonia": 0.9, "Brussels": 0.85}
# Leaving the labour market: early exit before the legal pension age (employment rate 55-64 of
# 2010: 37%, Statbel LFS; assumption for the shape: 2.5 times the prime-age rate at 55-64).
LEAVE_LABOUR_MARKET_BY_AGE = (1.0, 0.7, 0.7, 0.9, 2.5)

# Entering primary incapacity. Incidence rises with age (RIZIV yearly statistics: entries per
# insured person about twice as high at 50-64 as at 20-29, approximate) and women enter more often
# than men (RIZIV: about 55% of primary-incapacity entries are women's, approximate).
INCAPACITY_ENTRY_BY_AGE = (0.6, 0.85, 1.0, 1.2, 1.4)
INCAPACITY_ENTRY_BY_SEX = {"F": 1.1, "M": 0.9}
# Leaving incapacity: the median duration (months) grows with age at onset, and women's spells
# run longer (assumption: they make the stock of invalidity, spells beyond a year, 59.6% women,
# RIZIV 31/12/2023, and steeply rising with age, RIZIV invalidity rates by age: about 2% of the
# insured at 25-34 and about 15% at 55-64, approximate).
ILLNESS_MEDIAN_BY_AGE = (0.65, 0.8, 1.0, 1.2, 1.45)
ILLNESS_MEDIAN_BY_SEX = {"F": 1.1, "M": 0.9}
# Invalidity until pension after a primary phase of a year: about 55% of those in invalidity are
# permanently unfit (domain.md 4), more so the older the onset (assumption: from a quarter at
# 18-24 to three in four at 55-64, around that 55% for the stock).
INVALIDITY_UNTIL_PENSION_BY_AGE = (0.3, 0.4, 0.5, 0.6, 0.75)

# Part-time work among salaried workers (kept as it was): women 40.2%, men 12.1% (Statbel 2023);
# about 43% and 9% in 2010, 26.0% overall.
PART_TIME_BY_SEX = {"F": 0.40, "M": 0.12}

for _by_region in (JOB_LOSS_BY_REGION, JOB_FINDING_BY_REGION, INACTIVE_TO_JOB_BY_REGION):
    assert tuple(_by_region) == REGIONS
for _by_age in (
    JOB_LOSS_BY_AGE,
    JOB_FINDING_BY_AGE,
    LEAVE_LABOUR_MARKET_BY_AGE,
    INCAPACITY_ENTRY_BY_AGE,
    ILLNESS_MEDIAN_BY_AGE,
    INVALIDITY_UNTIL_PENSION_BY_AGE,
):
    assert len(_by_age) == len(AGE_BANDS)


def region_index(region: np.ndarray) -> np.ndarray:
    """Each region name's position in REGIONS."""
    index = np.full(region.shape, -1, dtype=np.int8)
    for i, name in enumerate(REGIONS):
        index[region == name] = i
    assert (index >= 0).all(), "a region outside REGIONS"
    return index


def age_band(age_years: np.ndarray) -> np.ndarray:
    """Each age's band in AGE_BANDS (ages below the first band count in the first)."""
    return np.clip(np.searchsorted(AGE_BANDS, age_years, side="right") - 1, 0, None)


def by_region(factors: dict[str, float], index: np.ndarray) -> np.ndarray:
    return np.array([factors[r] for r in REGIONS])[index]


def by_age(factors: tuple[float, ...], band: np.ndarray) -> np.ndarray:
    return np.asarray(factors)[band]


def by_sex(factors: dict[str, float], is_man: np.ndarray) -> np.ndarray:
    return np.where(is_man, factors["M"], factors["F"])
