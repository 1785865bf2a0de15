"""The catalog: every variable a spec may name, declared once.

Each entry says which panel it lives in, what kind of value it is (which decides how a protected
mode treats it), its exact type, unit or code list, and the deliberation's own (Dutch) name for
it. The panels, the protections, the validation suite and the codebook all read this catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from specs import codes


class Granularity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Kind(StrEnum):
    """What a value is; a mode's protections are stated per kind."""

    CODE = "code"  # a value from a code list: kept
    QUANTITY = "quantity"  # days, counts, percentages: kept
    AMOUNT = "amount"  # euro: put in classes when a mode protects amounts
    EVENT_DATE = "event_date"  # cut to the month when a mode protects dates
    NATIONALITY = "nationality"  # scrambled across persons when a mode protects nationality
    CODED_ID = "coded_id"  # an employer or local unit: always replaced by a keyed pseudonym


@dataclass(frozen=True)
class Panel:
    """One release table: a row per person and period (and per job, for the job panel)."""

    name: str
    granularity: Granularity
    keys: tuple[str, ...]
    description: str


PANELS: Mapping[str, Panel] = MappingProxyType(
    {
        "month": Panel(
            "month",
            Granularity.MONTH,
            ("person_id", "month"),
            "one row per person per month alive in the period: situation on the last day",
        ),
        "quarter": Panel(
            "quarter",
            Granularity.QUARTER,
            ("person_id", "quarter"),
            "one row per person per quarter alive in the period: situation on the last day",
        ),
        "quarter_job": Panel(
            "quarter_job",
            Granularity.QUARTER,
            ("person_id", "quarter", "job"),
            "one row per job held during the quarter (DMFA occupation lines)",
        ),
        "year": Panel(
            "year",
            Granularity.YEAR,
            ("person_id", "year"),
            "one row per person per SIGEDIS career year with worked or assimilated days",
        ),
    }
)


@dataclass(frozen=True)
class Variable:
    """A variable a spec may request, with everything needed to build, protect and document it."""

    name: str
    panel: str
    kind: Kind
    dtype: str  # DuckDB type of the exact value
    source: str  # institution whose data it comes from
    description: str
    deliberation_name: str  # the name the deliberation uses (Dutch)
    unit: str | None = None
    codes: Mapping[str, str] | None = None
    pattern: str | None = None  # regex a kept value must match, where there is no code list
    nullable: bool = True
    pseudonym_domain: str | None = None  # keyed-hash domain of a coded identifier

    @property
    def granularity(self) -> Granularity:
        return PANELS[self.panel].granularity


NIS_MUNICIPALITY_PATTERN = r"^[1-9][0-9]{4}$"

_VARIABLES = (
    # --- person x month: socio-economic position, unemployment, incapacity -------------------
    Variable(
        "socio_economic_position",
        "month",
        Kind.CODE,
        "VARCHAR",
        "KSZ",
        "socio-economic position on the last day of the month; the position closest to the "
        "labour market wins (working, then job-seeking, then not active)",
        "nomenclatuur van de socio-economische positie",
        codes=codes.SOCIO_ECONOMIC_POSITION,
        nullable=False,
    ),
    Variable(
        "unemployment_category",
        "month",
        Kind.CODE,
        "VARCHAR",
        "RVA",
        "family category of the unemployment benefit on the last day of the month",
        "categorie van vergoeding van de werkloze",
        codes=codes.UNEMPLOYMENT_CATEGORY,
    ),
    Variable(
        "unemployment_daily_allowance",
        "month",
        Kind.AMOUNT,
        "DOUBLE",
        "RVA",
        "daily unemployment allowance on the last day of the month",
        "bedrag van de daguitkering",
        unit="euro per day",
    ),
    Variable(
        "unemployment_start",
        "month",
        Kind.EVENT_DATE,
        "DATE",
        "RVA",
        "first day of the unemployment spell running on the last day of the month",
        "begindatum",
    ),
    Variable(
        "incapacity_phase",
        "month",
        Kind.CODE,
        "VARCHAR",
        "NIC",
        "incapacity phase on the last day of the month",
        "type uitkering",
        codes=codes.INCAPACITY_PHASE,
    ),
    Variable(
        "incapacity_nature",
        "month",
        Kind.CODE,
        "VARCHAR",
        "NIC",
        "nature of the incapacity benefit on the last day of the month",
        "aard van de uitkering",
        codes=codes.INCAPACITY_NATURE,
    ),
    Variable(
        "incapacity_start",
        "month",
        Kind.EVENT_DATE,
        "DATE",
        "NIC",
        "first day of the primary incapacity of the episode running on the last day of the month",
        "begindatum van de arbeidsongeschiktheid",
    ),
    Variable(
        "incapacity_end",
        "month",
        Kind.EVENT_DATE,
        "DATE",
        "NIC",
        "last day of that episode (null while it is ongoing at the end of the sources)",
        "einddatum van de arbeidsongeschiktheid",
    ),
    Variable(
        "incapacity_daily_benefit",
        "month",
        Kind.AMOUNT,
        "DOUBLE",
        "NIC",
        "daily incapacity benefit on the last day of the month",
        "bedrag",
        unit="euro per day",
    ),
    # --- person x quarter: person characteristics, employment totals, incapacity -------------
    Variable(
        "birth_date",
        "quarter",
        Kind.EVENT_DATE,
        "DATE",
        "RR",
        "date of birth",
        "geboortedatum",
        nullable=False,
    ),
    Variable(
        "death_date",
        "quarter",
        Kind.EVENT_DATE,
        "DATE",
        "RR",
        "date of death (null if alive at the end of the period)",
        "datum van overlijden",
    ),
    Variable(
        "sex",
        "quarter",
        Kind.CODE,
        "VARCHAR",
        "RR",
        "sex",
        "geslacht",
        codes=codes.SEX,
        nullable=False,
    ),
    Variable(
        "municipality",
        "quarter",
        Kind.CODE,
        "VARCHAR",
        "RR",
        "municipality of residence on the last day of the quarter (NIS code, 2018 boundaries)",
        "gemeente",
        pattern=NIS_MUNICIPALITY_PATTERN,
    ),
    Variable(
        "nationality",
        "quarter",
        Kind.NATIONALITY,
        "VARCHAR",
        "RR",
        "nationality on the last day of the quarter (NIS country code)",
        "nationaliteit",
        codes=codes.COUNTRY,
    ),
    Variable(
        "first_nationality",
        "quarter",
        Kind.NATIONALITY,
        "VARCHAR",
        "RR",
        "first nationality (NIS country code)",
        "eerste nationaliteit",
        codes=codes.COUNTRY,
    ),
    Variable(
        "lipro_position",
        "quarter",
        Kind.CODE,
        "VARCHAR",
        "RR",
        "LIPRO household position on the last day of the quarter",
        "LIPRO-gezinspositie",
        codes=codes.LIPRO,
    ),
    Variable(
        "household_size",
        "quarter",
        Kind.QUANTITY,
        "INTEGER",
        "RR",
        "number of members of the household on the last day of the quarter",
        "gezinssamenstelling",
        unit="persons",
    ),
    Variable(
        "job_count",
        "quarter",
        Kind.QUANTITY,
        "INTEGER",
        "RSZ",
        "number of salaried jobs (DMFA occupation lines) during the quarter",
        "aantal jobs in loondienst",
        unit="jobs",
        nullable=False,
    ),
    Variable(
        "gross_wage",
        "quarter",
        Kind.AMOUNT,
        "DOUBLE",
        "RSZ",
        "gross wage over all jobs of the quarter (null without salaried work)",
        "bruto bezoldiging van de werknemer",
        unit="euro per quarter",
    ),
    Variable(
        "primary_incapacity_start",
        "quarter",
        Kind.EVENT_DATE,
        "DATE",
        "NIC",
        "first day of the primary incapacity of the episode running on the last day of the quarter",
        "begindatum van de primaire arbeidsongeschiktheid",
    ),
    # --- person x quarter x job: every occupation during the quarter ----------------------
    Variable(
        "employer_id",
        "quarter_job",
        Kind.CODED_ID,
        "VARCHAR",
        "RSZ",
        "coded employer identification (keyed pseudonym of the RSZ number)",
        "gecodeerd identificatienummer van de werkgever",
        nullable=False,
        pseudonym_domain="employer",
    ),
    Variable(
        "local_unit_id",
        "quarter_job",
        Kind.CODED_ID,
        "VARCHAR",
        "RSZ",
        "coded local unit identification (keyed pseudonym of the local unit number)",
        "gecodeerd identificatienummer van de lokale eenheid",
        nullable=False,
        pseudonym_domain="local_unit",
    ),
    Variable(
        "joint_committee",
        "quarter_job",
        Kind.CODE,
        "VARCHAR",
        "RSZ",
        "joint committee",
        "paritair comité",
        codes=codes.JOINT_COMMITTEE,
        nullable=False,
    ),
    Variable(
        "worker_code",
        "quarter_job",
        Kind.CODE,
        "VARCHAR",
        "RSZ",
        "DMFA worker code",
        "werknemerscode",
        codes=codes.WORKER_CODE,
        nullable=False,
    ),
    Variable(
        "contract_type",
        "quarter_job",
        Kind.CODE,
        "VARCHAR",
        "RSZ",
        "full- or part-time contract",
        "type arbeidsovereenkomst",
        codes=codes.CONTRACT_TYPE,
        nullable=False,
    ),
    Variable(
        "part_time_percentage",
        "quarter_job",
        Kind.QUANTITY,
        "DOUBLE",
        "RSZ",
        "Q/S: the worker's weekly hours as a percentage of the reference person's",
        "percentage deeltijds",
        unit="percent",
        nullable=False,
    ),
    Variable(
        "paid_days",
        "quarter_job",
        Kind.QUANTITY,
        "DOUBLE",
        "RSZ",
        "paid days of the job in the quarter (5-day regime)",
        "aantal bezoldigde dagen",
        unit="days",
        nullable=False,
    ),
    Variable(
        "job_gross_wage",
        "quarter_job",
        Kind.AMOUNT,
        "DOUBLE",
        "RSZ",
        "ordinary gross remuneration of the job in the quarter",
        "gewone bezoldiging",
        unit="euro per quarter",
        nullable=False,
    ),
    Variable(
        "daily_wage",
        "quarter_job",
        Kind.AMOUNT,
        "DOUBLE",
        "RSZ",
        "daily wage: remuneration per paid day, a part-time job rescaled to a 38-hour week "
        "(null without paid days)",
        "dagloon",
        unit="euro per day",
    ),
    Variable(
        "occupation_start",
        "quarter_job",
        Kind.EVENT_DATE,
        "DATE",
        "RSZ",
        "first day of the occupation",
        "begindatum tewerkstelling",
        nullable=False,
    ),
    # --- person x year: SIGEDIS career -------------------------------------------------------
    Variable(
        "career_worked_days",
        "year",
        Kind.QUANTITY,
        "INTEGER",
        "SIGEDIS",
        "worked days of the year (6-day regime, at most 312)",
        "gepresteerde dagen",
        unit="days",
        nullable=False,
    ),
    Variable(
        "career_assimilated_days",
        "year",
        Kind.QUANTITY,
        "INTEGER",
        "SIGEDIS",
        "assimilated days of the year (unemployment, incapacity, ...)",
        "gelijkgestelde dagen",
        unit="days",
        nullable=False,
    ),
    Variable(
        "career_employer_id",
        "year",
        Kind.CODED_ID,
        "VARCHAR",
        "SIGEDIS",
        "coded identification of the main employer of the year (same coding as employer_id)",
        "gecodeerd identificatienummer van de werkgever",
        pseudonym_domain="employer",
    ),
)

VARIABLES: Mapping[str, Variable] = MappingProxyType({v.name: v for v in _VARIABLES})
