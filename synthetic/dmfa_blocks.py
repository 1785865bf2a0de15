"""The DMFA block fields of 19/104 and 13/021 on each occupation line, and the care facilities
of 19/104 among the employers.

Drawn from streams of their own (synthetic.generate), after every column of 18/088, so those
keep their values. Three levels, each drawn once where it lives:

- employer: the declaration fields (curatorship, net amount due, five-day conversion, holiday
  start, source code, the contribution not tied to a person), the same on every line of one
  employer and quarter; drawn with the employers, before any block of persons.
- occupation: what a contract is (tenure, student job, apprentice, grade, measures), the same in
  every quarter of one occupation (person, employer, local unit, start).
- line: what the quarter holds (hours, amounts), consistent with the line's paid days and gross
  wage.

Multi-valued blocks (service, remuneration, deduction and contribution lines) are flattened to
the occupation line's main line. The public-sector block is filled on public-sector lines only
(`sector == "2"`), the student block on student lines only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from specs import codes
from synthetic.dmfa import WAGE_GROWTH
from synthetic.draws import GERMAN_SPEAKING
from synthetic.register import END, START, municipalities

# --- care facilities (19/104: elderly care, psychiatric nursing homes, rehabilitation,
# palliative care) among the employers of joint committee 330 -----------------------------------
CARE_COMMITTEE = "330"
SHARE_CARE_OF_COMMITTEE = 0.5
CARE_NACE = {"87300": 0.45, "87100": 0.25, "87200": 0.10, "86900": 0.20}
# Over-represented (Brussels holds about a tenth of the population) so that a test population
# of a few thousand persons holds some Brussels facilities, the population of 19/104.
SHARE_CARE_UNIT_IN_BRUSSELS = 0.35
SHARE_CARE_PUBLIC = 0.25  # run by a local authority (a public centre for social welfare)
NON_PROFIT, LOCAL_AUTHORITY = "2", "3"
assert set(CARE_NACE) <= set(codes.NACE)

# --- employer declaration -------------------------------------------------------------------
SHARE_BANKRUPT = 0.03  # employers that go under curatorship at some quarter of the sources
SHARE_FIVE_DAY_CONVERSION = 0.10
SHARE_SUPPLEMENTARY_PENSION = 0.40
# Mean gross wage per job and quarter, in 2003 euro cents: 3 months of a log-normal wage around
# the median of synthetic.dmfa.
EMPLOYER_WAGE_MEDIAN_CENTS = 3 * 2500 * 100
EMPLOYER_WAGE_SIGMA = 0.25
NET_CONTRIBUTION_RATE = 0.25  # synthetic: net amount due as a share of the wage bill
LUMP_CONTRIBUTION_RATE = 0.01  # synthetic: contributions not tied to a person, of the wage bill
HOLIDAY_WINDOW_DAYS = 45  # holiday start: a day from 1 July, on third-quarter declarations

# --- occupation and line ----------------------------------------------------------------------
STUDENT_AGE = 25  # student lines: some lines of persons younger than this
SHARE_STUDENT_OF_YOUNG = 0.30
APPRENTICE_AGE = 23
SHARE_APPRENTICE_OF_YOUNG = 0.05
RETIREMENT_AGE = 65
SHARE_BORDER_WORKER = 0.01
SHARE_REORGANISATION_PART_TIME = 0.25
SHARE_REORGANISATION_FULL_TIME = 0.005
SHARE_TENURED_PUBLIC = 0.6
TENURE_WITHIN_DAYS = 3 * 365
SHARE_SOCIAL_MARIBEL = 0.10
END_OF_CAREER_AGE = 45  # care workers from this age may be exempted from services
SHARE_END_OF_CAREER_EXEMPTION = 0.30
SHARE_HORECA_EXTRA = 0.15
SHARE_POSTED = 0.005
SHARE_FWT = 0.03
SHARE_CAREER_MEASURE = 0.30
CAREER_MEASURE_AGE = 50
SHARE_RARE = 0.02  # piece/commission pay, declaration exemption, deviating pension base
STUDENT_SOLIDARITY_RATE = 0.0813  # domain.md 2.2 (block 90003)
HOLIDAY_DAYS_PER_WORKED_DAY = 20 / 260  # 20 days of holiday a year of 260 working days
CONTRIBUTION_RATE = 0.38  # synthetic: contributions due as a share of the gross wage
DEDUCTION_RATES = {"0001": 0.03, "3310": 0.10}  # synthetic; 3000 is the existing reduction
GRADE_NAMES = {
    "1": ("verpleegkundige", "infirmier"),
    "2": ("administratief medewerker", "collaborateur administratif"),
    "3": ("logistiek medewerker", "collaborateur logistique"),
}
OCCUPATION_KEY = ("insz", "employer_rsz", "local_unit_id", "occupation_start")

# The columns of the occupation lines the block fields are computed from.
USED_COLUMNS = (
    *OCCUPATION_KEY,
    "quarter",
    "occupation_end",
    "q_hours",
    "s_hours",
    "days_per_week",
    "days_worked",
    "gross_wage_cents",
    "contract_type",
    "sector",
    "nace",
    "joint_committee",
    "worker_code",
    "local_unit_nis",
    "employer_nis",
    "employer_nature",
    "employer_jobs",
    "assimilated_code",
    "termination_indemnity_cents",
    "deduction_code",
    "contribution_reduction_cents",
)
EMPLOYER_BLOCK_COLUMNS = (
    "block_bankrupt_quarter",
    "block_five_day_conversion",
    "block_supplementary_pension",
    "block_wage_cents",
    "block_holiday_day",
)


def with_care_facilities(rng: np.random.Generator, employers: pl.DataFrame) -> pl.DataFrame:
    """Some employers of joint committee 330 become care facilities: a care NACE code, a local
    unit in Brussels for some, a local authority for some (public sector)."""
    n = employers.height
    places = municipalities().filter(pl.col("nis_code").str.starts_with("21"))
    weights = places["inhabitants"].to_numpy().astype(float)
    brussels = places["nis_code"].to_numpy()[
        rng.choice(places.height, n, p=weights / weights.sum())
    ]
    care = (employers["joint_committee"] == CARE_COMMITTEE).to_numpy() & (
        rng.random(n) < SHARE_CARE_OF_COMMITTEE
    )
    nace = _pick(rng.random(n), CARE_NACE)
    in_brussels = care & (rng.random(n) < SHARE_CARE_UNIT_IN_BRUSSELS)
    public = care & (rng.random(n) < SHARE_CARE_PUBLIC)
    return employers.with_columns(
        nace=pl.when(pl.Series(care)).then(pl.Series(nace)).otherwise("nace"),
        local_unit_nis=pl.when(pl.Series(in_brussels))
        .then(pl.Series(brussels, dtype=pl.String))
        .otherwise("local_unit_nis"),
        employer_nature=pl.when(pl.Series(public))
        .then(pl.lit(LOCAL_AUTHORITY))
        .when(pl.Series(care))
        .then(pl.lit(NON_PROFIT))
        .otherwise("employer_nature"),
    )


def with_employer_blocks(rng: np.random.Generator, employers: pl.DataFrame) -> pl.DataFrame:
    """The employers with their declaration attributes (EMPLOYER_BLOCK_COLUMNS), drawn once."""
    n = employers.height
    first, last = START.year, END.year
    quarters = np.array([y * 10 + q for y in range(first, last + 1) for q in (1, 2, 3, 4)])
    bankrupt = rng.random(n) < SHARE_BANKRUPT
    return employers.with_columns(
        block_bankrupt_quarter=pl.Series(
            np.where(bankrupt, quarters[rng.integers(0, quarters.size, n)], 0), dtype=pl.Int32
        ).replace(0, None),
        block_five_day_conversion=_yes(rng.random(n) < SHARE_FIVE_DAY_CONVERSION),
        block_supplementary_pension=_yes(rng.random(n) < SHARE_SUPPLEMENTARY_PENSION),
        block_wage_cents=pl.Series(
            EMPLOYER_WAGE_MEDIAN_CENTS * np.exp(EMPLOYER_WAGE_SIGMA * rng.standard_normal(n))
        ),
        block_holiday_day=pl.Series(rng.integers(0, HOLIDAY_WINDOW_DAYS, n), dtype=pl.Int32),
    )


def occupations_with_blocks(
    rng: np.random.Generator,
    occupations: pl.DataFrame,
    persons: pl.DataFrame,
    employers: pl.DataFrame,
) -> pl.DataFrame:
    """The occupation lines with the block fields of 19/104 and 13/021 (rows keep their order)."""
    n = occupations.height
    # occupation-level draws: one row per occupation, in a fixed order
    per_occupation = occupations.select(OCCUPATION_KEY).unique().sort(OCCUPATION_KEY)
    m = per_occupation.height
    draws = rng.random((m, 11))
    per_occupation = per_occupation.with_columns(
        **{f"_u{i}": pl.Series(draws[:, i]) for i in range(draws.shape[1])}
    )
    line = rng.random((n, 3))
    quarter_start = pl.date(pl.col("quarter") // 10, (pl.col("quarter") % 10 - 1) * 3 + 1, 1)
    # a narrow frame of the columns the fields are computed from: the block fields are then
    # added to the lines as they are (no copy of the wide table through the joins)
    frame = (
        occupations.select(USED_COLUMNS)
        .join(per_occupation, on=list(OCCUPATION_KEY), how="left", maintain_order="left")
        .join(persons.select("insz", "birth_date"), on="insz", how="left", maintain_order="left")
        .join(
            employers.select("employer_rsz", *EMPLOYER_BLOCK_COLUMNS),
            on="employer_rsz",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            _l0=pl.Series(line[:, 0]),
            _l1=pl.Series(line[:, 1]),
            _l2=pl.Series(line[:, 2]),
            _start=quarter_start,
            _end=quarter_start.dt.offset_by("3mo") - pl.duration(days=1),
        )
        .with_columns(
            _age=(pl.col("_start") - pl.col("birth_date")).dt.total_days() / 365.25,
            _year=pl.col("quarter") // 10,
            _public=pl.col("sector") == "2",
            _care=pl.col("nace").is_in(list(CARE_NACE)),
            _part_time=pl.col("contract_type") == "1",
            _hours_per_day=pl.col("q_hours") / pl.col("days_per_week"),
        )
        .with_columns(
            _student=(pl.col("_age") < STUDENT_AGE)
            & ~pl.col("_public")
            & (pl.col("_u0") < SHARE_STUDENT_OF_YOUNG),
            _tenure_date=pl.when(pl.col("_public") & (pl.col("_u1") < SHARE_TENURED_PUBLIC)).then(
                pl.col("occupation_start")
                + pl.duration(days=(pl.col("_u2") * TENURE_WITHIN_DAYS).floor().cast(pl.Int64))
            ),
            _wage_bill=pl.col("employer_jobs")
            * pl.col("block_wage_cents")
            * (1 + WAGE_GROWTH) ** (pl.col("_year") - START.year),
        )
        .with_columns(_tenured=pl.col("_tenure_date") <= pl.col("_end"))
    )
    fields = frame.select(
        **_declaration_fields(),
        **_line_fields(),
        **_occupation_fields(),
        **_public_fields(),
        **_student_fields(),
        **_information_fields(),
        **_amount_fields(),
    )
    return occupations.hstack(fields.get_columns())


def _declaration_fields() -> dict[str, pl.Expr]:
    """Employer declaration (block 90007) and contribution not tied to a person: one value per
    employer and quarter."""
    return dict(
        curatorship=_yes_expr(
            pl.col("block_bankrupt_quarter").is_not_null()
            & (pl.col("quarter") >= pl.col("block_bankrupt_quarter"))
        ),
        net_amount_due_cents=(pl.col("_wage_bill") * NET_CONTRIBUTION_RATE).round().cast(pl.Int64),
        five_day_conversion=pl.col("block_five_day_conversion"),
        holiday_start=pl.when(pl.col("quarter") % 10 == 3).then(
            pl.date(pl.col("_year"), 7, 1) + pl.duration(days=pl.col("block_holiday_day"))
        ),
        declaration_source_code=pl.when(pl.col("employer_nature") == LOCAL_AUTHORITY)
        .then(pl.lit("2"))
        .otherwise(pl.lit("1")),
        lump_contribution_base_cents=pl.col("_wage_bill").round().cast(pl.Int64),
        lump_contribution_cents=(pl.col("_wage_bill") * LUMP_CONTRIBUTION_RATE)
        .round()
        .cast(pl.Int64),
    )


def _line_fields() -> dict[str, pl.Expr]:
    """Worker line (block 90012)."""
    return dict(
        border_worker=_yes_expr(pl.col("_u3") < SHARE_BORDER_WORKER),
        activity_risk=pl.when(pl.col("joint_committee") == CARE_COMMITTEE)
        .then(pl.lit("3"))
        .when(pl.col("worker_code") == "015")
        .then(pl.lit("2"))
        .otherwise(pl.lit("1")),
        oriolus_validation_code=pl.when(pl.col("_u4") < SHARE_RARE / 2)
        .then(pl.lit("1"))
        .otherwise(pl.lit("0")),
    )


def _occupation_fields() -> dict[str, pl.Expr]:
    """Occupation (block 90015) and its main service line (90018)."""
    return dict(
        occupation_number=pl.col("occupation_start")
        .rank("ordinal")
        .over("insz", "quarter", "employer_rsz")
        .cast(pl.Int32),
        working_time_reorganisation=pl.when(
            pl.col("_part_time") & (pl.col("_u5") < SHARE_REORGANISATION_PART_TIME)
        )
        .then(pl.lit("1"))
        .when(~pl.col("_part_time") & (pl.col("_u5") < SHARE_REORGANISATION_FULL_TIME))
        .then(pl.lit("3")),
        worker_status=pl.when(pl.col("_tenured"))
        .then(pl.lit("2"))
        .when(pl.col("_u6") < 0.05)
        .then(pl.lit("3"))
        .otherwise(pl.lit("1")),
        retired=_yes_expr(pl.col("_age") >= RETIREMENT_AGE),
        apprentice_type=pl.when(
            (pl.col("_age") < APPRENTICE_AGE)
            & ~pl.col("_student")
            & (pl.col("_u7") < SHARE_APPRENTICE_OF_YOUNG)
        ).then(pl.lit("1")),
        remuneration_method=pl.when(pl.col("joint_committee") == "322.01")
        .then(pl.lit("3"))
        .when(pl.col("_u7") > 1 - SHARE_RARE / 2)
        .then(pl.lit("1"))
        .when(pl.col("_u7") > 1 - SHARE_RARE)
        .then(pl.lit("2")),
        function_number=pl.when(pl.col("joint_committee") == CARE_COMMITTEE).then(
            _pick_expr(pl.col("_u8"), {"1": 0.35, "2": 0.35, "3": 0.1, "9": 0.2})
        ),
        # no synthetic employer is an airline or a school: these stay empty
        flying_personnel_class=pl.lit(None, dtype=pl.String),
        tenths_or_twelfths=pl.lit(None, dtype=pl.String),
        days_justification=pl.when(pl.col("_u3") > 1 - SHARE_RARE / 2).then(pl.lit("1")),
        service_line_number=pl.lit(1, dtype=pl.Int32),
        # hours are declared for part-time lines: paid days x hours a day
        service_hours_hundredths=pl.when(pl.col("_part_time"))
        .then((pl.col("days_worked") * pl.col("_hours_per_day")).round())
        .cast(pl.Int32),
        flight_minutes=pl.lit(None, dtype=pl.Int32),
    )


def _public_fields() -> dict[str, pl.Expr]:
    """Public-sector block: on public-sector lines only."""
    public = pl.col("_public")
    staff = _pick_expr(pl.col("_u8"), {"1": 0.6, "2": 0.25, "3": 0.15})
    nis = pl.col("local_unit_nis")
    language = (
        pl.when(nis.is_in(GERMAN_SPEAKING))
        .then(pl.lit("D"))
        .when(nis.str.starts_with("21"))
        .then(pl.when(pl.col("_u9") < 0.3).then(pl.lit("N")).otherwise(pl.lit("F")))
        .when(nis.str.slice(0, 1).is_in(["5", "6", "8", "9"]) | nis.str.starts_with("25"))
        .then(pl.lit("F"))
        .otherwise(pl.lit("N"))
    )
    grade = (
        pl.when(language == "N")
        .then(staff.replace_strict({k: v[0] for k, v in GRADE_NAMES.items()}))
        .otherwise(staff.replace_strict({k: v[1] for k, v in GRADE_NAMES.items()}))
    )
    ends_here = pl.col("occupation_end").is_not_null() & (
        pl.col("occupation_end") <= pl.col("_end")
    )
    return dict(
        public_organisation_type=pl.when(public).then(
            pl.when(pl.col("_care")).then(pl.lit("1")).otherwise(pl.lit("3"))
        ),
        staff_category=pl.when(public).then(staff),
        grade_name=pl.when(public).then(grade),
        public_start=pl.when(public).then(pl.col("occupation_start")),
        public_end=pl.when(public).then(pl.col("occupation_end")),
        language_role=pl.when(public).then(language),
        service_nature=pl.when(public).then(
            pl.when(pl.col("_part_time")).then(pl.lit("2")).otherwise(pl.lit("1"))
        ),
        function_nature=pl.when(public).then(
            pl.when(pl.col("_u9") > 0.9).then(pl.lit("2")).otherwise(pl.lit("1"))
        ),
        statutory_end_reason=pl.when(public & pl.col("_tenured") & ends_here).then(
            pl.when(pl.col("_age") >= 60)
            .then(pl.lit("2"))
            .otherwise(_pick_expr(pl.col("_u5"), {"1": 0.6, "3": 0.2, "9": 0.2}))
        ),
        public_declaration_exemption=pl.when(public).then(
            _yes_expr(pl.col("_u4") > 1 - SHARE_RARE)
        ),
        deviating_pension_base=pl.when(public & pl.col("_tenured")).then(
            _yes_expr(pl.col("_u6") > 1 - SHARE_RARE)
        ),
        tenure_date=pl.when(pl.col("_tenured")).then(pl.col("_tenure_date")),
        six_months_sick_date=pl.when(
            pl.col("_tenured") & (pl.col("assimilated_code") == "50") & (pl.col("_l0") < 0.3)
        ).then(pl.col("_start") + pl.duration(days=(pl.col("_l1") * 90).floor().cast(pl.Int64))),
    )


def _student_fields() -> dict[str, pl.Expr]:
    """Student block: on student lines only; the solidarity contribution is a rate of the wage."""
    student = pl.col("_student")
    return dict(
        student_wage_cents=pl.when(student).then(pl.col("gross_wage_cents")),
        student_contribution_cents=pl.when(student).then(
            (pl.col("gross_wage_cents") * STUDENT_SOLIDARITY_RATE).round().cast(pl.Int64)
        ),
        student_days=pl.when(student).then((pl.col("days_worked") / 100).round().cast(pl.Int32)),
        student_hours_hundredths=pl.when(student).then(
            (pl.col("days_worked") * pl.col("_hours_per_day")).round().cast(pl.Int32)
        ),
    )


def _information_fields() -> dict[str, pl.Expr]:
    """Occupation: information (19/104's block \"tewerkstelling - inlichtingen\")."""
    measure = (
        pl.when(pl.col("employer_nature") != NON_PROFIT)
        .then(pl.lit(None, dtype=pl.String))
        .when(
            pl.col("_care")
            & (pl.col("_age") >= END_OF_CAREER_AGE)
            & (pl.col("_u9") < SHARE_END_OF_CAREER_EXEMPTION)
        )
        .then(pl.lit("2"))
        .when(pl.col("_u6") < SHARE_SOCIAL_MARIBEL)
        .then(pl.lit("1"))
    )
    sick = (pl.col("assimilated_code") == "50") & (pl.col("days_worked") > 0)
    guaranteed = pl.when(sick).then(((pl.col("_l2") * 4).floor() + 1) * 100).cast(pl.Int32)
    nis = pl.col("employer_nis")
    flemish = ~(
        nis.str.starts_with("21")
        | nis.str.starts_with("25")
        | nis.str.slice(0, 1).is_in(["5", "6", "8", "9"])
    )
    return dict(
        holiday_days_hundredths=(pl.col("days_worked") * HOLIDAY_DAYS_PER_WORKED_DAY)
        .round()
        .cast(pl.Int32),
        non_profit_measure=measure,
        horeca_extra=pl.when(pl.col("joint_committee") == "302").then(
            _yes_expr(pl.col("_u8") < SHARE_HORECA_EXTRA)
        ),
        hourly_wage_cents=pl.when(pl.col("days_worked") > 0)
        .then(
            (
                pl.col("gross_wage_cents")
                / (pl.col("days_worked") / 100 * pl.col("_hours_per_day"))
            ).round()
        )
        .cast(pl.Int64),
        exempt_from_services=_yes_expr(measure.fill_null("") == "2"),
        posted_worker=_yes_expr(pl.col("_u4") > 1 - SHARE_POSTED),
        guaranteed_wage_days_hundredths=guaranteed,
        sick_pay_cents=pl.when(sick)
        .then((pl.col("gross_wage_cents") / pl.col("days_worked") * guaranteed).round())
        .cast(pl.Int64),
        supplementary_pension=pl.col("block_supplementary_pension"),
        former_work_placement_trainee=_yes_expr(
            (pl.col("_age") < 26) & (pl.col("_u10") < SHARE_FWT)
        ),
        social_maribel_date=pl.when(measure.fill_null("") == "1").then(pl.col("occupation_start")),
        career_measure=pl.when(
            (pl.col("_age") >= CAREER_MEASURE_AGE)
            & pl.col("_part_time")
            & (pl.col("_u7") < SHARE_CAREER_MEASURE)
        ).then(pl.lit("1")),
        flemish_social_profit_subsector=pl.when(
            flemish & (pl.col("joint_committee") == CARE_COMMITTEE)
        ).then(
            pl.when(pl.col("_care"))
            .then(pl.lit("1"))
            .when(pl.col("nace") == "88101")
            .then(pl.lit("2"))
            .otherwise(pl.lit("9"))
        ),
        # the mobility budget exists from 2019, after the synthetic sources end
        mobility_budget_cents=pl.lit(None, dtype=pl.Int64),
    )


def _amount_fields() -> dict[str, pl.Expr]:
    """Main remuneration, deduction and contribution lines (blocks 90019, 90109/90110, 90001)."""
    wage = pl.col("gross_wage_cents")
    indemnity_only = (wage == 0) & pl.col("termination_indemnity_cents").is_not_null()
    deduction = pl.col("deduction_code").fill_null("0000")
    rate = deduction.replace_strict(DEDUCTION_RATES, default=0.0, return_dtype=pl.Float64)
    return dict(
        remuneration_code=pl.when(wage > 0)
        .then(pl.lit("1"))
        .when(indemnity_only)
        .then(pl.lit("4")),
        # the main line is the base wage, which has neither a premium frequency nor a share of
        # the yearly remuneration
        premium_frequency=pl.lit(None, dtype=pl.Int32),
        annual_remuneration_hundredths=pl.lit(None, dtype=pl.Int32),
        deduction_base_cents=pl.when(deduction != "0000").then(wage),
        deduction_cents=pl.when(deduction == "3000")
        .then(pl.col("contribution_reduction_cents"))
        .when(deduction != "0000")
        .then((wage * rate).round().cast(pl.Int64)),
        deduction_right_start=pl.when(deduction != "0000").then(pl.col("occupation_start")),
        contribution_type=pl.when(indemnity_only).then(pl.lit("1")).otherwise(pl.lit("0")),
        contribution_base_cents=pl.when(indemnity_only)
        .then(pl.col("termination_indemnity_cents"))
        .otherwise(wage),
        contribution_cents=(
            pl.when(indemnity_only).then(pl.col("termination_indemnity_cents")).otherwise(wage)
            * CONTRIBUTION_RATE
        )
        .round()
        .cast(pl.Int64),
    )


def _yes(mask: np.ndarray) -> pl.Series:
    return pl.Series(np.where(mask, "Y", "N"), dtype=pl.String)


def _yes_expr(condition: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(pl.lit("Y")).otherwise(pl.lit("N"))


def _pick(u: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """The code whose cumulative weight band holds each uniform number."""
    values = np.array(list(weights))
    bounds = np.cumsum(np.array(list(weights.values()), dtype=float))
    return values[
        np.minimum(np.searchsorted(bounds / bounds[-1], u, side="right"), values.size - 1)
    ]


def _pick_expr(u: pl.Expr, weights: Mapping[str, float]) -> pl.Expr:
    """`_pick` as an expression over a column of uniform numbers."""
    codes_ = list(weights)
    bounds = np.cumsum(np.array(list(weights.values()), dtype=float))
    bounds = bounds / bounds[-1]
    chain: Then | ChainedThen = pl.when(u < float(bounds[0])).then(pl.lit(codes_[0]))
    for code, bound in zip(codes_[1:-1], bounds[1:-1], strict=True):
        chain = chain.when(u < float(bound)).then(pl.lit(code))
    return chain.otherwise(pl.lit(codes_[-1]))
