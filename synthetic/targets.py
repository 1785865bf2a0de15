"""The figures the synthetic population must reproduce, each declared once with its source.

The sources are the marginals of /work/shared/domain.md section 4 (a copy of the table's line
is in `source`). Those are mostly 2020-2024 figures, while the population lives in 2003-2020
(register.START to register.END); each target says which year it stands for and why. The figures
are measured on the generated source store as of REFERENCE_DAY, in the middle of 18/088's period
2003-2015 (wages: over its year); the one figure taken over a period, the share of persons with an
incapacity episode, is taken over EPISODE_PERIOD (see there), not over the whole store.

A tolerance is what we accept around the target: sampling noise of a 30,000-person population
(a share p measured on n persons has a standard error of sqrt(p(1-p)/n), 0.3 points for a share of
10% of 30,000), plus the uncertainty of the target itself (approximate or shifted in time figures
get wider bounds), never the distance that the current generator happens to have.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

REFERENCE_DAY = dt.date(2010, 12, 31)
# Belgian prices and wages (automatic indexation) rose by about 22% from 2010 to 2021 (health
# index 2010 = 100, 2021 about 122); domain.md's 2021 wages are taken back to 2010 with it.
INDEXATION_2010_TO_2021 = 1.22
# The share of persons with an incapacity episode is measured over 18/088's period
# (specs/18-088.yaml, 2003-01 to 2015-12), among the persons alive at some moment of it: the
# target exists so that a 50,000-person store holds the 10,000 persons of 18/088's sample, whose
# population is the persons incapacitated in that period. Over the whole store (2003-2020: five
# more years of episodes, and births with none) it would measure something 18/088 never sees
# (about 34% instead of 30% on the 30,000-person test store).
EPISODE_PERIOD = (dt.date(2003, 1, 1), dt.date(2015, 12, 31))


@dataclass(frozen=True)
class Target:
    """A figure of the real population: value, accepted distance, and where it comes from."""

    name: str
    value: float
    tolerance: float
    source: str
    why: str = ""

    def accepts(self, measured: float) -> bool:
        return abs(measured - self.value) <= self.tolerance


def _t(name: str, value: float, tolerance: float, source: str, why: str = "") -> Target:
    return Target(name, value, tolerance, source, why)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        _t(
            "share_flanders",
            0.577,
            0.015,
            "Regions (2020): Flanders 57.7%, Wallonia 31.7%, Brussels 10.6%",
            "regional shares moved by less than a point since 2010; residence follows the 2018 "
            "inhabitants of the 589 municipalities",
        ),
        _t("share_wallonia", 0.317, 0.015, "Regions (2020): Wallonia 31.7%"),
        _t("share_brussels", 0.106, 0.012, "Regions (2020): Brussels 10.6%"),
        _t("share_women", 0.508, 0.012, "Sex: about 50.8% female (2019)"),
        _t(
            "share_age_0_17",
            0.205,
            0.02,
            "Age: 0-17 about 20% (approximate)",
            "1/1/2011 Statbel: 0-17 20.6%, 18-64 62.2%, 65+ 17.2%; domain.md gives today's",
        ),
        _t("share_age_18_64", 0.62, 0.02, "Age: 18-64 about 60% (approximate)"),
        _t("share_age_65_plus", 0.172, 0.02, "Age: 65+ about 20% (approximate)"),
        _t(
            "share_foreign",
            0.10,
            0.02,
            "Non-Belgians 13.7% (1/1/2024); Brussels 37.2%, Flanders/Wallonia about 11%",
            "1/1/2011 Statbel counted about 1.06 million foreigners in 10.95 million (9.7%); "
            "the share grew by about 4 points by 2024",
        ),
        _t(
            "share_foreign_in_brussels",
            0.33,
            0.05,
            "Non-Belgians: Brussels 37.2% (2024)",
            "about 32% in 2010; wide bounds: Brussels is 3,000 persons of the test population",
        ),
        _t(
            "share_of_foreigners_top_4",
            0.50,
            0.08,
            "Main nationalities: FR, NL, RO, IT (120-180k each), then MA (80k), ES, PL, PT",
            "the four largest nationalities (in 2010: IT, FR, NL, MA) hold about half of all "
            "foreigners; approximate, hence wide bounds",
        ),
        _t(
            "employment_rate_20_64",
            0.59,
            0.04,
            "Employment rate 20-64: 72.1% (2023Q1), 71.9% (2024Q1), LFS",
            "LFS 2010: 67.6%. The store holds salaried work declared in the DMFA only (no "
            "self-employed: about 14% of the employed, so 67.6% x 0.86 = 58%), and counts a "
            "worker on sick leave as not employed: 59%, with 4 points for these definitions",
        ),
        _t(
            "unemployment_rate",
            0.09,
            0.03,
            "ILO unemployment 15-64: 5.5-5.8% (2023); Flanders 3.3%, Wallonia 7.9%, Brussels 11%",
            "ILO rate 2010: 8.3%. The store counts benefit recipients (RVA full unemployment), "
            "which run above the ILO count: 9% with 3 points either way",
        ),
        _t(
            "share_invalidity",
            0.025,
            0.012,
            "Invalidity: 526,507 (31/12/2023), i.e. 4.5% of the population",
            "31/12/2010: about 255,000 in 10.9 million (2.3%), the stock having doubled since; "
            "the generator oversamples incapacity (see lifecourse), so wide bounds",
        ),
        _t(
            "wage_p10",
            2_303 / INDEXATION_2010_TO_2021,
            2_303 / INDEXATION_2010_TO_2021 * 0.10,
            "Gross monthly wage, full-time (2021): P10 2,303",
            "2021 wages deflated to 2010 by indexation; 10% for the deflator and the year",
        ),
        _t(
            "wage_p50",
            3_507 / INDEXATION_2010_TO_2021,
            3_507 / INDEXATION_2010_TO_2021 * 0.10,
            "Gross monthly wage, full-time (2021): median 3,507",
        ),
        _t(
            "wage_p90",
            5_922 / INDEXATION_2010_TO_2021,
            5_922 / INDEXATION_2010_TO_2021 * 0.10,
            "Gross monthly wage, full-time (2021): P90 5,922",
        ),
        _t(
            "wage_p10_to_p50",
            2_303 / 3_507,
            0.03,
            "Gross monthly wage, full-time (2021): P10 2,303, median 3,507",
            "the spread does not depend on the deflator: tighter bounds than the levels'",
        ),
        _t(
            "wage_p90_to_p50",
            5_922 / 3_507,
            0.06,
            "Gross monthly wage, full-time (2021): median 3,507, P90 5,922",
        ),
        _t(
            "part_time_share",
            0.25,
            0.03,
            "Part-time: 26.0% of employees (2023): women 40.2%, men 12.1%",
            "2010: about 24%, women 43%, men 9%; the overall share has been near 25% since 2008",
        ),
        _t("part_time_share_women", 0.41, 0.04, "Part-time (2023): women 40.2%"),
        # The A052 messages (04/037): a message's employer occurrence is the occupation held on
        # the first day of illness, with its Q and S (point 1.2), so the messages about 2003-2015
        # (EPISODE_PERIOD) keep the part-time shares of employed women and men (part-time: Q
        # below S). Not the overall share: more of the messages are women's (who fall ill more
        # often), and so the messages hold more part-time jobs than the employees do.
        _t(
            "part_time_share_women_in_a052",
            0.41,
            0.04,
            "Part-time (2023): women 40.2%",
            "as part_time_share_women, over the messages of women",
        ),
        _t(
            "part_time_share_men_in_a052",
            0.11,
            0.03,
            "Part-time (2023): men 12.1%",
            "as part_time_share_men, over the messages of men",
        ),
        _t(
            "part_time_share_men",
            0.11,
            0.03,
            "Part-time (2023): men 12.1%",
            "men's part-time rose from about 9% (2010) to 12% (2023)",
        ),
        # The gradients (issue 15): what a labour-market researcher checks first. They come out
        # of the hazards of synthetic/hazards.py, whose sources are given there too.
        _t(
            "unemployment_rate_flanders",
            0.065,
            0.02,
            "ILO unemployment: Flanders 3.3% (2023)",
            "ILO 2010: Flanders 5.2% (Statbel LFS, approximate); the benefit count runs above "
            "it, as the national figure does (9% vs 8.3%)",
        ),
        _t(
            "unemployment_ratio_wallonia_to_flanders",
            2.4,
            0.6,
            "ILO unemployment (2023): Flanders 3.3%, Wallonia 7.9%",
            "7.9 / 3.3 = 2.4 (2023); 11.5 / 5.2 = 2.2 in 2010 (Statbel LFS, approximate)",
        ),
        _t(
            "unemployment_ratio_brussels_to_flanders",
            3.3,
            1.0,
            "ILO unemployment (2023): Flanders 3.3%, Brussels about 11% (unverified)",
            "11 / 3.3 = 3.3 (2023); 17.4 / 5.2 = 3.3 in 2010 (Statbel LFS, approximate); wide "
            "bounds: Brussels is about 1,300 active persons of the test population",
        ),
        _t(
            "employment_rate_20_64_flanders",
            0.62,
            0.05,
            "Employment rate 20-64: 72.1% (2023Q1), LFS; by region not in domain.md",
            "LFS 2010 by region (Statbel, approximate): Flanders 72%, Wallonia 62%, Brussels 59%, "
            "times 0.87 for salaried work declared in the DMFA and sick leave, as the national "
            "target (59 / 67.6)",
        ),
        _t(
            "employment_rate_20_64_wallonia",
            0.54,
            0.05,
            "Employment rate 20-64 by region, LFS 2010 (approximate): Wallonia 62%",
            "62% x 0.87, as employment_rate_20_64_flanders",
        ),
        _t(
            "employment_rate_20_64_brussels",
            0.51,
            0.06,
            "Employment rate 20-64 by region, LFS 2010 (approximate): Brussels 59%",
            "59% x 0.87, as employment_rate_20_64_flanders; wider: Brussels is 2,000 persons "
            "aged 20-64 of the test population",
        ),
        _t(
            "share_women_in_invalidity",
            0.596,
            0.05,
            "Invalidity: 526,507 (31/12/2023), 59.6% women (RIZIV)",
            "the women's share has grown since 2010; 5 points for that and for the 800 persons "
            "in invalidity of the test population (standard error 1.7 points)",
        ),
        _t(
            "invalidity_ratio_55_64_to_25_34",
            6.0,
            3.0,
            "Invalidity (RIZIV): prevalence rises steeply with age",
            "assumption from RIZIV's invalidity rates by age (about 2-3% of the insured at 25-34, "
            "15-20% at 55-64, approximate): several times higher; 3 either way, for the "
            "approximation and the 60 persons in invalidity aged 25-34 of the test population",
        ),
        _t(
            "incapacity_entry_ratio_50s_to_20s",
            2.25,
            0.75,
            "Primary incapacity: about 470k persons enter per year",
            "entries per person of the age, in REFERENCE_DAY's year: rising with age (RIZIV "
            "yearly statistics, approximate: about twice as high at 50-59 as at 20-29); at least "
            "1.5, at most 3",
        ),
        _t(
            "share_foreign_in_flanders",
            0.085,
            0.025,
            "Non-Belgians: Flanders/Wallonia about 11% (2024)",
            "the national share grew by about 4 points from 2010 to 2024 (share_foreign); kept "
            "as the register draws it",
        ),
        _t(
            "share_foreign_in_wallonia",
            0.085,
            0.025,
            "Non-Belgians: Flanders/Wallonia about 11% (2024)",
            "as share_foreign_in_flanders",
        ),
        _t(
            "share_with_incapacity_episode",
            0.30,
            0.05,
            "Primary incapacity: about 470k persons enter per year",
            "not a Belgian figure but a design one: about a third of the persons alive in "
            "2003-2015 have an episode in 2003-2015 (EPISODE_PERIOD), so that 50,000 persons "
            "hold 18/088's sample of 10,000; never below 25%",
        ),
    )
}
