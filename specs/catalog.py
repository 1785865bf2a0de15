"""The catalog: every variable a spec may name and every source field the seeds name, once.

Each entry says which panel it lives in (and so its granularity), what kind of value it is (which
decides how a protected mode treats it), its exact type, unit or code list, the institution it
comes from, the names the deliberations give it (Dutch, as written there) and where its value
comes from: a column of a source table taken on the panel's reference day, the panel's own SQL,
or nothing yet (declared for a later spec, not built). The panels, the protections, the
validation suite and the codebook all read this catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import polars as pl

from specs import codes
from specs import sources as declared_sources


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
    CODED_ID = "coded_id"  # an identifier: always replaced by a keyed pseudonym
    DIRECT_IDENTIFIER = "direct_identifier"  # name, address, birth place: never leaves the sources


@dataclass(frozen=True)
class Panel:
    """One release table: a row per person and period (and per job, for the job panel)."""

    name: str
    granularity: Granularity
    keys: tuple[str, ...]
    description: str
    seeds: tuple[SeedName, ...] = ()  # seed names that the panel's period key answers


@dataclass(frozen=True)
class SeedName:
    """A variable as a deliberation names it: the seed, the group (paragraph) it is listed in,
    and the name as written. Where one name covers several variables (institutions listed in
    brackets, first/second/third interview) or recurs in a group, a qualifier in square
    brackets after the name says which one."""

    deliberation: str
    group: str
    name: str


def _group(deliberation: str, group: str):
    def names(*written: str) -> tuple[SeedName, ...]:
        return tuple(SeedName(deliberation, group, name) for name in written)

    return names


# The groups of the seeds, as their paragraphs head them.
P6 = _group("18/088", "6: bijkomende variabelen per kwartaal")
PERSON = _group("18/088", "8: persoonskenmerken (per trimester)")
POSITION = _group("18/088", "8: socio-economische positie (per maand)")
DISABILITY = _group("18/088", "8: statuut van persoon met een handicap (per trimester)")
JOBSEEKER = _group("18/088", "8: statuut van werkzoekende (per maand)")
SIGEDIS = _group("18/088", "8: SIGEDIS-gegevens (op jaarbasis)")
WORK = _group("18/088", "8: beroepsactiviteit (per trimester)")
UNEMPLOYMENT = _group("18/088", "8: werkloosheid (per maand)")
INCAPACITY_MONTH = _group("18/088", "8: arbeidsongeschiktheid (per maand)")
INCAPACITY_QUARTER = _group("18/088", "8: arbeidsongeschiktheid (per trimester)")
INCOME = _group("18/088", "8: inkomsten (per trimester)")
D19_EMPLOYER = _group("19/104", "7: blok werkgeversaangifte")
D19_PERSON = _group("19/104", "7: blok natuurlijke persoon")
D19_LINE = _group("19/104", "7: blok werknemerslijn")
D19_OCCUPATION = _group("19/104", "7: blok tewerkstelling van de werknemerslijn")
D19_SERVICE = _group("19/104", "7: blok prestatie van de tewerkstelling werknemerslijn")
D19_PUBLIC = _group("19/104", "7: blok gegevens van de tewerkstelling overheidssector")
D19_STUDENT = _group("19/104", "7: blok bijdrage werknemer student")
D19_INFO = _group("19/104", "7: blok tewerkstelling - inlichtingen")
D13_EMPLOYER = _group("13/021", "13: gegevens over de werkgever")
D13_CONTRIBUTION = _group("13/021", "13: niet aan een natuurlijke persoon gebonden bijdrage")
D13_WORKER = _group("13/021", "13: gegevens over de werknemer")
D13_LINE = _group("13/021", "13: gegevens over de werknemerslijn")
D13_OCCUPATION = _group("13/021", "13: gegevens over de tewerkstelling")
D13_SERVICE = _group("13/021", "13: gegevens over de prestatie")
D13_REMUNERATION = _group("13/021", "13: gegevens over de bezoldiging")
D13_DEDUCTION = _group("13/021", "13: gegevens over de vermindering")
D13_DUE = _group("13/021", "13: gegevens over de verschuldigde bijdrage")
D13_STUDENT = _group("13/021", "13: gegevens over de bijdrage voor een student")
D19_FTE = _group("19/104", "5: voltijds equivalenten")
D13_RVA = _group("13/021", "20: vervangingsinkomsten uit werkloosheid")
A052 = _group("04/037", "1.2: elektronisch bericht A052")
A052L = _group("04/037", "1.4: elektronisch bericht A052L")
A052_C6 = _group("04/037", "7.1: aanvullende gegevens voor de werkloosheidssector")


@dataclass(frozen=True)
class FromSource:
    """The value is read from a source table: from the row valid on the panel's reference day
    (spell tables), the row of the panel's period (period tables) or the panel's own row (the
    job and year panels). `expression` is SQL over that row, aliased `s`; the panel row is `b`
    (its reference day `b.day`)."""

    table: str
    expression: str


@dataclass(frozen=True)
class Derived:
    """The value is computed by the panel's own SQL (transforms.panels), from several sources."""


DERIVED = Derived()


def src(table: str, expression: str) -> FromSource:
    return FromSource(table, expression)


PANELS: Mapping[str, Panel] = MappingProxyType(
    {
        "month": Panel(
            "month",
            Granularity.MONTH,
            ("person_id", "month"),
            "one row per person per month alive in the period: situation on the last day",
            JOBSEEKER("de referentiemaand")
            + UNEMPLOYMENT("de referentiemaand")
            + D13_RVA("de maand van de betaling van de uitkering"),
        ),
        "quarter": Panel(
            "quarter",
            Granularity.QUARTER,
            ("person_id", "quarter"),
            "one row per person per quarter alive in the period: situation on the last day",
            D19_EMPLOYER("het jaar en het kwartaal") + D13_EMPLOYER("het aangiftekwartaal"),
        ),
        "quarter_job": Panel(
            "quarter_job",
            Granularity.QUARTER,
            ("person_id", "quarter", "job"),
            "one row per job held during the quarter (DMFA occupation lines)",
        ),
        "a052": Panel(
            "a052",
            Granularity.QUARTER,
            ("person_id", "quarter", "message"),
            "one row per A052 message about the quarter (its latest version), numbered within "
            "the person and quarter: the whole message, its employer and day occurrences",
            A052L("het trimester waarop het elektronisch bericht betrekking heeft")
            + A052L("de volledige inhoud van het elektronisch bericht A052"),
        ),
        "year": Panel(
            "year",
            Granularity.YEAR,
            ("person_id", "year"),
            "one row per person per SIGEDIS career year with worked or assimilated days",
            SIGEDIS("het jaar"),
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
    seeds: tuple[SeedName, ...]  # the names the deliberations give it
    unit: str | None = None
    codes: Mapping[str, str] | None = None
    pattern: str | None = None  # regex a kept value must match, where there is no code list
    nullable: bool = True
    pseudonym_domain: str | None = None  # keyed-hash domain of a coded identifier
    origin: FromSource | Derived | None = None  # None: declared, not built yet

    @property
    def granularity(self) -> Granularity:
        return PANELS[self.panel].granularity

    @property
    def deliberation_name(self) -> str:
        """The deliberations' own names for it, without qualifiers, each once."""
        return self.name_in(None)

    def name_in(self, deliberation: str | None) -> str:
        """The names one deliberation (or, with None, every seed) gives it, without
        qualifiers, each once; all names where that deliberation does not name it."""
        seeds = [s for s in self.seeds if s.deliberation == deliberation] or self.seeds
        plain = (re.sub(r"\s*\[[^]]*\]$", "", s.name) for s in seeds)
        return "; ".join(dict.fromkeys(plain))

    @property
    def built(self) -> bool:
        return self.origin is not None


def _v(
    name: str,
    panel: str,
    kind: Kind,
    dtype: str,
    source: str,
    description: str,
    seeds: tuple[SeedName, ...],
    **details: object,
) -> Variable:
    return Variable(name, panel, kind, dtype, source, description, seeds, **details)  # type: ignore[arg-type]


NIS_MUNICIPALITY_PATTERN = r"^[1-9][0-9]{4}$"
C, Q, A, D, N, ID, DI = (
    Kind.CODE,
    Kind.QUANTITY,
    Kind.AMOUNT,
    Kind.EVENT_DATE,
    Kind.NATIONALITY,
    Kind.CODED_ID,
    Kind.DIRECT_IDENTIFIER,
)
M, QT, J, Y = "month", "quarter", "quarter_job", "year"
S, DT, INT, F = "VARCHAR", "DATE", "INTEGER", "DOUBLE"
EUR_DAY, EUR_Q, EUR_M, EUR_Y = "euro per day", "euro per quarter", "euro per month", "euro per year"

_OCC = declared_sources.OCCUPATIONS.key
_PERSONS = declared_sources.PERSONS.key
_UNEMP = declared_sources.UNEMPLOYMENT.key
_SANCTION = declared_sources.SANCTIONS.key
_PAY = declared_sources.PAYMENTS.key
_ACT = declared_sources.ACTIVATION.key
_NIC = declared_sources.INCAPACITY.key
_JS = declared_sources.JOBSEEKERS.key
_DIS = declared_sources.DISABILITY.key
_INC = declared_sources.INCOMES.key
_SELF = declared_sources.SELF_EMPLOYED.key
_CAREER = declared_sources.CAREER.key
_ALLOWANCE = declared_sources.ACTIVATION_ALLOWANCES.key


def _euro(column: str) -> str:
    return f"s.{column} / 100.0"


def _flag(table: str, column: str) -> FromSource:
    # no row valid on the day means the flag does not hold
    return src(table, f"coalesce(s.{column}, 'N')")


# fmt: off
_VARIABLES = (
    # === 18/088 point 8: socio-economic position (per month) ===================================
    _v("socio_economic_position", M, C, S, "KSZ",
       "socio-economic position on the last day of the month; the position closest to the "
       "labour market wins (working, then job-seeking, then not active)",
       POSITION("de nomenclatuur van de socio-economische positie"),
       codes=codes.SOCIO_ECONOMIC_POSITION, nullable=False, origin=DERIVED),
    _v("supplementary_position_1", M, C, S, "KSZ",
       "first supplementary position: a status that also holds on the last day of the month but "
       "lost to the main position (same order: closest to the labour market first)",
       POSITION("alle aanvullende posities op de nomenclatuur van de socio-economische positie "
                "[eerste]"),
       codes=codes.SUPPLEMENTARY_POSITION, origin=DERIVED),
    _v("supplementary_position_2", M, C, S, "KSZ",
       "second supplementary position, if a third status holds on the same day",
       POSITION("alle aanvullende posities op de nomenclatuur van de socio-economische positie "
                "[tweede]"),
       codes=codes.SUPPLEMENTARY_POSITION, origin=DERIVED),
    # === job-seeker status (per month) ===========================================================
    _v("jobseeker_category", M, C, S, "VDAB/FOREM/ACTIRIS/ADG",
       "job-seeker category (DWH ncat) on the last day of the month",
       JOBSEEKER("de categorie van werkzoekende"),
       codes=codes.JOBSEEKER_CATEGORY, origin=src(_JS, "s.category")),
    _v("jobseeker_study_domain", M, C, S, "VDAB/FOREM/ACTIRIS/ADG",
       "field of study of the registered job seeker", JOBSEEKER("het studiedomein"),
       codes=codes.STUDY_DOMAIN, origin=src(_JS, "s.study_domain")),
    _v("jobseeker_study_level", M, C, S, "VDAB/FOREM/ACTIRIS/ADG",
       "level of study of the registered job seeker", JOBSEEKER("het studieniveau"),
       codes=codes.STUDY_LEVEL, origin=src(_JS, "s.study_level")),
    _v("jobseeker_registration_months", M, Q, INT, "VDAB/FOREM/ACTIRIS/ADG",
       "whole months since the registration running on the last day of the month began",
       JOBSEEKER("de duur van de inschrijving"), unit="months",
       origin=src(_JS, "date_diff('month', s.start_date, b.day)::INTEGER")),
    _v("employment_service", M, C, S, "VDAB/FOREM/ACTIRIS/ADG",
       "regional employment service of the registration (follows the region of residence)",
       JOBSEEKER("de bevoegde gewestelijke dienst (FOREM, ACTIRIS, VDAB, ADG)"),
       codes=codes.EMPLOYMENT_SERVICE, origin=src(_JS, "s.service")),
    # === unemployment (per month) ================================================================
    _v("unemployment_office", M, C, S, "RVA", "RVA unemployment office handling the file",
       UNEMPLOYMENT("het bevoegde werkloosheidskantoor"),
       codes=codes.UNEMPLOYMENT_OFFICE, origin=src(_UNEMP, "s.office")),
    _v("unemployment_category", M, C, S, "RVA",
       "family category of the unemployment benefit on the last day of the month",
       UNEMPLOYMENT("de categorie van vergoeding van de werkloze"),
       codes=codes.UNEMPLOYMENT_CATEGORY, origin=DERIVED),
    _v("unemployment_contract", M, C, S, "RVA", "employment contract the benefit follows on",
       UNEMPLOYMENT("de arbeidsovereenkomst"),
       codes=codes.UNEMPLOYMENT_CONTRACT, origin=src(_UNEMP, "s.contract")),
    _v("activation_criterion", M, C, S, "RVA", "criterion of admission and activation",
       UNEMPLOYMENT("de criteria inzake activering/toekenning"),
       codes=codes.ACTIVATION_CRITERION, origin=src(_UNEMP, "s.activation_criterion")),
    _v("unemployment_created", M, D, DT, "RVA", "day the benefit file was created",
       UNEMPLOYMENT("de aanmaakdatum"), origin=src(_UNEMP, "s.created_date")),
    _v("unemployment_start", M, D, DT, "RVA",
       "first day of the unemployment spell running on the last day of the month",
       UNEMPLOYMENT("de begindatum"), origin=DERIVED),
    _v("unemployment_end", M, D, DT, "RVA",
       "last day of that spell (null while it is ongoing at the end of the sources)",
       UNEMPLOYMENT("de einddatum"), origin=src(_UNEMP, "s.end_date")),
    _v("sanction_type", M, C, S, "RVA", "type of the sanction running on the last day",
       UNEMPLOYMENT("het type sanctie"), codes=codes.SANCTION_TYPE,
       origin=src(_SANCTION, "s.sanction_type")),
    _v("sanction_reason", M, C, S, "RVA", "reason of that sanction",
       UNEMPLOYMENT("de reden van de sanctie"), codes=codes.SANCTION_REASON,
       origin=src(_SANCTION, "s.reason")),
    _v("sanction_amount", M, A, F, "RVA", "benefit withheld by that sanction",
       UNEMPLOYMENT("het bedrag van de sanctie"), unit="euro",
       origin=src(_SANCTION, _euro("amount_cents"))),
    _v("sanction_decision_date", M, D, DT, "RVA", "day the sanction was decided",
       UNEMPLOYMENT("de datum van beslissing van de sanctie"),
       origin=src(_SANCTION, "s.decision_date")),
    _v("sanction_notification_date", M, D, DT, "RVA", "day the sanction was notified",
       UNEMPLOYMENT("de datum van kennisgeving van de sanctie"),
       origin=src(_SANCTION, "s.notification_date")),
    _v("sanction_effective_date", M, D, DT, "RVA", "day the sanction took effect",
       UNEMPLOYMENT("de datum van inwerkingtreding van de sanctie"),
       origin=src(_SANCTION, "s.effective_date")),
    _v("sanction_start", M, D, DT, "RVA", "first day of the sanction",
       UNEMPLOYMENT("de begindatum van de sanctie"), origin=src(_SANCTION, "s.start_date")),
    _v("sanction_end", M, D, DT, "RVA", "last day of the sanction",
       UNEMPLOYMENT("de einddatum van de sanctie"), origin=src(_SANCTION, "s.end_date")),
    _v("previous_situation", M, C, S, "RVA", "last situation before the unemployment",
       UNEMPLOYMENT("de laatste situatie vóór de werkloosheid"),
       codes=codes.PREVIOUS_SITUATION, origin=src(_UNEMP, "s.previous_situation")),
    _v("exclusion_weeks", M, Q, INT, "RVA", "duration of the exclusion from benefit",
       UNEMPLOYMENT("de duur van de uitsluiting"), unit="weeks",
       origin=src(_SANCTION, "s.exclusion_weeks")),
    _v("sanction_weeks", M, Q, INT, "RVA", "duration of the sanction",
       UNEMPLOYMENT("de duur van de sanctie"), unit="weeks",
       origin=src(_SANCTION, "s.duration_weeks")),
    _v("unemployment_months", M, Q, INT, "RVA",
       "whole months since the unemployment spell running on the last day began",
       UNEMPLOYMENT("de duur van de werkloosheid"), unit="months",
       origin=src(_UNEMP, "date_diff('month', s.start_date, b.day)::INTEGER")),
    _v("unemployment_daily_allowance", M, A, F, "RVA",
       "daily unemployment allowance on the last day of the month",
       UNEMPLOYMENT("het bedrag van de daguitkering"), unit=EUR_DAY, origin=DERIVED),
    _v("unemployment_benefits_paid", M, A, F, "RVA", "unemployment benefits paid for the month",
       UNEMPLOYMENT("het bedrag van de ontvangen uitkeringen"), unit=EUR_M,
       origin=src(_PAY, _euro("amount_paid_cents"))),
    _v("career_break_reason", M, C, S, "RVA", "reason of the career break",
       UNEMPLOYMENT("de reden van de loopbaanonderbreking"),
       codes=codes.CAREER_BREAK_REASON, origin=src(_UNEMP, "s.career_break_reason")),
    _v("time_credit_reason", M, C, S, "RVA", "reason of the time credit",
       UNEMPLOYMENT("de reden van het tijdskrediet"),
       codes=codes.TIME_CREDIT_REASON, origin=src(_UNEMP, "s.time_credit_reason")),
    _v("budget_units", M, Q, F, "RVA", "mean number of budget units of the month",
       UNEMPLOYMENT("het gemiddeld aantal budgettaire eenheden"), unit="budget units",
       origin=src(_PAY, "s.budget_units_hundredths / 100.0")),
    _v("unemployment_hours_worked", M, Q, F, "RVA", "hours worked in the month while on benefit",
       UNEMPLOYMENT("het aantal gepresteerde uren"), unit="hours",
       origin=src(_PAY, "s.hours_worked_hundredths / 100.0")),
    _v("benefit_days", M, Q, INT, "RVA", "days with benefit in the month (6-day regime)",
       UNEMPLOYMENT("het aantal dagen met uitkeringen"), unit="days",
       origin=src(_PAY, "s.benefit_days")),
    _v("programme_id", M, ID, S, "RVA",
       "coded identification of the transition or reintegration programme",
       UNEMPLOYMENT("het identificatienummer van het doorstromingsprogramma of het "
                    "herinschakelingsprogramma"),
       pseudonym_domain="programme", origin=src(_UNEMP, "s.programme_id")),
    _v("replacement", M, C, S, "RVA", "the unemployed person replaces a worker (e.g. on leave)",
       UNEMPLOYMENT("de vervanging"), codes=codes.YES_NO, origin=src(_UNEMP, "s.replacement")),
    _v("unemployment_scheme", M, C, S, "RVA", "benefit scheme", UNEMPLOYMENT("het stelsel"),
       codes=codes.UNEMPLOYMENT_SCHEME, origin=src(_UNEMP, "s.scheme")),
    _v("unemployment_activity_sector", M, C, S, "RVA", "NACE sector of the last employer",
       UNEMPLOYMENT("de activiteitssector"), codes=codes.NACE,
       origin=src(_UNEMP, "s.activity_sector")),
    _v("month_end_situation", M, C, S, "RVA", "benefit situation at the end of the month",
       UNEMPLOYMENT("de situatie op het einde van de maand"),
       codes=codes.MONTH_END_SITUATION, origin=src(_PAY, "s.month_end_situation")),
    _v("rva_status", M, C, S, "RVA", "status with respect to the RVA",
       UNEMPLOYMENT("het statuut ten aanzien van de RVA"), codes=codes.RVA_STATUS,
       origin=src(_UNEMP, "s.rva_status")),
    _v("temporary_unemployment_type", M, C, S, "RVA", "type of temporary unemployment",
       UNEMPLOYMENT("het type tijdelijke werkloosheid"),
       codes=codes.TEMPORARY_UNEMPLOYMENT_TYPE, origin=src(_UNEMP, "s.temporary_type")),
    _v("payments_count", M, Q, INT, "RVA", "number of payments made in the month",
       UNEMPLOYMENT("het aantal betalingen uitgevoerd in een maand"), unit="payments",
       origin=src(_PAY, "s.payments")),
    _v("activation_letter_date", M, D, DT, "RVA",
       "day the notification letter of the activation procedure was sent",
       UNEMPLOYMENT("de datum van verzending van de kennisgevingsbrief"),
       origin=src(_ACT, "s.letter_date")),
    _v("activation_procedure_id", M, ID, S, "RVA", "coded number of the activation procedure",
       UNEMPLOYMENT("het nummer van de procedure"), pseudonym_domain="procedure",
       origin=src(_ACT, "s.procedure_number")),
    *(
        _v(f"interview_{n}_date", M, D, DT, "RVA", f"day of the {word} activation interview",
           UNEMPLOYMENT(f"de datum van het eerste/tweede/derde gesprek [{dutch}]"),
           origin=src(_ACT, f"s.interview_{n}_date"))
        for n, word, dutch in ((1, "first", "eerste"), (2, "second", "tweede"),
                               (3, "third", "derde"))
    ),
    *(
        _v(f"interview_{n}_result", M, C, S, "RVA", f"result of the {word} activation interview",
           UNEMPLOYMENT(f"het resultaat van het eerste/tweede/derde gesprek [{dutch}]"),
           codes=codes.INTERVIEW_RESULT, origin=src(_ACT, f"s.interview_{n}_result"))
        for n, word, dutch in ((1, "first", "eerste"), (2, "second", "tweede"),
                               (3, "third", "derde"))
    ),
    # === 13/021 points 19-20: RVA activation allowances (per month) ===========================
    _v("activation_allowance_type", M, C, S, "RVA",
       "type of the activation allowance paid for the month",
       D13_RVA("het te verifiëren uitkeringstype"), codes=codes.ACTIVATION_ALLOWANCE,
       origin=src(_ALLOWANCE, "s.allowance_type")),
    _v("activation_allowance", M, A, F, "RVA", "activation allowance paid for the month",
       D13_RVA("het bedrag van de uitkering"), unit=EUR_M,
       origin=src(_ALLOWANCE, _euro("amount_cents"))),
    _v("activation_enterprise_id", M, ID, S, "RVA",
       "coded enterprise identification of the employer of the job the allowance goes with "
       "(keyed pseudonym of the KBO number, coded as enterprise_id)",
       D13_RVA("het ondernemingsnummer van de werkgever"), pseudonym_domain="enterprise",
       origin=src(_ALLOWANCE, "s.enterprise_kbo")),
    # === incapacity (per month) ==================================================================
    _v("incapacity_phase", M, C, S, "NIC", "incapacity phase on the last day of the month",
       INCAPACITY_MONTH("het type uitkering"), codes=codes.INCAPACITY_PHASE, origin=DERIVED),
    _v("incapacity_nature", M, C, S, "NIC",
       "nature of the incapacity benefit on the last day of the month",
       INCAPACITY_MONTH("de aard van de uitkering"),
       codes=codes.INCAPACITY_NATURE, origin=DERIVED),
    _v("incapacity_start", M, D, DT, "NIC",
       "first day of the primary incapacity of the episode running on the last day of the month",
       INCAPACITY_MONTH("de begindatum van de arbeidsongeschiktheid"),
       origin=DERIVED),
    _v("incapacity_end", M, D, DT, "NIC",
       "last day of that episode (null while it is ongoing at the end of the sources)",
       INCAPACITY_MONTH("de einddatum van de arbeidsongeschiktheid"),
       origin=DERIVED),
    _v("incapacity_daily_benefit", M, A, F, "NIC",
       "daily incapacity benefit on the last day of the month", INCAPACITY_MONTH("het bedrag"),
       unit=EUR_DAY, origin=DERIVED),
    _v("incapacity_days", M, Q, INT, "NIC", "calendar days of the month in incapacity (NIC phases)",
       INCAPACITY_MONTH("het aantal dagen arbeidsongeschiktheid"),
       unit="days", nullable=False, origin=DERIVED),
    _v("incapacity_status", M, C, S, "NIC", "social status of the insured person",
       INCAPACITY_MONTH("het statuut"), codes=codes.INCAPACITY_SOCIAL_STATUS,
       origin=src(_NIC, "s.social_status")),
    _v("incapacity_scheme", M, C, S, "NIC", "insurance scheme", INCAPACITY_MONTH("het stelsel"),
       codes=codes.INCAPACITY_SCHEME, origin=src(_NIC, "s.scheme")),
    _v("incapacity_day_type", M, C, S, "NIC", "type of the days of the A052 day block",
       INCAPACITY_MONTH("het type dagen"),
       codes=codes.DAY_TYPE, origin=src(_NIC, "s.day_type")),
    # === person characteristics (per quarter) ====================================================
    _v("birth_date", QT, D, DT, "RR", "date of birth",
       PERSON("de geboortedatum") + D19_PERSON("de geboortedatum"),
       nullable=False, origin=DERIVED),
    _v("death_date", QT, D, DT, "RR", "date of death (null if alive at the end of the period)",
       PERSON("de datum van overlijden"), origin=DERIVED),
    _v("sex", QT, C, S, "RR", "sex", PERSON("het geslacht") + D19_PERSON("het geslacht"),
       codes=codes.SEX, nullable=False, origin=DERIVED),
    _v("municipality", QT, C, S, "RR",
       "municipality of residence on the last day of the quarter (NIS code, 2018 boundaries)",
       PERSON("de gemeente (op het niveau van de gemeente)"),
       pattern=NIS_MUNICIPALITY_PATTERN, origin=DERIVED),
    _v("nationality", QT, N, S, "RR",
       "nationality on the last day of the quarter (NIS country code)",
       PERSON("de nationaliteit (gescrambled)") + D19_PERSON("de nationaliteit"),
       codes=codes.COUNTRY, origin=DERIVED),
    _v("first_nationality", QT, N, S, "RR", "first nationality (NIS country code)",
       PERSON("de eerste nationaliteit (gescrambled)"), codes=codes.COUNTRY, origin=DERIVED),
    _v("lipro_position", QT, C, S, "RR",
       "LIPRO household position on the last day of the quarter",
       PERSON("de LIPRO-gezinspositie"), codes=codes.LIPRO, origin=DERIVED),
    _v("household_size", QT, Q, INT, "RR",
       "number of members of the household on the last day of the quarter",
       PERSON("de gezinssamenstelling"), unit="persons", origin=DERIVED),
    _v("household_type", QT, C, S, "RR",
       "household type derived from the LIPRO position on the last day of the quarter",
       PERSON("het gezinstype"), codes=codes.HOUSEHOLD_TYPE, origin=DERIVED),
    # === disability status (per quarter) =========================================================
    _v("disability_ordinary_allowance", QT, C, S, "FOD SZ",
       "receives the ordinary allowance (1969 regime) on the last day of the quarter",
       DISABILITY("de gewone uitkering"), codes=codes.YES_NO, nullable=False,
       origin=_flag(_DIS, "ordinary_allowance")),
    _v("disability_special_allowance", QT, C, S, "FOD SZ",
       "receives the special allowance (1969 regime)", DISABILITY("de speciale uitkering"),
       codes=codes.YES_NO, nullable=False, origin=_flag(_DIS, "special_allowance")),
    _v("disability_lower_limbs", QT, C, S, "FOD SZ",
       "recognised 50% disability of the lower limbs",
       DISABILITY("de erkenning van de handicap van 50 % van de onderste ledematen"),
       codes=codes.YES_NO, nullable=False, origin=_flag(_DIS, "lower_limbs_50")),
    _v("disability_full_blindness", QT, C, S, "FOD SZ", "full blindness",
       DISABILITY("de volledige blindheid"), codes=codes.YES_NO, nullable=False,
       origin=_flag(_DIS, "full_blindness")),
    _v("disability_earning_capacity", QT, C, S, "FOD SZ",
       "recognised reduction of the earning capacity by at least one third",
       DISABILITY("de erkenning van de vermindering van het verdienvermogen met minstens een "
                  "derde"),
       codes=codes.YES_NO, nullable=False, origin=_flag(_DIS, "earning_capacity_third")),
    # === point 6: extra quarterly variables of part one ==========================================
    _v("study_level_quarter", QT, C, S, "VDAB/FOREM/ACTIRIS/ADG",
       "level of study of the job-seeker registration on the last day of the quarter",
       P6("het studieniveau"), codes=codes.STUDY_LEVEL, origin=src(_JS, "s.study_level")),
    _v("socio_economic_position_quarter", QT, C, S, "KSZ",
       "socio-economic position on the last day of the quarter (same rule as per month)",
       P6("de nomenclatuur van de socio-economische positie"),
       codes=codes.SOCIO_ECONOMIC_POSITION, nullable=False, origin=DERIVED),
    _v("incapacity_days_quarter", QT, Q, INT, "NIC",
       "calendar days of the quarter in incapacity (NIC phases)",
       P6("het aantal dagen arbeidsongeschiktheid"), unit="days", nullable=False,
       origin=DERIVED),
    _v("incapacitated", QT, C, S, "NIC", "in incapacity (a NIC phase) on the last day",
       P6("de arbeidsongeschiktheid"), codes=codes.YES_NO, nullable=False,
       origin=src(_NIC, "case when s.insz is null then 'N' else 'Y' end")),
    _v("self_employed_annual_income", QT, A, F, "RSVZ",
       "annual income of the self-employed activity running on the last day of the quarter",
       P6("het jaarinkomen van de zelfstandige (in klassen)"), unit=EUR_Y,
       origin=src(_SELF, _euro("annual_income_cents"))),
    # === professional activity (per quarter), person level =======================================
    _v("jobseeker_exemption", QT, C, S, "VDAB/FOREM/ACTIRIS/ADG",
       "other exemption from registration as job seeker on the last day of the quarter",
       WORK("de andere vrijstellingen van inschrijving als werkzoekende"),
       codes=codes.JOBSEEKER_EXEMPTION, origin=src(_JS, "s.exemption")),
    _v("main_importance_code", QT, C, S, "RSZ",
       "importance code (size class) of the employer of the main job of the quarter",
       WORK("de belangrijkheidscode [eerste vermelding]"), codes=codes.IMPORTANCE_CODE,
       origin=DERIVED),
    _v("job_count", QT, Q, INT, "RSZ",
       "number of salaried jobs (DMFA occupation lines) during the quarter",
       WORK("het aantal jobs in loondienst"), unit="jobs", nullable=False, origin=DERIVED),
    _v("total_job_count", QT, Q, INT, "RSZ/RSVZ",
       "salaried jobs of the quarter plus a self-employed activity on its last day",
       WORK("het totale aantal jobs"), unit="jobs", nullable=False, origin=DERIVED),
    _v("gross_wage", QT, A, F, "RSZ",
       "gross wage over all jobs of the quarter (null without salaried work)",
       INCOME("de bruto bezoldiging van de werknemer"), unit=EUR_Q, origin=DERIVED),
    # === professional activity (per quarter), per job ============================================
    _v("employer_id", J, ID, S, "RSZ",
       "coded employer identification (keyed pseudonym of the RSZ number)",
       WORK("het gecodeerd identificatienummer van de werkgever")
       + D19_EMPLOYER("het inschrijvingsnummer en het ondernemingsnummer van de werkgever "
                      "[inschrijvingsnummer]")
       + D13_EMPLOYER("het (huidig en vorig) inschrijfsnummer"),
       nullable=False, pseudonym_domain="employer", origin=DERIVED),
    _v("local_unit_id", J, ID, S, "RSZ",
       "coded local unit identification (keyed pseudonym of the local unit number)",
       WORK("het gecodeerd identificatienummer van de lokale eenheid")
       + D19_LINE("het identificatienummer van de lokale eenheid")
       + D19_OCCUPATION("het identificatienummer van de lokale eenheid")
       + D19_STUDENT("het identificatienummer van de lokale eenheid")
       + D13_LINE("het identificatienummer van de lokale eenheid"),
       nullable=False, pseudonym_domain="local_unit", origin=DERIVED),
    _v("joint_committee", J, C, S, "RSZ", "joint committee",
       WORK("het paritair comité") + D19_OCCUPATION("het nummer van het paritair comité"),
       codes=codes.JOINT_COMMITTEE, nullable=False, origin=DERIVED),
    _v("worker_code", J, C, S, "RSZ", "DMFA worker code",
       WORK("de werknemerscode") + D19_LINE("het werknemerskengetal")
       + D13_LINE("het werknemerskengetal") + D13_CONTRIBUTION("het werknemerskengetal")
       + D13_DUE("het werknemerskengetal"),
       codes=codes.WORKER_CODE, nullable=False, origin=DERIVED),
    _v("contract_type", J, C, S, "RSZ", "full- or part-time contract",
       WORK("het type arbeidsovereenkomst") + D19_OCCUPATION("het type arbeidsovereenkomst")
       + D13_OCCUPATION("het type arbeidsovereenkomst"),
       codes=codes.CONTRACT_TYPE, nullable=False, origin=DERIVED),
    _v("part_time_percentage", J, Q, F, "RSZ",
       "Q/S: the worker's weekly hours as a percentage of the reference person's",
       WORK("het percentage deeltijds"), unit="percent", nullable=False, origin=DERIVED),
    _v("paid_days", J, Q, F, "RSZ", "paid days of the job in the quarter (5-day regime)",
       D19_SERVICE("het aantal dagen van de prestatie") + D13_SERVICE("het aantal dagen van de "
                                                                      "prestatie"),
       unit="days", nullable=False, origin=DERIVED),
    _v("job_gross_wage", J, A, F, "RSZ", "ordinary gross remuneration of the job in the quarter",
       WORK("de gewone bezoldiging") + P6("de gewone bezoldiging (in klassen)")
       + D13_REMUNERATION("de bezoldiging"),
       unit=EUR_Q, nullable=False, origin=DERIVED),
    _v("daily_wage", J, A, F, "RSZ",
       "daily wage: remuneration per paid day, a part-time job rescaled to a 38-hour week "
       "(null without paid days)",
       WORK("het dagloon") + P6("het dagloon (in klassen)"), unit=EUR_DAY, origin=DERIVED),
    _v("occupation_start", J, D, DT, "RSZ", "first day of the occupation",
       D19_OCCUPATION("de tewerkstellingsperiode [begindatum]")
       + D13_OCCUPATION("de begindatum van de tewerkstelling"),
       nullable=False, origin=DERIVED),
    _v("occupation_end", J, D, DT, "RSZ", "last day of the occupation (null while ongoing)",
       D19_OCCUPATION("de tewerkstellingsperiode [einddatum]")
       + D13_OCCUPATION("de einddatum van de tewerkstelling"),
       origin=src(_OCC, "s.occupation_end")),
    _v("worker_hours", J, Q, F, "RSZ", "Q: mean weekly hours of the worker",
       D19_OCCUPATION("het gemiddeld aantal uren per week van de werknemer")
       + D13_OCCUPATION("het gemiddeld aantal uren per week van de werknemer"),
       unit="hours per week", nullable=False, origin=src(_OCC, "s.q_hours / 100.0")),
    _v("reference_hours", J, Q, F, "RSZ", "S: mean weekly hours of the reference person",
       D19_OCCUPATION("het gemiddeld aantal uren per week van de maatpersoon")
       + D13_OCCUPATION("het gemiddeld aantal uren per week van de maatpersoon"),
       unit="hours per week", nullable=False, origin=src(_OCC, "s.s_hours / 100.0")),
    _v("days_per_week", J, Q, F, "RSZ", "days per week of the work schedule",
       D19_OCCUPATION("het aantal dagen per week van de arbeidsregeling")
       + D13_OCCUPATION("het aantal dagen per week van het arbeidsstelsel"),
       unit="days per week", origin=src(_OCC, "s.days_per_week / 100.0")),
    _v("employer_category", J, C, S, "RSZ", "DMFA employer category",
       D19_LINE("de werkgeverscategorie") + D13_LINE("de werkgeverscategorie")
       + D13_CONTRIBUTION("de werkgeverscategorie"),
       codes=codes.EMPLOYER_CATEGORY, origin=src(_OCC, "s.employer_category")),
    _v("worker_class", J, C, S, "RSZ", "DWH worker class, from the worker code",
       WORK("de werknemersklasse"), codes=codes.WORKER_CLASS,
       origin=src(_OCC, "case s.worker_code when '015' then '1' when '495' then '2' else '4' "
                        "end")),
    _v("special_worker_class", J, C, S, "RSZ", "special worker class (apprentice, student, ...)",
       WORK("de speciale werknemersklasse"), codes=codes.SPECIAL_WORKER_CLASS,
       origin=src(_OCC, "s.special_worker_class")),
    _v("wage_class", J, Q, INT, "RSZ",
       "KSZ wage class (Salcla): the full-time daily wage in classes of 1.25 euro, 1-500; "
       "0 without paid days",
       WORK("de loonklasse"), unit="class of 1.25 euro per day", nullable=False,
       origin=src(_OCC, "case when s.days_worked > 0 then least(500, 1 + floor("
                        "s.gross_wage_cents / s.days_worked / 1.25))::INTEGER else 0 end")),
    _v("part_time_class", J, C, S, "RSZ", "class of Q/S",
       WORK("de klasse deeltijds") + P6("de klasse deeltijdse tewerkstelling"),
       codes=codes.PART_TIME_CLASS, nullable=False,
       origin=src(_OCC, "case when s.q_hours >= s.s_hours then '4' "
                        "when s.q_hours * 100 >= 80 * s.s_hours then '3' "
                        "when s.q_hours * 100 >= 50 * s.s_hours then '2' else '1' end")),
    _v("local_unit_importance_code", J, C, S, "RSZ",
       "importance code (size class) of the local unit",
       WORK("de belangrijkheidscode van de lokale eenheid"), codes=codes.IMPORTANCE_CODE,
       origin=src(_OCC, "s.local_unit_importance_code")),
    _v("importance_code", J, C, S, "RSZ", "importance code (size class) of the employer",
       WORK("de belangrijkheidscode [tweede vermelding]") + P6("de belangrijkheidscode"),
       codes=codes.IMPORTANCE_CODE, origin=src(_OCC, "s.importance_code")),
    _v("employer_dimension", J, Q, INT, "RSZ", "number of jobs the employer declares",
       WORK("de dimensie"), unit="jobs", origin=src(_OCC, "s.employer_jobs")),
    _v("deduction_code", J, C, S, "RSZ", "DMFA deduction code of the occupation",
       WORK("de verminderingcode") + D13_DEDUCTION("de verminderingcode"),
       codes=codes.DEDUCTION_CODE, origin=src(_OCC, "s.deduction_code")),
    _v("assimilated_days_code", J, C, S, "RSZ", "code of the assimilated days",
       WORK("de code gelijkgestelde dagen"), codes=codes.ASSIMILATED_DAYS_CODE,
       origin=src(_OCC, "s.assimilated_code")),
    _v("nace", J, C, S, "RSZ", "NACE-BEL 2008 activity code of the employer",
       WORK("de NACE-code"), codes=codes.NACE, origin=src(_OCC, "s.nace")),
    _v("fictive_nace", J, C, S, "RSZ",
       "fictive NACE code (the activity of the user firm, for temporary agency work)",
       WORK("de fictieve NACE-code"), codes=codes.NACE, origin=src(_OCC, "s.fictive_nace")),
    _v("regionalisation_code", J, C, S, "RSZ", "code of regionalisation of the employer",
       WORK("de code regionalisering"), codes=codes.REGIONALISATION,
       origin=src(_OCC, "s.regionalisation")),
    _v("service_vouchers", J, C, S, "RSZ", "occupation in the service-voucher system",
       WORK("de tewerkstelling in het kader van dienstencheques"), codes=codes.YES_NO,
       nullable=False,
       origin=src(_OCC, "case when s.joint_committee = '322.01' then 'Y' else 'N' end")),
    _v("job_assimilated_days", J, Q, F, "RSZ", "assimilated days of the job in the quarter",
       WORK("de gelijkgestelde dagen"), unit="days",
       origin=src(_OCC, "s.assimilated_days / 100.0")),
    _v("employer_region", J, C, S, "RSZ", "region of the employer's seat",
       WORK("de vestigingsplaats van de werkgever"), codes=codes.REGION,
       origin=src(_OCC, "case when s.employer_nis like '21%' then '04000' "
                        "when s.employer_nis[1] in ('5', '6', '8', '9') "
                        "or s.employer_nis like '25%' then '03000' else '02000' end")),
    _v("local_unit_municipality", J, C, S, "RSZ", "municipality of the local unit (NIS code)",
       WORK("de vestigingsplaats van de lokale eenheid"), pattern=NIS_MUNICIPALITY_PATTERN,
       origin=src(_OCC, "s.local_unit_nis")),
    _v("employer_municipality", J, C, S, "RSZ", "municipality of the employer's seat (NIS code)",
       WORK("de gemeentecode van de werkgever"), pattern=NIS_MUNICIPALITY_PATTERN,
       origin=src(_OCC, "s.employer_nis")),
    _v("employment_measure", J, C, S, "RSZ", "employment-promotion measure of the occupation",
       WORK("de tewerkstellingsmaatregel")
       + D19_OCCUPATION("de toepasselijke maatregel tot bevordering van de werkgelegenheid")
       + D13_OCCUPATION("de maatregel tot bevordering van de werkgelegenheid"),
       codes=codes.EMPLOYMENT_MEASURE, origin=src(_OCC, "s.employment_measure")),
    _v("telework", J, C, S, "RSZ", "teleworker", WORK("de notie thuiswerk"), codes=codes.YES_NO,
       origin=src(_OCC, "s.telework")),
    _v("notice_days", J, Q, F, "RSZ", "paid notice days without work",
       WORK("het aantal bezoldigde opzegdagen waarvoor geen prestaties geleverd werden"),
       unit="days", origin=src(_OCC, "s.notice_days / 100.0")),
    _v("termination_indemnity", J, A, F, "RSZ", "termination indemnity paid in the quarter",
       WORK("het bedrag van de verbrekingsvergoeding"), unit=EUR_Q,
       origin=src(_OCC, _euro("termination_indemnity_cents"))),
    _v("sector", J, C, S, "RSZ", "private or public sector", WORK("de sector"),
       codes=codes.SECTOR, origin=src(_OCC, "s.sector")),
    _v("service_type", J, C, S, "RSZ", "DMFA service code of the main service of the job",
       WORK("het type prestatie") + D19_SERVICE("de prestatiecode")
       + D13_SERVICE("de prestatiecode"),
       codes=codes.SERVICE_CODE, origin=src(_OCC, "s.service_code")),
    _v("fte_without_assimilated", J, Q, F, "RSZ",
       "full-time equivalent of the quarter without assimilated days (paid days / 65)",
       WORK("het voltijds equivalent exclusief gelijkgestelde dagen"), unit="FTE",
       nullable=False, origin=src(_OCC, "round(s.days_worked / 6500.0, 4)")),
    _v("fte_with_assimilated", J, Q, F, "RSZ",
       "full-time equivalent with assimilated days ((paid + assimilated days) / 65)",
       WORK("het voltijds equivalent inclusief gelijkgestelde dagen"), unit="FTE",
       origin=src(_OCC, "round((s.days_worked + coalesce(s.assimilated_days, 0)) / 6500.0, 4)")),
    _v("fte_other_days", J, Q, F, "RSZ", "full-time equivalent of other (unpaid) days",
       WORK("het voltijds equivalent andere dagen"), unit="FTE",
       origin=src(_OCC, "round(s.other_days / 6500.0, 4)")),
    _v("main_line_at_employer", J, C, S, "RSZ",
       "the line with the highest wage among the person's lines at the same employer",
       WORK("de belangrijkste tewerkstellingslijn bij dezelfde werkgever"), codes=codes.YES_NO,
       nullable=False, origin=DERIVED),
    _v("employer_nature", J, C, S, "RSZ", "nature of the employer",
       WORK("de aard van de werkgever"),
       codes=codes.EMPLOYER_NATURE, origin=src(_OCC, "s.employer_nature")),
    _v("main_job", J, C, S, "RSZ", "the job with the most paid days (then wage) of the quarter",
       WORK("de hoofdprestatie"), codes=codes.YES_NO, nullable=False, origin=DERIVED),
    _v("employer_contribution_reduction", J, A, F, "RSZ",
       "reduction of the employer's contributions for the job in the quarter",
       WORK("de werkgeversbijdragevermindering"), unit=EUR_Q,
       origin=src(_OCC, _euro("contribution_reduction_cents"))),
    _v("pays_contributions", J, C, S, "RSZ", "the worker pays social-security contributions",
       WORK("de aanduiding dat de werknemer socialezekerheidsbijdragen betaalt"),
       codes=codes.YES_NO, origin=src(_OCC, "s.pays_contributions")),
    _v("consolidation_type", J, C, S, "RSZ", "type of consolidation of the lines",
       WORK("het type consolidatie"), codes=codes.CONSOLIDATION_TYPE,
       origin=src(_OCC, "s.consolidation_type")),
    _v("pension_type", J, C, S, "RSZ", "pension the worker receives", WORK("het type pensioen"),
       codes=codes.PENSION_TYPE, origin=src(_OCC, "s.pension_type")),
    _v("normal_full_time_days", J, Q, F, "RSZ", "normally paid full-time days of the quarter",
       P6("het aantal normaal bezoldigde voltijdse dagen"), unit="days",
       origin=src(_OCC, "s.normal_days / 100.0")),
    # === SIGEDIS career (per year) ===============================================================
    _v("career_worked_days", Y, Q, INT, "SIGEDIS", 
       "worked days of the year (6-day regime, at most 312)",
       SIGEDIS("de gepresteerde dagen"), unit="days", nullable=False, origin=DERIVED),
    _v("career_worked_days_fte", Y, Q, F, "SIGEDIS", "worked days in full-time equivalent",
       SIGEDIS("de gepresteerde dagen voltijds equivalent"), unit="days",
       origin=src(_CAREER, "s.worked_days_fte_hundredths / 100.0")),
    _v("career_assimilated_days", Y, Q, INT, "SIGEDIS",
       "assimilated days of the year (unemployment, incapacity, ...)",
       SIGEDIS("de gelijkgestelde dagen"), unit="days", nullable=False, origin=DERIVED),
    _v("career_assimilated_days_fte", Y, Q, F, "SIGEDIS",
       "assimilated days in full-time equivalent",
       SIGEDIS("de gelijkgestelde dagen voltijds equivalent"), unit="days",
       origin=src(_CAREER, "s.assimilated_days_fte_hundredths / 100.0")),
    _v("career_length_years", Y, Q, INT, "SIGEDIS",
       "career years with worked or assimilated days up to and including this year",
       SIGEDIS("de duur van de loopbaan"), unit="years", nullable=False, origin=DERIVED),
    _v("career_fraction_denominator", Y, Q, INT, "SIGEDIS",
       "denominator of the career fraction (45 years for the employee pension)",
       SIGEDIS("de noemer van de loopbaanbreuk"), unit="years",
       origin=src(_CAREER, "s.career_denominator")),
    _v("career_employer_id", Y, ID, S, "SIGEDIS",
       "coded identification of the main employer of the year (same coding as employer_id)",
       SIGEDIS("het gecodeerd identificatienummer van de werkgever"),
       pseudonym_domain="employer", origin=DERIVED),
    # === incapacity (per quarter) ================================================================
    _v("incapacity_percentage", QT, Q, INT, "NIC",
       "degree of incapacity of the phase running on the last day of the quarter",
       INCAPACITY_QUARTER("het percentage") + P6("het percentage arbeidsongeschiktheid"),
       unit="percent", origin=src(_NIC, "s.percentage")),
    _v("incapacity_benefit_code", QT, C, S, "NIC", "benefit code",
       INCAPACITY_QUARTER("de uitkeringscode"), codes=codes.INCAPACITY_BENEFIT_CODE,
       origin=src(_NIC, "s.benefit_code")),
    _v("medical_code", QT, C, S, "NIC", "diagnosis group (ICD chapter, own grouping)",
       INCAPACITY_QUARTER("de medische code"), codes=codes.MEDICAL_CODE,
       origin=src(_NIC, "s.medical_code")),
    _v("discharge_code", QT, C, S, "NIC", "how the episode ended",
       INCAPACITY_QUARTER("de ontslagcode"), codes=codes.DISCHARGE_CODE,
       origin=src(_NIC, "s.discharge_code")),
    _v("cumulative_benefits", QT, A, F, "NIC",
       "benefits of the episode running on the last day, from its start up to that day",
       INCAPACITY_QUARTER("de gecumuleerde uitkeringen"), unit="euro", origin=DERIVED),
    _v("statistical_indicator", QT, C, S, "NIC", "statistical indicator (new or continuing case)",
       INCAPACITY_QUARTER("de statistische indicator"), codes=codes.STATISTICAL_INDICATOR,
       origin=src(_NIC, "s.statistical_indicator")),
    _v("incapacity_occupation", QT, C, S, "NIC", "occupation group of the insured person",
       INCAPACITY_QUARTER("het beroep"), codes=codes.INCAPACITY_OCCUPATION,
       origin=src(_NIC, "s.occupation")),
    _v("incapacity_social_status", QT, C, S, "NIC", "social status of the insured person",
       INCAPACITY_QUARTER("het sociaal statuut", "het statuut [eerste vermelding]"),
       codes=codes.INCAPACITY_SOCIAL_STATUS, origin=src(_NIC, "s.social_status")),
    _v("incapacity_scheme_quarter", QT, C, S, "NIC", "insurance scheme",
       INCAPACITY_QUARTER("het stelsel"), codes=codes.INCAPACITY_SCHEME,
       origin=src(_NIC, "s.scheme")),
    _v("incapacity_nace", QT, C, S, "NIC", "NACE code of the (last) employer",
       INCAPACITY_QUARTER("de NACE-code"), codes=codes.NACE, origin=src(_NIC, "s.nace")),
    _v("incapacity_phase_start", QT, D, DT, "NIC", "first day of the phase running on the day",
       INCAPACITY_QUARTER("de begindatum"), origin=src(_NIC, "s.start_date")),
    _v("payment_period_end", QT, D, DT, "NIC", "last day of the payment period",
       INCAPACITY_QUARTER("de einddatum van de betalingsperiode"),
       origin=src(_NIC, "s.payment_period_end")),
    _v("invalidity_end", QT, D, DT, "NIC", "last day of the invalidity (null if not in it)",
       INCAPACITY_QUARTER("de einddatum van de invaliditeit"),
       origin=src(_NIC, "case when s.phase = 'invalidity' then s.end_date end")),
    _v("gri_session_date", QT, D, DT, "NIC", "day of the session of the Medical Council",
       INCAPACITY_QUARTER("de datum van de sessie"), origin=src(_NIC, "s.session_date")),
    _v("illness_start", QT, D, DT, "NIC", "first day of the illness (guaranteed wage included)",
       INCAPACITY_QUARTER("de begindatum van de ziekte"),
       origin=src(_NIC, "s.illness_start_date")),
    _v("primary_incapacity_start", QT, D, DT, "NIC",
       "first day of the primary incapacity of the episode running on the last day of the quarter",
       INCAPACITY_QUARTER("de begindatum van de primaire arbeidsongeschiktheid"), origin=DERIVED),
    _v("gri_decision", QT, C, S, "NIC", "decision of the Medical Council for Invalidity",
       INCAPACITY_QUARTER("de beslissing van de Geneeskundige Raad voor Invaliditeit"),
       codes=codes.GRI_DECISION, origin=src(_NIC, "s.gri_decision")),
    _v("incapacity_paid_days", QT, Q, INT, "NIC", "benefit days of the quarter (6-day regime)",
       INCAPACITY_QUARTER("het aantal vergoede dagen") + P6("het aantal vergoede dagen"),
       unit="days", nullable=False, origin=DERIVED),
    _v("incapacity_benefit_amount", QT, A, F, "NIC",
       "daily benefit of the phase running on the last day of the quarter",
       INCAPACITY_QUARTER("het bedrag van de uitkering"), unit=EUR_DAY,
       origin=src(_NIC, _euro("daily_benefit_cents"))),
    _v("incapacity_file_status", QT, C, S, "NIC", "status of the incapacity file",
       INCAPACITY_QUARTER("het statuut [tweede vermelding]"),
       codes=codes.INCAPACITY_FILE_STATUS, origin=src(_NIC, "s.file_status")),
    _v("incapacity_annual_income", QT, A, F, "NIC",
       "annual earnings the benefit is computed on",
       INCAPACITY_QUARTER("het jaarincome"), unit=EUR_Y,
       origin=src(_NIC, _euro("annual_income_cents"))),
    # === incomes (per quarter) ===================================================================
    _v("rva_activation", QT, C, S, "RVA", "activation allowance from the RVA in the quarter",
       INCOME("de aanduiding van de activering door de Rijksdienst voor Arbeidsvoorziening"),
       codes=codes.YES_NO, nullable=False, origin=_flag(_INC, "rva_activation")),
    _v("local_employment_agency", QT, C, S, "RVA",
       "work through a local employment agency (PWA/ALE) in the quarter",
       INCOME("de aanduiding plaatselijk werkgelegenheidsagentschap"), codes=codes.YES_NO,
       nullable=False, origin=_flag(_INC, "local_employment_agency")),
    *(
        _v(f"taxable_benefit_{column}", QT, A, F, institution,
           f"gross taxable benefit paid by {institution} in the quarter",
           INCOME("de bruto belastbare uitkering (per betrokken socialezekerheidsinstelling: "
                  f"RIZIV, RSVZ, FAMIFED, RVA, FPD, FOD SZ, POD MI) [{institution}]"),
           unit=EUR_Q, origin=src(_INC, _euro(f"taxable_benefit_{column}_cents")))
        for column, institution in (
            ("riziv", "RIZIV"), ("rsvz", "RSVZ"), ("famifed", "FAMIFED"), ("rva", "RVA"),
            ("fpd", "FPD"), ("fodsz", "FOD SZ"), ("podmi", "POD MI"),
        )
    ),
    *(
        _v(f"gross_indemnity_{column}", QT, A, F, institution,
           f"gross indemnity paid by {institution} in the quarter",
           INCOME(f"de bruto vergoeding (NIC, FEDRIS, RIZIV) [{institution}]"),
           unit=EUR_Q, origin=src(_INC, _euro(f"gross_indemnity_{column}_cents")))
        for column, institution in (("nic", "NIC"), ("fedris", "FEDRIS"), ("riziv", "RIZIV"))
    ),
    *(
        _v(f"taxable_indemnity_{column}", QT, A, F, institution,
           f"gross taxable indemnity paid by {institution} in the quarter",
           INCOME(f"de bruto belastbare vergoeding (NIC, FEDRIS) [{institution}]"),
           unit=EUR_Q, origin=src(_INC, _euro(f"taxable_indemnity_{column}_cents")))
        for column, institution in (("nic", "NIC"), ("fedris", "FEDRIS"))
    ),
    _v("self_employed_income", QT, A, F, "RSVZ", "income of the self-employed for the quarter",
       INCOME("de inkomsten van de zelfstandige"), unit=EUR_Q,
       origin=src(_INC, _euro("self_employed_income_cents"))),
    _v("taxable_gross_wage", QT, A, F, "RSZ", "gross taxable wage of the quarter",
       INCOME("de bruto belastbare bezoldiging van de werknemer"), unit=EUR_Q,
       origin=src(_INC, _euro("taxable_wage_cents"))),
)
# fmt: on

_DMFA_CODE = "code of the DMFA zone (values as in the DMFA glossary; not yet listed here)"


def _later(
    name: str,
    panel: str,
    kind: Kind,
    dtype: str,
    source: str,
    description: str,
    seeds: tuple[SeedName, ...],
    **details: object,
) -> Variable:
    """A source field a seed names that no spec builds yet: declared so nothing is forgotten."""
    if kind is Kind.CODE and "codes" not in details and "unit" not in details:
        details["unit"] = _DMFA_CODE
    return _v(name, panel, kind, dtype, source, description, seeds, **details)


# The DMFA blocks that 19/104 (point 7) and 13/021 (point 13) name, built from the occupation
# lines. Multi-valued blocks (service, remuneration, deduction and contribution lines) are
# flattened to the occupation line's main line; the employer-declaration fields are the same on
# every line of one employer and quarter.
_QUARTER_START = "make_date(s.quarter // 10, (s.quarter % 10 - 1) * 3 + 1, 1)"
_QUARTER_END = f"({_QUARTER_START} + interval 3 month - interval 1 day)::DATE"
_COVERED_DAYS = (
    f"greatest(0, least(coalesce(s.occupation_end, {_QUARTER_END}), {_QUARTER_END})"
    f" - greatest(s.occupation_start, {_QUARTER_START}) + 1)"
)
_FTE = (
    f"round(s.q_hours / s.s_hours * {_COVERED_DAYS} / ({_QUARTER_END} - {_QUARTER_START} + 1), 4)"
)
# fmt: off
_DMFA_BLOCKS = (
    # --- DMFA employer declaration ------------------------------------------------------------
    _v("enterprise_id", J, ID, S, "RSZ",
       "coded enterprise identification (keyed pseudonym of the KBO number)",
       D19_EMPLOYER("het inschrijvingsnummer en het ondernemingsnummer van de werkgever "
                "[ondernemingsnummer]") + D13_EMPLOYER("het ondernemingsnummer"),
       nullable=False, pseudonym_domain="enterprise", origin=src(_OCC, "s.enterprise_kbo")),
    _v("curatorship", J, C, S, "RSZ", "the employer is under curatorship (bankrupt)",
       D19_EMPLOYER("de notie curatele") + D13_EMPLOYER("de notie curatele"),
       codes=codes.YES_NO, origin=src(_OCC, "s.curatorship")),
    _v("net_amount_due", J, A, F, "RSZ", "net amount the employer owes for the quarter",
       D19_EMPLOYER("het netto te betalen bedrag"), unit=EUR_Q,
       origin=src(_OCC, _euro("net_amount_due_cents"))),
    _v("five_day_conversion", J, C, S, "RSZ", "days converted to a five-day week",
       D19_EMPLOYER("de conversie naar een regime van vijf dagen per week"),
       codes=codes.YES_NO, origin=src(_OCC, "s.five_day_conversion")),
    _v("holiday_start", J, D, DT, "RSZ", "start date of the holiday",
       D19_EMPLOYER("de begindatum van de vakantie"), origin=src(_OCC, "s.holiday_start")),
    _v("declaration_source_code", J, C, S, "RSZ", "source code of the declaration",
       D13_EMPLOYER("de broncode"),
       codes=codes.DECLARATION_SOURCE, origin=src(_OCC, "s.declaration_source_code")),
    _v("lump_contribution_base", J, A, F, "RSZ",
       "calculation base of a contribution not tied to a natural person",
       D13_CONTRIBUTION("de berekeningsbasis"), unit=EUR_Q,
       origin=src(_OCC, _euro("lump_contribution_base_cents"))),
    _v("lump_contribution_amount", J, A, F, "RSZ",
       "amount of a contribution not tied to a natural person",
       D13_CONTRIBUTION("het bedrag"), unit=EUR_Q,
       origin=src(_OCC, _euro("lump_contribution_cents"))),
    # --- worker line ----------------------------------------------------------------------------
    _v("line_quarter_start", J, D, DT, "RSZ", "first day of the quarter of the worker line",
       D19_LINE("de begindatum en de einddatum van het kwartaal [begindatum]")
       + D13_LINE("de begindatum van het kwartaal"), origin=src(_OCC, _QUARTER_START)),
    _v("line_quarter_end", J, D, DT, "RSZ", "last day of the quarter of the worker line",
       D19_LINE("de begindatum en de einddatum van het kwartaal [einddatum]")
       + D13_LINE("de einddatum van het kwartaal"), origin=src(_OCC, _QUARTER_END)),
    _v("border_worker", J, C, S, "RSZ", "cross-border worker",
       D19_LINE("de notie grensarbeider"), codes=codes.YES_NO,
       origin=src(_OCC, "s.border_worker")),
    _v("activity_risk", J, C, S, "RSZ", "activity with respect to the risk",
       D19_LINE("de activiteit ten opzichte van het risico"),
       codes=codes.ACTIVITY_RISK, origin=src(_OCC, "s.activity_risk")),
    # --- occupation -----------------------------------------------------------------------------
    _v("occupation_number", J, Q, INT, "RSZ", "number of the occupation within the line",
       D19_OCCUPATION("het tewerkstellingsnummer")
       + D13_OCCUPATION("het tewerkstellingsnummer"),
       unit="sequence number", origin=src(_OCC, "s.occupation_number")),
    _v("working_time_reorganisation", J, C, S, "RSZ",
       "measure of reorganisation of working time",
       D19_OCCUPATION("de toepasselijke maatregel tot reorganisatie van de arbeidstijd")
       + D13_OCCUPATION("de maatregel tot reorganisatie van de arbeidstijd"),
       codes=codes.WORKING_TIME_REORGANISATION, origin=src(_OCC, "s.working_time_reorganisation")),
    _v("worker_status", J, C, S, "RSZ", "status of the worker",
       D19_OCCUPATION("het statuut van de werknemer"),
       codes=codes.WORKER_STATUS, origin=src(_OCC, "s.worker_status")),
    _v("retired", J, C, S, "RSZ", "the worker is retired",
       D19_OCCUPATION("de notie gepensioneerd"), codes=codes.YES_NO,
       origin=src(_OCC, "s.retired")),
    _v("apprentice_type", J, C, S, "RSZ", "type of apprentice",
       D19_OCCUPATION("het type leerling") + D13_OCCUPATION("het type leerling"),
       codes=codes.APPRENTICE_TYPE, origin=src(_OCC, "s.apprentice_type")),
    _v("remuneration_method", J, C, S, "RSZ",
       "method of pay (1 piece, 2 commission, 3 service vouchers)",
       D19_OCCUPATION("de bezoldigingswijze") + D13_OCCUPATION("de bezoldigingswijze"),
       codes=codes.REMUNERATION_METHOD, origin=src(_OCC, "s.remuneration_method")),
    _v("function_number", J, C, S, "RSZ", "function number",
       D19_OCCUPATION("het functienummer"),
       codes=codes.FUNCTION_NUMBER, origin=src(_OCC, "s.function_number")),
    _v("flying_personnel_class", J, C, S, "RSZ", "class of flying personnel",
       D19_OCCUPATION("de klasse van vliegend personeel"),
       codes=codes.FLYING_PERSONNEL_CLASS, origin=src(_OCC, "s.flying_personnel_class")),
    _v("tenths_or_twelfths", J, C, S, "RSZ", "payment in tenths or twelfths",
       D19_OCCUPATION("de betaling in tienden of twaalfden"),
       codes=codes.TENTHS_OR_TWELFTHS, origin=src(_OCC, "s.tenths_or_twelfths")),
    _v("days_justification", J, C, S, "RSZ",
       "justification of the days under a special work cycle",
       D19_OCCUPATION("de verantwoording van de dagen indien de werknemer tewerkgesteld is "
                      "volgens een bijzondere arbeidscyclus")
       + D13_OCCUPATION("de verantwoording van de dagen"),
       codes=codes.DAYS_JUSTIFICATION, origin=src(_OCC, "s.days_justification")),
    _v("service_fraction", J, Q, F, "RSZ", "fraction of the services (prestatiebreuk): Q/S of "
       "the line",
       D13_OCCUPATION("de prestatiebreuk"), unit="fraction",
       origin=src(_OCC, "round(s.q_hours / s.s_hours, 4)")),
    # --- services -------------------------------------------------------------------------------
    _v("service_line_number", J, Q, INT, "RSZ", "number of the service line (the main service "
       "line: 1)",
       D19_SERVICE("het nummer van de prestatielijn"), unit="sequence number",
       origin=src(_OCC, "s.service_line_number")),
    _v("service_hours", J, Q, F, "RSZ", "hours of the main service line (declared for "
       "part-time lines)",
       D19_SERVICE("het aantal uren van de prestatie")
       + D13_SERVICE("het aantal uren van de prestatie"), unit="hours",
       origin=src(_OCC, "s.service_hours_hundredths / 100.0")),
    _v("flight_minutes", J, Q, INT, "RSZ", "flight minutes of the main service line",
       D19_SERVICE("het aantal vluchtminuten"), unit="minutes",
       origin=src(_OCC, "s.flight_minutes")),
    # --- public sector --------------------------------------------------------------------------
    _v("public_organisation_type", J, C, S, "RSZ", "type of public organisation",
       D19_PUBLIC("het type overheidsorganisatie"),
       codes=codes.PUBLIC_ORGANISATION_TYPE, origin=src(_OCC, "s.public_organisation_type")),
    _v("staff_category", J, C, S, "RSZ", "staff category",
       D19_PUBLIC("de personeelscategorie"),
       codes=codes.STAFF_CATEGORY, origin=src(_OCC, "s.staff_category")),
    _v("grade_name", J, C, S, "RSZ", "name of the grade or function",
       D19_PUBLIC("de benaming van de graad of functie"), unit="free text",
       origin=src(_OCC, "s.grade_name")),
    _v("public_start", J, D, DT, "RSZ", "first day of the public-sector data",
       D19_PUBLIC("de begindatum"), origin=src(_OCC, "s.public_start")),
    _v("public_end", J, D, DT, "RSZ", "last day of the public-sector data",
       D19_PUBLIC("de einddatum"), origin=src(_OCC, "s.public_end")),
    _v("language_role", J, C, S, "RSZ", "language role", D19_PUBLIC("de taalrol"),
       codes=codes.LANGUAGE_ROLE, origin=src(_OCC, "s.language_role")),
    _v("service_nature", J, C, S, "RSZ", "nature of the service",
       D19_PUBLIC("de aard van de dienst"),
       codes=codes.SERVICE_NATURE, origin=src(_OCC, "s.service_nature")),
    _v("function_nature", J, C, S, "RSZ", "nature of the function",
       D19_PUBLIC("de aard van de functie"),
       codes=codes.FUNCTION_NATURE, origin=src(_OCC, "s.function_nature")),
    _v("statutory_end_reason", J, C, S, "RSZ", "reason the statutory relation ended",
       D19_PUBLIC("de reden van de beëindiging van de statutaire relatie"),
       codes=codes.STATUTORY_END_REASON, origin=src(_OCC, "s.statutory_end_reason")),
    # --- students -------------------------------------------------------------------------------
    _v("student_wage", J, A, F, "RSZ", "wage on which the solidarity contribution is computed",
       D19_STUDENT("het loon dat aanleiding geeft tot de berekening van de "
                   "solidariteitsbijdrage") + D13_STUDENT("het loon"), unit=EUR_Q,
       origin=src(_OCC, _euro("student_wage_cents"))),
    _v("student_contribution", J, A, F, "RSZ", "solidarity contribution of the student",
       D19_STUDENT("de solidariteitsbijdrage") + D13_STUDENT("de bijdrage"), unit=EUR_Q,
       origin=src(_OCC, _euro("student_contribution_cents"))),
    _v("student_days", J, Q, INT, "RSZ", "paid days to declare for the student",
       D19_STUDENT("het aantal aan te geven bezoldigde dagen en uren [dagen]")
       + D13_STUDENT("het aantal dagen"), unit="days", origin=src(_OCC, "s.student_days")),
    _v("student_hours", J, Q, F, "RSZ", "paid hours to declare for the student",
       D19_STUDENT("het aantal aan te geven bezoldigde dagen en uren [uren]"), unit="hours",
       origin=src(_OCC, "s.student_hours_hundredths / 100.0")),
    # --- occupation: information ----------------------------------------------------------------
    _v("holiday_days", J, Q, F, "RSZ", "holiday days", D19_INFO("het aantal vakantiedagen"),
       unit="days", origin=src(_OCC, "s.holiday_days_hundredths / 100.0")),
    _v("six_months_sick_date", J, D, DT, "RSZ",
       "day a tenured staff member passed six months of absence through illness",
       D19_INFO("de datum waarop het vastbenoemd personeelslid de periode van zes maanden "
                "afwezigheid wegens ziekte heeft overschreden"),
       origin=src(_OCC, "s.six_months_sick_date")),
    _v("non_profit_measure", J, C, S, "RSZ", "employment measure of the non-profit sector",
       D19_INFO("de toepasselijke tewerkstellingsmaatregel uit de non-profit"),
       codes=codes.NON_PROFIT_MEASURE, origin=src(_OCC, "s.non_profit_measure")),
    _v("horeca_extra", J, C, S, "RSZ", "occasional worker in hotels and catering",
       D19_INFO("de aanduiding extra uit de horeca"), codes=codes.YES_NO,
       origin=src(_OCC, "s.horeca_extra")),
    _v("hourly_wage", J, A, F, "RSZ", "hourly wage", D19_INFO("het uurloon"),
       unit="euro per hour", origin=src(_OCC, _euro("hourly_wage_cents"))),
    _v("exempt_from_services", J, C, S, "RSZ", "exemption from services",
       D19_INFO("de notie vrijstelling van prestaties"), codes=codes.YES_NO,
       origin=src(_OCC, "s.exempt_from_services")),
    _v("posted_worker", J, C, S, "RSZ", "posting of personnel",
       D19_INFO("de aanduiding van de detachering van personeel"), codes=codes.YES_NO,
       origin=src(_OCC, "s.posted_worker")),
    _v("guaranteed_wage_first_week_days", J, Q, F, "RSZ",
       "incapacity days with guaranteed wage in the first week",
       D19_INFO("het aantal dagen arbeidsongeschiktheid met gewaarborgd loon voor de eerste "
                "week"), unit="days",
       origin=src(_OCC, "s.guaranteed_wage_days_hundredths / 100.0")),
    _v("sick_pay", J, A, F, "RSZ", "gross wage paid during illness",
       D19_INFO("het brutoloon betaald bij ziekte"), unit=EUR_Q,
       origin=src(_OCC, _euro("sick_pay_cents"))),
    _v("public_declaration_exemption", J, C, S, "RSZ",
       "exemption from declaration in the public sector",
       D19_INFO("de aanduiding van de vrijstelling van de aangifte in de overheidssector"),
       codes=codes.YES_NO, origin=src(_OCC, "s.public_declaration_exemption")),
    _v("supplementary_pension", J, C, S, "RSZ", "supplementary pension scheme",
       D19_INFO("de aanduiding van de aanvullende pensioenregeling"), codes=codes.YES_NO,
       origin=src(_OCC, "s.supplementary_pension")),
    _v("former_work_placement_trainee", J, C, S, "RSZ", "former work placement trainee",
       D19_INFO("de aanduiding FWT (“former work placement trainee”)"), codes=codes.YES_NO,
       origin=src(_OCC, "s.former_work_placement_trainee")),
    _v("tenure_date", J, D, DT, "RSZ", "day of tenure of the staff member",
       D19_INFO("de datum van de vaste benoeming van het personeelslid"),
       origin=src(_OCC, "s.tenure_date")),
    _v("social_maribel_date", J, D, DT, "RSZ", "day a new social maribel post was granted",
       D19_INFO("de datum van de toekenning van een nieuwe post sociale maribel"),
       origin=src(_OCC, "s.social_maribel_date")),
    _v("deviating_pension_base", J, C, S, "RSZ",
       "public-sector pension contribution on a deviating base",
       D19_INFO("de aanduiding dat de bijdrage voor het overheidspensioen voor statutaire "
                "werknemers omwille van specifieke omstandigheden een afwijkende "
                "berekeningsbasis heeft"), codes=codes.YES_NO,
       origin=src(_OCC, "s.deviating_pension_base")),
    _v("career_measure", J, C, S, "RSZ", "career measure",
       D19_INFO("de toepasselijke loopbaanmaatregel"),
       codes=codes.CAREER_MEASURE, origin=src(_OCC, "s.career_measure")),
    _v("flemish_social_profit_subsector", J, C, S, "RSZ",
       "subsector under Flemish competence for social-profit activities",
       D19_INFO("de aanduiding van de deelsector die behoort tot de Vlaamse bevoegdheid "
                "inzake activiteiten op het vlak van social profit"),
       codes=codes.FLEMISH_SOCIAL_PROFIT_SUBSECTOR,
       origin=src(_OCC, "s.flemish_social_profit_subsector")),
    _v("mobility_budget", J, A, F, "RSZ", "total mobility budget granted to the worker",
       D19_INFO("het totale mobiliteitsbudget dat aan de werknemer wordt toegekend"),
       unit="euro", origin=src(_OCC, _euro("mobility_budget_cents"))),
    # --- remuneration, deductions, contributions ---------------------------------------------
    _v("remuneration_code", J, C, S, "RSZ", "remuneration code (annex 7) of the main "
       "remuneration line",
       D13_REMUNERATION("de bezoldigingscode"),
       codes=codes.REMUNERATION_CODE, origin=src(_OCC, "s.remuneration_code")),
    _v("premium_frequency", J, Q, INT, "RSZ", "frequency of payment of the premium of the main "
       "remuneration line",
       D13_REMUNERATION("de frequentie van de betaling van de premie"), unit="months",
       origin=src(_OCC, "s.premium_frequency")),
    _v("annual_remuneration_percentage", J, Q, F, "RSZ",
       "percentage of the remuneration on a yearly basis, of the main remuneration line",
       D13_REMUNERATION("het percentage van de bezoldiging op jaarbasis"), unit="percent",
       origin=src(_OCC, "s.annual_remuneration_hundredths / 100.0")),
    _v("deduction_base", J, A, F, "RSZ", "calculation base of the main deduction of the "
       "occupation line",
       D13_DEDUCTION("de berekeningsbasis"), unit=EUR_Q,
       origin=src(_OCC, _euro("deduction_base_cents"))),
    _v("deduction_amount", J, A, F, "RSZ", "amount of the main deduction of the occupation line",
       D13_DEDUCTION("het bedrag"), unit=EUR_Q, origin=src(_OCC, _euro("deduction_cents"))),
    _v("deduction_right_start", J, D, DT, "RSZ", "day the right to the main deduction starts",
       D13_DEDUCTION("de datum waarop het recht op de vermindering ingaat"),
       origin=src(_OCC, "s.deduction_right_start")),
    _v("contribution_type", J, C, S, "RSZ", "type of the main contribution due (0-9)",
       D13_DUE("het type"),
       codes=codes.CONTRIBUTION_TYPE, origin=src(_OCC, "s.contribution_type")),
    _v("contribution_base", J, A, F, "RSZ", "calculation base of the main contribution due",
       D13_DUE("de berekeningsbasis"), unit=EUR_Q,
       origin=src(_OCC, _euro("contribution_base_cents"))),
    _v("contribution_amount", J, A, F, "RSZ", "amount of the main contribution due",
       D13_DUE("het bedrag"), unit=EUR_Q, origin=src(_OCC, _euro("contribution_cents"))),
    # --- worker (13/021) ----------------------------------------------------------------------
    _v("oriolus_validation_code", J, C, S, "RSZ", "Oriolus validation code of the INSZ",
       D13_WORKER("de oriolusvalidatiecode"),
       codes=codes.ORIOLUS_VALIDATION, origin=src(_OCC, "s.oriolus_validation_code")),
    # --- 19/104 point 5: full-time equivalents per line ---------------------------------------
    _v("fte", J, Q, F, "RSZ",
       "full-time equivalent of the line: Q/S times the share of the quarter's days the "
       "occupation covers (its start to its end, clipped to the quarter)",
       D19_FTE("het aantal voltijds equivalenten"), unit="full-time equivalent", nullable=False,
       origin=src(_OCC, _FTE)),
)
# fmt: on

# Declared for the specs of 19/104, 13/021 and 04/037 (a later issue): not built yet. The
# identity fields of the three.
# fmt: off
_LATER = (
    # --- identifiers and natural-person fields: never released as such -------------------------
    _later("insz", QT, ID, S, "RR", "INSZ of the person (released only as person_id)",
           D19_PERSON("het identificatienummer van de sociale zekerheid van de werknemer")
           + D13_WORKER("het identificatienummer van de sociale zekerheid (zowel nieuw als oud)")
           + A052("het INSZ van de sociaal verzekerde") + A052L("het INSZ van de sociaal "
                                                                "verzekerde"),
           pseudonym_domain="person"),
    # Direct identifiers: only an identified mode may deliver them (specs.model refuses them
    # elsewhere), and only where a deliberation grants identified data (19/104 point 7).
    _v("last_name", QT, DI, S, "RR", "last name", D19_PERSON("de naam"),
       nullable=False, origin=src(_PERSONS, "s.last_name")),
    _v("first_name", QT, DI, S, "RR", "first name", D19_PERSON("de voornaam"),
       nullable=False, origin=src(_PERSONS, "s.first_name")),
    _later("birth_place", QT, DI, S, "RR", "place of birth", D19_PERSON("de geboorteplaats")),
    _v("address", QT, DI, S, "RR", "current address: street, house number, postal code",
       D19_PERSON("het adres"), nullable=False,
       origin=src(_PERSONS, "s.street || ', ' || s.postal_code")),
    _later("worker_sequence_number", J, ID, S, "RSZ", "sequence number of the worker",
           D13_WORKER("het volgnummer"), pseudonym_domain="worker_sequence"),
)
# fmt: on

# The A052 messages of 04/037 (points 1.2, 1.4 and 7.1), a row per message in the a052 panel:
# the administrative data L051 lists, the content A052L shows, and the three fields of point
# 7.1 the fitness declaration (C6) adds.
_A052 = declared_sources.A052_MESSAGES.key
MSG = "a052"
# fmt: off
_A052_MESSAGES = (
    # --- administrative data (L051) -------------------------------------------------------------
    _v("a052_message_number", MSG, ID, S, "NIC", "unique number of the A052 message",
       A052("het uniek nummer en het versienummer van het elektronisch bericht [uniek nummer]")
       + A052L("het uniek nummer en het versienummer van het elektronisch bericht "
               "[uniek nummer]"),
       nullable=False, pseudonym_domain="a052_message", origin=src(_A052, "s.message_number")),
    _v("a052_message_version", MSG, Q, INT, "NIC", "version of the A052 message (the latest)",
       A052("het uniek nummer en het versienummer van het elektronisch bericht [versienummer]")
       + A052L("het uniek nummer en het versienummer van het elektronisch bericht "
               "[versienummer]"),
       unit="version number", nullable=False, origin=src(_A052, "s.message_version")),
    _v("a052_created", MSG, D, DT, "NIC", "day the message (its latest version) was created",
       A052("de datum waarop het elektronisch bericht werd aangemaakt"), nullable=False,
       origin=src(_A052, "s.created_date")),
    _v("a052_status", MSG, C, S, "NIC", "status of the message",
       A052("het statuut van het elektronisch bericht"), codes=codes.A052_STATUS,
       nullable=False, origin=src(_A052, "s.status")),
    # --- content: employer occurrences ----------------------------------------------------------
    _v("a052_employer_count", MSG, Q, INT, "NIC", "number of employer occurrences in the message",
       A052("het aantal voorkomens “werkgever”"), unit="occurrences", nullable=False,
       origin=src(_A052, "s.employer_count")),
    _v("a052_employer_id", MSG, ID, S, "RSZ",
       "coded employer identification of the employer occurrence (keyed pseudonym of the RSZ "
       "number, coded as employer_id)",
       A052("het inschrijvingsnummer van de werkgever"), nullable=False,
       pseudonym_domain="employer", origin=src(_A052, "s.employer_rsz")),
    _v("a052_employer_category", MSG, C, S, "RSZ", "DMFA employer category of the occurrence",
       A052("de categorie van de werkgever"), codes=codes.EMPLOYER_CATEGORY,
       origin=src(_A052, "s.employer_category")),
    _v("a052_worker_code", MSG, C, S, "RSZ", "DMFA worker code of the insured person",
       A052("het werknemerskengetal van de sociaal verzekerde"), codes=codes.WORKER_CODE,
       nullable=False, origin=src(_A052, "s.worker_code")),
    _v("a052_joint_committee", MSG, C, S, "RSZ", "joint committee of the insured person",
       A052("het nummer van het paritair comité waaronder de sociaal verzekerde ressorteert"),
       codes=codes.JOINT_COMMITTEE, nullable=False, origin=src(_A052, "s.joint_committee")),
    _v("a052_occupation_start", MSG, D, DT, "RSZ", "first day of the occupation",
       A052("de begindatum van de tewerkstelling"), nullable=False,
       origin=src(_A052, "s.occupation_start")),
    _v("a052_worker_class", MSG, C, S, "RSZ", "worker category (DWH worker class)",
       A052("de categorie werknemer"), codes=codes.WORKER_CLASS, nullable=False,
       origin=src(_A052, "s.worker_class")),
    _v("a052_worker_hours", MSG, Q, F, "RSZ", "Q: mean weekly hours of the worker",
       A052("de factor Q (de normale gemiddelde wekelijkse arbeidsduur)"),
       unit="hours per week", nullable=False, origin=src(_A052, "s.q_hours / 100.0")),
    _v("a052_reference_hours", MSG, Q, F, "RSZ", "S: mean weekly hours of the reference person",
       A052("de factor S (de normale gemiddelde wekelijkse arbeidsduur van de maatman)"),
       unit="hours per week", nullable=False, origin=src(_A052, "s.s_hours / 100.0")),
    # --- content: day occurrences and the incapacity --------------------------------------------
    _v("a052_day_block_count", MSG, Q, INT, "NIC", "number of day occurrences in the message",
       A052("het aantal voorkomens “dagen”"), unit="occurrences", nullable=False,
       origin=src(_A052, "s.day_block_count")),
    _v("a052_day_type", MSG, C, S, "NIC", "type of the days of the day occurrence",
       A052("het type dagen (al dan niet vergoed)"), codes=codes.DAY_TYPE, nullable=False,
       origin=src(_A052, "s.day_type")),
    _v("a052_days", MSG, Q, INT, "NIC", "days of the day occurrence in the quarter (6-day regime)",
       A052("het aantal dagen (al dan niet vergoed)"), unit="days", nullable=False,
       origin=src(_A052, "s.days")),
    _v("a052_benefit_type", MSG, C, S, "NIC",
       "normal benefit or benefit for adapted work (authorised part-time resumption)",
       A052("het type uitkering (normale dan wel voor aangepast werk)"),
       codes=codes.BENEFIT_TYPE, nullable=False, origin=src(_A052, "s.benefit_type")),
    _v("a052_nature", MSG, C, S, "NIC", "nature of the benefit",
       A052("de aard van de uitkering (volledig, beperkt of aan € 0)"),
       codes=codes.INCAPACITY_NATURE, nullable=False, origin=src(_A052, "s.nature")),
    _v("a052_incapacity_start", MSG, D, DT, "NIC", "first day of the primary incapacity",
       A052("de begin- en einddatum van de arbeidsongeschiktheid [begindatum]"),
       nullable=False, origin=src(_A052, "s.incapacity_start")),
    _v("a052_incapacity_end", MSG, D, DT, "NIC",
       "last day of the incapacity, where it ends within the quarter (null: still running)",
       A052("de begin- en einddatum van de arbeidsongeschiktheid [einddatum]"),
       origin=src(_A052, "s.incapacity_end")),
    # --- point 7.1: what the fitness declaration (C6) adds --------------------------------------
    _v("fitness_decision_source", MSG, C, S, "NIC",
       "who decided the person is fit for work again (on the message of the quarter the "
       "incapacity ends in)",
       A052_C6("de bron van de beslissing tot arbeidsgeschiktheid (de adviserende geneesheer "
               "of het Rijksinstituut voor Ziekte- en Invaliditeitsverzekering)"),
       codes=codes.FITNESS_DECISION_SOURCE, origin=src(_A052, "s.fitness_decision_source")),
    _v("fitness_date", MSG, D, DT, "NIC", "day the person is fit for work again",
       A052_C6("de datum van de arbeidsgeschiktheid"), origin=src(_A052, "s.fitness_date")),
    _v("childbirth_date", MSG, D, DT, "NIC",
       "day of childbirth, as the person reported it to the insurer",
       A052_C6("de datum van de bevalling (zoals meegedeeld door de betrokken sociaal "
               "verzekerde aan de verzekeringsinstelling)"),
       origin=src(_A052, "s.childbirth_date")),
)
# fmt: on

_ALL = _VARIABLES + _DMFA_BLOCKS + _LATER + _A052_MESSAGES
VARIABLES: Mapping[str, Variable] = MappingProxyType({v.name: v for v in _ALL})
assert len(VARIABLES) == len(_ALL), "a variable name is declared twice"


# === Derivations ================================================================================
# A protection holds only if no released column gives the protected value back (design.md,
# invariant 9). So the catalog says what each derived variable is computed from (a protected mode
# protects it as it protects its sources: specs.derivation), and the known ways the released
# columns recompute a protected variable (the attacks the derivation audit tries on every
# release: transforms.derivation_audit).

# KSZ wage classes (Salcla): class k holds the full-time daily wage in [(k-1), k) x 1.25 euro,
# the last class everything above; 0 means no paid days.
WAGE_CLASS_STEP = 1.25
WAGE_CLASS_TOP = 500


@dataclass(frozen=True)
class Derivation:
    """`variable` is computed from `sources`. `to_source_unit`: for a variable derived from an
    amount but not itself one, its value in the source's unit (the lower end of what it
    stands for), so that the source's classes can be applied to it."""

    variable: str
    sources: tuple[str, ...]
    to_source_unit: Callable[[pl.Expr], pl.Expr] | None = None


@dataclass(frozen=True)
class Recomputation:
    """A way the released columns give back a protected variable: `estimate` of its exact value,
    true to within `margin` (euro or days), from the columns `by` of the same panel, the
    panel's keys and the variable's own released value. Both are polars expressions over the
    panel as released; a column released protected (a class label, a month) does not parse as
    the number or date the attack needs, and the estimate is then null."""

    variable: str
    by: tuple[str, ...]
    how: str
    estimate: pl.Expr
    margin: pl.Expr


def _wage_class_euro(wage_class: pl.Expr) -> pl.Expr:
    return (wage_class - 1).clip(lower_bound=0) * WAGE_CLASS_STEP


def _number(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64, strict=False)


def _wage_class_middle() -> pl.Expr:
    wage_class = _number("wage_class")
    return (
        pl.when((wage_class >= 1) & (wage_class < WAGE_CLASS_TOP))
        .then((wage_class - 0.5) * WAGE_CLASS_STEP)
        .otherwise(None)
    )


def _start_from_days() -> pl.Expr:
    # in the month an episode starts, its days run from the start to the month's last day
    month_end = pl.col("month").str.to_date("%Y-%m", strict=False).dt.month_end()
    days = pl.col("incapacity_days").cast(pl.Int64, strict=False)
    return (
        pl.when((pl.col("incapacity_start").cast(pl.String) == pl.col("month")) & (days > 0))
        .then(month_end - pl.duration(days=days - 1))
        .otherwise(None)
    )


def _end_from_next_days() -> pl.Expr:
    # an episode that ends within a month is not running on its last day, so the panel shows
    # its end month on the month before; the end month's day count then runs from the 1st to
    # the end day. Over the rows of one person only, in month order.
    def next_month(column: str) -> pl.Expr:
        return pl.col(column).shift(-1).over("person_id", order_by="month")

    first_day = next_month("month").str.to_date("%Y-%m", strict=False)
    days = next_month("incapacity_days").cast(pl.Int64, strict=False)
    return (
        pl.when((pl.col("incapacity_end").cast(pl.String) == next_month("month")) & (days > 0))
        .then(first_day + pl.duration(days=days - 1))
        .otherwise(None)
    )


DERIVATIONS: Mapping[str, Derivation] = MappingProxyType(
    {
        d.variable: d
        for d in (
            Derivation("wage_class", ("daily_wage",), _wage_class_euro),
            Derivation("daily_wage", ("job_gross_wage", "paid_days")),
            Derivation("incapacity_days", ("incapacity_start", "incapacity_end")),
        )
    }
)

RECOMPUTATIONS: tuple[Recomputation, ...] = (
    Recomputation(
        "daily_wage",
        ("wage_class",),
        "the middle of the wage class: (wage_class - 0.5) x 1.25 euro",
        _wage_class_middle(),
        pl.lit(WAGE_CLASS_STEP / 2),
    ),
    Recomputation(
        "job_gross_wage",
        ("wage_class", "paid_days"),
        "the middle of the wage class times the paid days",
        _wage_class_middle() * _number("paid_days"),
        WAGE_CLASS_STEP / 2 * _number("paid_days"),
    ),
    Recomputation(
        "incapacity_start",
        ("incapacity_days",),
        "in the month the episode starts: the month's last day - incapacity_days + 1",
        _start_from_days(),
        pl.lit(0),
    ),
    Recomputation(
        "incapacity_end",
        ("incapacity_days",),
        "in the month the episode ends: the 1st of the month + incapacity_days - 1",
        _end_from_next_days(),
        pl.lit(0),
    ),
)
# Disclosure risk (issue 11, section 2): the person-level variables an outsider may know of
# someone and link on (quasi-identifiers), the values a release must not give away about them
# (sensitive), and the monthly position whose sequence makes a trajectory. A spec may name its
# own (specs.modes.DisclosureRisk); these are the defaults.
QUASI_IDENTIFIERS: tuple[str, ...] = (
    "sex",
    "birth_date",
    "municipality",
    "nationality",
    "first_nationality",
    "lipro_position",
    "household_size",
    "household_type",
)
SENSITIVE: tuple[str, ...] = ("medical_code",)
TRAJECTORY = "socio_economic_position"
