"""The source store: one folder per institution, one Parquet file per table.

Declared once: the synthetic generator writes exactly these schemas and the flows refuse a
source file that does not match them. Identifiers (INSZ, employer and enterprise numbers) exist
only here; no transform lets them through to a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

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
class SourceTable:
    """A source table, stored as `<institution>/<table>.parquet` under the source store."""

    institution: str
    table: str
    description: str
    columns: tuple[SourceColumn, ...]

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
)

OCCUPATIONS = SourceTable(
    "dmfa",
    "occupations",
    "DMFA occupation lines: one row per occupation per quarter (blocks 90012, 90015, 90019)",
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
    ),
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
    ),
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
    ),
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
    ),
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
        )
    }
)


_POLARS_TYPES = {
    "VARCHAR": "String",
    "DATE": "Date",
    "INTEGER": "Int32",
    "BIGINT": "Int64",
}


def polars_schema(table: SourceTable) -> dict[str, object]:
    """The polars schema of a source table, from its declared DuckDB types."""
    import polars as pl

    return {c.name: getattr(pl, _POLARS_TYPES[c.dtype]) for c in table.columns}
