"""The source store: one folder per institution, one Parquet file per table.

Declared once: the synthetic generator writes exactly these schemas and the flows refuse a
source file that does not match them. Identifiers (INSZ, employer and enterprise numbers) exist
only here; no transform lets them through to a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from specs import codes


@dataclass(frozen=True)
class SourceColumn:
    """One column of a source table: its DuckDB type and whether it may be null."""

    name: str
    dtype: str
    nullable: bool = False
    codes: Mapping[str, str] | None = None
    description: str = ""


@dataclass(frozen=True)
class Correction:
    """A table whose records are corrected by resending them: the records with one `key` are
    versions of one record, and the highest `version` is the one that holds."""

    key: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class Lifetime:
    """The days a record is about, compared with the register's death date: `first_day` (a
    SQL expression over the record's columns) and `end` (the column of its last day, null:
    ongoing). A record with no `end` column is about `first_day` alone, kept or dropped whole."""

    first_day: str
    end: str | None


@dataclass(frozen=True)
class SourceTable:
    """A source table, stored as `<institution>/<table>.parquet` under the source store.

    How a panel finds a person's row for a reference day: spell tables name the columns of the
    first and last valid day (the last may be null: still valid); period tables name their
    period column (YYYYMM for months, YYYYQ for quarters, the year), matched to the panel's
    period; other tables are read whole (one row per person, or lines of a panel of their own).

    A table a spec needs is refused when it holds no rows, and when it holds fewer than
    `min_rows_per_person` rows per person of the register: a floor far below what a complete
    delivery holds (its neighbour, the register, implies at least that many), so that a table
    delivered empty or cut short is not taken for a population with no jobs, no career or no
    address. Tables most persons have no row in (sanctions, disability) declare no floor.

    `record_key`, where declared: the columns that tell the table's records apart (the
    generator's defects pick records by them). What the source checks read
    (transforms.source_checks): `correction` (records resent with a
    higher version), `episode_order` (episodes of a person, in the order that decides which is
    "next", ties broken on every column so the cut is the same in every run) and `lifetime`
    (records that may not outlive the person).
    """

    institution: str
    table: str
    description: str
    columns: tuple[SourceColumn, ...]
    valid_from: str | None = None
    valid_until: str | None = None
    period_column: str | None = None
    min_rows_per_person: float = 0.0
    record_key: tuple[str, ...] | None = None
    correction: Correction | None = None
    episode_order: str | None = None
    lifetime: Lifetime | None = None

    @property
    def relative_path(self) -> str:
        return f"{self.institution}/{self.table}.parquet"

    @property
    def key(self) -> str:
        return f"{self.institution}.{self.table}"


def _c(
    name: str,
    dtype: str,
    nullable: bool = False,
    codes_: Mapping[str, str] | None = None,
    description: str = "",
) -> SourceColumn:
    return SourceColumn(name, dtype, nullable, codes_, description)


# Written by the synthetic generator beside the tables: what the store is (synthetic or not,
# persons, seed). A store without it is taken for real data.
STORE_MANIFEST = "store.json"


def _o(
    name: str,
    dtype: str = "VARCHAR",
    codes_: Mapping[str, str] | None = None,
    description: str = "",
) -> SourceColumn:
    """An optional column (may be null)."""
    return SourceColumn(name, dtype, True, codes_, description)


# A DMFA line's key: a correction repeats it with a higher declaration_version.
DECLARATION_CORRECTION = Correction(
    key=("insz", "quarter", "employer_rsz", "local_unit_id", "occupation_start"),
    version="declaration_version",
)
# An A052 message's key: a correction repeats it with a higher message_version.
MESSAGE_CORRECTION = Correction(key=("insz", "message_number"), version="message_version")

INSZ = _c("insz", "VARCHAR", description="INSZ/NISS, 11 digits with check digits")

PERSONS = SourceTable(
    "register",
    "persons",
    "National Register: one row per person",
    (
        INSZ,
        _c("last_name", "VARCHAR"),
        _c("first_name", "VARCHAR"),
        _c("sex", "VARCHAR", codes_=codes.SEX),
        _c("birth_date", "DATE"),
        _c("death_date", "DATE", nullable=True),
        _c("street", "VARCHAR", description="street and house number of the current address"),
        _c("postal_code", "VARCHAR"),
        _c("first_nationality", "VARCHAR", codes_=codes.COUNTRY),
    ),
    record_key=("insz",),
)

RESIDENCES = SourceTable(
    "register",
    "residences",
    "Residence episodes: municipality (NIS code, 2018 boundaries) from valid_from to valid_until",
    (
        INSZ,
        _c("valid_from", "DATE"),
        _c("valid_until", "DATE", nullable=True, description="last day; null while current"),
        _c("nis_code", "VARCHAR", description="5-digit NIS municipality code"),
    ),
    valid_from="valid_from",
    valid_until="valid_until",
    # every resident has an address: 1.1 episodes per person in the synthetic store
    min_rows_per_person=0.5,
)

NATIONALITIES = SourceTable(
    "register",
    "nationalities",
    "Current-nationality episodes",
    (
        INSZ,
        _c("valid_from", "DATE"),
        _c("valid_until", "DATE", nullable=True),
        _c("nationality", "VARCHAR", codes_=codes.COUNTRY),
    ),
    valid_from="valid_from",
    valid_until="valid_until",
    # every person has a nationality: 1.0 episodes per person
    min_rows_per_person=0.5,
)

HOUSEHOLDS = SourceTable(
    "register",
    "households",
    "Household episodes: LIPRO position and household size",
    (
        INSZ,
        _c("valid_from", "DATE"),
        _c("valid_until", "DATE", nullable=True),
        _c("lipro", "VARCHAR", codes_=codes.LIPRO),
        _c("household_size", "INTEGER"),
    ),
    valid_from="valid_from",
    valid_until="valid_until",
    # every person lives in a household: 1.8 episodes per person
    min_rows_per_person=0.5,
)

OCCUPATIONS = SourceTable(
    "dmfa",
    "occupations",
    "DMFA occupation lines: one row per occupation per quarter (blocks 90012, 90015, 90019; "
    "the further blocks of 19/104 and 13/021 flattened to the line)",
    (
        INSZ,
        _c("quarter", "INTEGER", description="declaration quarter as YYYYQ, e.g. 20031"),
        _c("employer_rsz", "VARCHAR", description="RSZ employer registration number, 9 digits"),
        _c("enterprise_kbo", "VARCHAR", description="KBO enterprise number, 10 digits"),
        _c("local_unit_id", "VARCHAR", description="local unit (establishment) number, 10 digits"),
        _c("joint_committee", "VARCHAR", codes_=codes.JOINT_COMMITTEE),
        _c("worker_code", "VARCHAR", codes_=codes.WORKER_CODE),
        _c("contract_type", "VARCHAR", codes_=codes.CONTRACT_TYPE),
        _c("q_hours", "INTEGER", description="Q, mean weekly hours of the worker, hundredths"),
        _c("s_hours", "INTEGER", description="S, weekly hours of the reference person, hundredths"),
        _c("occupation_start", "DATE"),
        _c("occupation_end", "DATE", nullable=True, description="null while ongoing"),
        _c("days_worked", "INTEGER", description="paid days in the quarter, hundredths"),
        _c("gross_wage_cents", "BIGINT", description="gross remuneration in the quarter, cents"),
        _c(
            "declaration_version",
            "INTEGER",
            description="1 as first declared; a correction of the line repeats its key "
            "(person, quarter, employer, local unit, occupation start) with the next number",
        ),
        # Further DMFA/DWH fields of the line and its employer (18/088 point 8); optional.
        _o("employer_category", codes_=codes.EMPLOYER_CATEGORY),
        _o("days_per_week", "INTEGER", description="days per week of the schedule, hundredths"),
        _o("special_worker_class", codes_=codes.SPECIAL_WORKER_CLASS),
        _o("importance_code", codes_=codes.IMPORTANCE_CODE),
        _o("local_unit_importance_code", codes_=codes.IMPORTANCE_CODE),
        _o("employer_jobs", "INTEGER", description="jobs the employer declares"),
        _o("deduction_code", codes_=codes.DEDUCTION_CODE),
        _o("assimilated_code", codes_=codes.ASSIMILATED_DAYS_CODE),
        _o("nace", codes_=codes.NACE),
        _o("fictive_nace", codes_=codes.NACE),
        _o("regionalisation", codes_=codes.REGIONALISATION),
        _o("assimilated_days", "INTEGER", description="assimilated days, hundredths"),
        _o("employer_nis", description="NIS code of the employer's seat"),
        _o("local_unit_nis", description="NIS code of the local unit"),
        _o("employment_measure", codes_=codes.EMPLOYMENT_MEASURE),
        _o("telework", codes_=codes.YES_NO),
        _o("notice_days", "INTEGER", description="paid notice days without work, hundredths"),
        _o("termination_indemnity_cents", "BIGINT"),
        _o("sector", codes_=codes.SECTOR),
        _o("service_code", codes_=codes.SERVICE_CODE),
        _o("other_days", "INTEGER", description="unpaid days of the occupation, hundredths"),
        _o("employer_nature", codes_=codes.EMPLOYER_NATURE),
        _o("contribution_reduction_cents", "BIGINT"),
        _o("pays_contributions", codes_=codes.YES_NO),
        _o("consolidation_type", codes_=codes.CONSOLIDATION_TYPE),
        _o("pension_type", codes_=codes.PENSION_TYPE),
        _o("normal_days", "INTEGER", description="normally paid full-time days, hundredths"),
        # DMFA blocks of 19/104 and 13/021; optional. Employer declaration (the same on every
        # line of one employer and quarter):
        _o("curatorship", codes_=codes.YES_NO),
        _o("net_amount_due_cents", "BIGINT", description="net amount due for the quarter"),
        _o("five_day_conversion", codes_=codes.YES_NO),
        _o("holiday_start", "DATE"),
        _o("declaration_source_code", codes_=codes.DECLARATION_SOURCE),
        _o(
            "lump_contribution_base_cents",
            "BIGINT",
            description="base of the contribution not tied to a person",
        ),
        _o("lump_contribution_cents", "BIGINT"),
        # worker line, occupation and its main service line
        _o("border_worker", codes_=codes.YES_NO),
        _o("activity_risk", codes_=codes.ACTIVITY_RISK),
        _o("oriolus_validation_code", codes_=codes.ORIOLUS_VALIDATION),
        _o("occupation_number", "INTEGER", description="occupation within the worker line"),
        _o("working_time_reorganisation", codes_=codes.WORKING_TIME_REORGANISATION),
        _o("worker_status", codes_=codes.WORKER_STATUS),
        _o("retired", codes_=codes.YES_NO),
        _o("apprentice_type", codes_=codes.APPRENTICE_TYPE),
        _o("remuneration_method", codes_=codes.REMUNERATION_METHOD),
        _o("function_number", codes_=codes.FUNCTION_NUMBER),
        _o("flying_personnel_class", codes_=codes.FLYING_PERSONNEL_CLASS),
        _o("tenths_or_twelfths", codes_=codes.TENTHS_OR_TWELFTHS),
        _o("days_justification", codes_=codes.DAYS_JUSTIFICATION),
        _o("service_line_number", "INTEGER", description="the main service line: 1"),
        _o("service_hours_hundredths", "INTEGER", description="hours of the main service line"),
        _o("flight_minutes", "INTEGER"),
        # public-sector block (public-sector lines only)
        _o("public_organisation_type", codes_=codes.PUBLIC_ORGANISATION_TYPE),
        _o("staff_category", codes_=codes.STAFF_CATEGORY),
        _o("grade_name", description="name of the grade or function, free text"),
        _o("public_start", "DATE"),
        _o("public_end", "DATE"),
        _o("language_role", codes_=codes.LANGUAGE_ROLE),
        _o("service_nature", codes_=codes.SERVICE_NATURE),
        _o("function_nature", codes_=codes.FUNCTION_NATURE),
        _o("statutory_end_reason", codes_=codes.STATUTORY_END_REASON),
        _o("public_declaration_exemption", codes_=codes.YES_NO),
        _o("deviating_pension_base", codes_=codes.YES_NO),
        _o("tenure_date", "DATE"),
        _o("six_months_sick_date", "DATE"),
        # student block (student lines only)
        _o("student_wage_cents", "BIGINT"),
        _o("student_contribution_cents", "BIGINT"),
        _o("student_days", "INTEGER"),
        _o("student_hours_hundredths", "INTEGER"),
        # occupation: information
        _o("holiday_days_hundredths", "INTEGER"),
        _o("non_profit_measure", codes_=codes.NON_PROFIT_MEASURE),
        _o("horeca_extra", codes_=codes.YES_NO),
        _o("hourly_wage_cents", "BIGINT"),
        _o("exempt_from_services", codes_=codes.YES_NO),
        _o("posted_worker", codes_=codes.YES_NO),
        _o("guaranteed_wage_days_hundredths", "INTEGER"),
        _o("sick_pay_cents", "BIGINT"),
        _o("supplementary_pension", codes_=codes.YES_NO),
        _o("former_work_placement_trainee", codes_=codes.YES_NO),
        _o("social_maribel_date", "DATE"),
        _o("career_measure", codes_=codes.CAREER_MEASURE),
        _o("flemish_social_profit_subsector", codes_=codes.FLEMISH_SOCIAL_PROFIT_SUBSECTOR),
        _o("mobility_budget_cents", "BIGINT"),
        # main remuneration, deduction and contribution lines (flattened)
        _o("remuneration_code", codes_=codes.REMUNERATION_CODE),
        _o("premium_frequency", "INTEGER", description="months"),
        _o(
            "annual_remuneration_hundredths",
            "INTEGER",
            description="percentage of the yearly remuneration, hundredths",
        ),
        _o("deduction_base_cents", "BIGINT"),
        _o("deduction_cents", "BIGINT"),
        _o("deduction_right_start", "DATE"),
        _o("contribution_type", codes_=codes.CONTRIBUTION_TYPE),
        _o("contribution_base_cents", "BIGINT"),
        _o("contribution_cents", "BIGINT"),
    ),
    period_column="quarter",
    # most persons of working age work some quarters: 25 lines per person
    min_rows_per_person=0.5,
    correction=DECLARATION_CORRECTION,
    # a line is about the days of its occupation within its quarter
    lifetime=Lifetime(
        first_day="greatest(occupation_start, make_date(quarter // 10, quarter % 10 * 3 - 2, 1))",
        end="occupation_end",
    ),
    record_key=("insz", "quarter", "employer_rsz", "local_unit_id", "occupation_start"),
)

UNEMPLOYMENT = SourceTable(
    "rva",
    "unemployment",
    "RVA full-unemployment benefit episodes",
    (
        INSZ,
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("category", "VARCHAR", codes_=codes.UNEMPLOYMENT_CATEGORY),
        _c("daily_allowance_cents", "INTEGER"),
        _o("office", codes_=codes.UNEMPLOYMENT_OFFICE),
        _o("contract", codes_=codes.UNEMPLOYMENT_CONTRACT),
        _o("activation_criterion", codes_=codes.ACTIVATION_CRITERION),
        _o("created_date", "DATE"),
        _o("previous_situation", codes_=codes.PREVIOUS_SITUATION),
        _o("career_break_reason", codes_=codes.CAREER_BREAK_REASON),
        _o("time_credit_reason", codes_=codes.TIME_CREDIT_REASON),
        _o("programme_id", description="number of a transition or reintegration programme"),
        _o("replacement", codes_=codes.YES_NO),
        _o("scheme", codes_=codes.UNEMPLOYMENT_SCHEME),
        _o("activity_sector", codes_=codes.NACE),
        _o("rva_status", codes_=codes.RVA_STATUS),
        _o("temporary_type", codes_=codes.TEMPORARY_UNEMPLOYMENT_TYPE),
    ),
    valid_from="start_date",
    valid_until="end_date",
    episode_order="start_date, end_date nulls last, category, daily_allowance_cents",
    lifetime=Lifetime(first_day="start_date", end="end_date"),
    record_key=("insz", "start_date"),
)

SANCTIONS = SourceTable(
    "rva",
    "sanctions",
    "RVA sanctions: one row per sanction, from its first to its last day",
    (
        INSZ,
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("sanction_type", "VARCHAR", codes_=codes.SANCTION_TYPE),
        _c("reason", "VARCHAR", codes_=codes.SANCTION_REASON),
        _c("amount_cents", "BIGINT", description="benefit withheld, cents"),
        _c("decision_date", "DATE"),
        _c("notification_date", "DATE"),
        _c("effective_date", "DATE"),
        _c("exclusion_weeks", "INTEGER"),
        _c("duration_weeks", "INTEGER"),
    ),
    valid_from="start_date",
    valid_until="end_date",
)

PAYMENTS = SourceTable(
    "rva",
    "payments",
    "RVA payments: one row per person and month with benefit paid",
    (
        INSZ,
        _c("month", "INTEGER", description="month paid for, YYYYMM"),
        _c("amount_paid_cents", "BIGINT"),
        _c("benefit_days", "INTEGER", description="days with benefit, 6-day regime"),
        _c("hours_worked_hundredths", "INTEGER"),
        _c("budget_units_hundredths", "INTEGER"),
        _c("payments", "INTEGER"),
        _c("month_end_situation", "VARCHAR", codes_=codes.MONTH_END_SITUATION),
    ),
    period_column="month",
)

ACTIVATION = SourceTable(
    "rva",
    "activation",
    "RVA activation procedures (follow-up of job-search efforts) with up to three interviews",
    (
        INSZ,
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("procedure_number", "VARCHAR", description="number of the procedure, 8 digits"),
        _c("letter_date", "DATE"),
        *(
            column
            for n in (1, 2, 3)
            for column in (
                _o(f"interview_{n}_date", "DATE"),
                _o(f"interview_{n}_result", codes_=codes.INTERVIEW_RESULT),
            )
        ),
    ),
    valid_from="start_date",
    valid_until="end_date",
)

INCAPACITY = SourceTable(
    "nic",
    "incapacity",
    "NIC/RIZIV incapacity: one row per phase (primary incapacity, invalidity) of each episode",
    (
        INSZ,
        _c("episode", "INTEGER", description="episode number within the person, from 1"),
        _c("phase", "VARCHAR", codes_=codes.INCAPACITY_PHASE),
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("illness_start_date", "DATE", description="first day of illness (guaranteed wage)"),
        _c("primary_start_date", "DATE", description="first day of the primary incapacity"),
        _c("nature", "VARCHAR", codes_=codes.INCAPACITY_NATURE),
        _c("daily_benefit_cents", "INTEGER"),
        _o("percentage", "INTEGER", description="degree of incapacity, percent"),
        _o("benefit_code", codes_=codes.INCAPACITY_BENEFIT_CODE),
        _o("medical_code", codes_=codes.MEDICAL_CODE),
        _o("discharge_code", codes_=codes.DISCHARGE_CODE),
        _o("statistical_indicator", codes_=codes.STATISTICAL_INDICATOR),
        _o("occupation", codes_=codes.INCAPACITY_OCCUPATION),
        _o("social_status", codes_=codes.INCAPACITY_SOCIAL_STATUS),
        _o("scheme", codes_=codes.INCAPACITY_SCHEME),
        _o("nace", codes_=codes.NACE),
        _o("payment_period_end", "DATE"),
        _o("session_date", "DATE", description="session of the Medical Council for Invalidity"),
        _o("gri_decision", codes_=codes.GRI_DECISION),
        _o("benefit_type", codes_=codes.BENEFIT_TYPE),
        _o("day_type", codes_=codes.DAY_TYPE),
        _o("file_status", codes_=codes.INCAPACITY_FILE_STATUS),
        _o("annual_income_cents", "BIGINT", description="annual earnings the benefit is based on"),
    ),
    valid_from="start_date",
    valid_until="end_date",
    episode_order="start_date, episode, phase, end_date nulls last",
    lifetime=Lifetime(first_day="start_date", end="end_date"),
    record_key=("insz", "episode", "start_date"),
)

A052_MESSAGES = SourceTable(
    "nic",
    "a052_messages",
    "A052 messages of the insurers (04/037 points 1.2 and 7.1): one row per version of each "
    "message, a message per quarter of a salaried worker's incapacity, with its employer and "
    "day occurrences flattened to the row",
    (
        INSZ,
        _c("quarter", "INTEGER", description="quarter the message is about, YYYYQ"),
        _c("message_number", "VARCHAR", description="unique number of the message, 12 digits"),
        _c(
            "message_version",
            "INTEGER",
            description="1 as first sent; a correction repeats the unique number with the next "
            "version",
        ),
        _c("created_date", "DATE", description="day this version was made"),
        _c("status", "VARCHAR", codes_=codes.A052_STATUS),
        _c("employer_count", "INTEGER", description='occurrences "werkgever"'),
        _c("employer_rsz", "VARCHAR", description="RSZ number of the employer, 9 digits"),
        _o("employer_category", codes_=codes.EMPLOYER_CATEGORY),
        _c("worker_code", "VARCHAR", codes_=codes.WORKER_CODE),
        _c("joint_committee", "VARCHAR", codes_=codes.JOINT_COMMITTEE),
        _c("occupation_start", "DATE"),
        _c("worker_class", "VARCHAR", codes_=codes.WORKER_CLASS),
        _c("q_hours", "INTEGER", description="Q, mean weekly hours of the worker, hundredths"),
        _c("s_hours", "INTEGER", description="S, weekly hours of the reference person, hundredths"),
        _c("day_block_count", "INTEGER", description='occurrences "dagen"'),
        _c("day_type", "VARCHAR", codes_=codes.DAY_TYPE),
        _c("days", "INTEGER", description="days of the day block in the quarter, 6-day regime"),
        _c("benefit_type", "VARCHAR", codes_=codes.BENEFIT_TYPE),
        _c("nature", "VARCHAR", codes_=codes.INCAPACITY_NATURE),
        _c("incapacity_start", "DATE", description="first day of the primary incapacity"),
        _o("incapacity_end", "DATE", description="last day, once known; null while running"),
        _o("fitness_decision_source", codes_=codes.FITNESS_DECISION_SOURCE),
        _o("fitness_date", "DATE", description="day the person is fit for work again"),
        _o("childbirth_date", "DATE", description="day of childbirth, as the person reported it"),
    ),
    period_column="quarter",
    correction=MESSAGE_CORRECTION,
    record_key=("insz", "message_number", "message_version"),
)

JOBSEEKERS = SourceTable(
    "jobseekers",
    "registrations",
    "Job-seeker registrations at the regional employment services (VDAB, FOREM, ACTIRIS, ADG)",
    (
        INSZ,
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("category", "VARCHAR", codes_=codes.JOBSEEKER_CATEGORY),
        _c("study_domain", "VARCHAR", codes_=codes.STUDY_DOMAIN),
        _c("study_level", "VARCHAR", codes_=codes.STUDY_LEVEL),
        _c("service", "VARCHAR", codes_=codes.EMPLOYMENT_SERVICE),
        _c("exemption", "VARCHAR", codes_=codes.JOBSEEKER_EXEMPTION),
    ),
    valid_from="start_date",
    valid_until="end_date",
)

DISABILITY = SourceTable(
    "fodsz",
    "disability",
    "FOD SZ disability recognitions and allowances (1969 regime flags)",
    (
        INSZ,
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("ordinary_allowance", "VARCHAR", codes_=codes.YES_NO),
        _c("special_allowance", "VARCHAR", codes_=codes.YES_NO),
        _c("lower_limbs_50", "VARCHAR", codes_=codes.YES_NO),
        _c("full_blindness", "VARCHAR", codes_=codes.YES_NO),
        _c("earning_capacity_third", "VARCHAR", codes_=codes.YES_NO),
    ),
    valid_from="start_date",
    valid_until="end_date",
)

SELF_EMPLOYED = SourceTable(
    "rsvz",
    "self_employed",
    "RSVZ self-employed activities",
    (
        INSZ,
        _c("start_date", "DATE"),
        _c("end_date", "DATE", nullable=True),
        _c("category", "VARCHAR", codes_=codes.SELF_EMPLOYED_CATEGORY),
        _c("annual_income_cents", "BIGINT"),
    ),
    valid_from="start_date",
    valid_until="end_date",
)

ACTIVATION_ALLOWANCES = SourceTable(
    "rva",
    "activation_allowances",
    "RVA activation allowances: one row per person and month an allowance is paid with a job "
    "(13/021 points 19-20)",
    (
        INSZ,
        _c("month", "INTEGER", description="month paid for, YYYYMM"),
        _c("enterprise_kbo", "VARCHAR", description="KBO enterprise number of the employer"),
        _c("allowance_type", "VARCHAR", codes_=codes.ACTIVATION_ALLOWANCE),
        _c("amount_cents", "BIGINT", description="allowance paid for the month, cents"),
    ),
    period_column="month",
    record_key=("insz", "month"),
)

INCOME_INSTITUTIONS = ("riziv", "rsvz", "famifed", "rva", "fpd", "fodsz", "podmi")

INCOMES = SourceTable(
    "income",
    "quarterly",
    "KSZ datawarehouse incomes: one row per person and quarter with any income; amounts in "
    "cents, null where there is none",
    (
        INSZ,
        _c("quarter", "INTEGER", description="quarter as YYYYQ"),
        _c("rva_activation", "VARCHAR", codes_=codes.YES_NO),
        _c("local_employment_agency", "VARCHAR", codes_=codes.YES_NO),
        *(_o(f"taxable_benefit_{i}_cents", "BIGINT") for i in INCOME_INSTITUTIONS),
        *(_o(f"gross_indemnity_{i}_cents", "BIGINT") for i in ("nic", "fedris", "riziv")),
        *(_o(f"taxable_indemnity_{i}_cents", "BIGINT") for i in ("nic", "fedris")),
        _o("self_employed_income_cents", "BIGINT"),
        _o("taxable_wage_cents", "BIGINT"),
    ),
    period_column="quarter",
    # most persons have an income some quarter: 42 rows per person
    min_rows_per_person=0.5,
)

CAREER = SourceTable(
    "sigedis",
    "career",
    "SIGEDIS career: one row per person per career year",
    (
        INSZ,
        _c("year", "INTEGER"),
        _c("worked_days", "INTEGER", description="worked days, 6-day regime, at most 312"),
        _c("assimilated_days", "INTEGER", description="assimilated days, 6-day regime"),
        _c("employer_rsz", "VARCHAR", nullable=True, description="main employer of the year"),
        _o("worked_days_fte_hundredths", "INTEGER"),
        _o("assimilated_days_fte_hundredths", "INTEGER"),
        _o("career_denominator", "INTEGER", description="years of a full career (45)"),
    ),
    period_column="year",
    # most persons have career years: 20 per person
    min_rows_per_person=0.5,
    # a career year is kept whole or dropped, so its first day dates it
    lifetime=Lifetime(first_day="make_date(year, 1, 1)", end=None),
    record_key=("insz", "year"),
)

SOURCE_TABLES: Mapping[str, SourceTable] = MappingProxyType(
    {
        t.key: t
        for t in (
            PERSONS,
            RESIDENCES,
            NATIONALITIES,
            HOUSEHOLDS,
            OCCUPATIONS,
            UNEMPLOYMENT,
            INCAPACITY,
            CAREER,
            SANCTIONS,
            PAYMENTS,
            ACTIVATION,
            JOBSEEKERS,
            DISABILITY,
            SELF_EMPLOYED,
            INCOMES,
            ACTIVATION_ALLOWANCES,
            A052_MESSAGES,
        )
    }
)


_POLARS_TYPES = {
    "VARCHAR": "String",
    "DATE": "Date",
    "INTEGER": "Int32",
    "BIGINT": "Int64",
}


def polars_schema(table: SourceTable) -> dict[str, Any]:
    """The polars schema of a source table, from its declared DuckDB types."""
    import polars as pl

    return {c.name: getattr(pl, _POLARS_TYPES[c.dtype]) for c in table.columns}
