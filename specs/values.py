"""The value types a spec is made of and its languages share: windows of days, periods of
months, regions and the employer criteria.

Below the spec model (specs.model) and the population language (specs.population), which both
use them, so that neither imports the other.
"""

from __future__ import annotations

import datetime as dt
import re
from calendar import monthrange
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from specs.catalog import Granularity

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Strict(BaseModel):
    """A spec's part: unknown keys refused, frozen, fields read by name or alias."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_month(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if not _MONTH.match(text):
        raise ValueError(f"expected a month written YYYY-MM, got {text!r}")
    return text


class Window(Strict):
    """A closed interval of days; without `until`, open-ended (an authorisation for an
    indefinite term, 13/021 point 6, holds until it is withdrawn)."""

    from_: dt.date = Field(alias="from", description="first day, inclusive")
    until: dt.date | None = Field(description="last day, inclusive; null: no end date")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.until is not None and self.until < self.from_:
            raise ValueError(f"'until' ({self.until}) lies before 'from' ({self.from_})")
        return self

    def contains(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.until is None or day <= self.until)

    def describe(self) -> str:
        return f"{self.from_} .. {self.until or 'no end date'}"


class Period(Strict):
    """The months the panels cover, both ends inclusive."""

    from_: str = Field(alias="from", description="first month, YYYY-MM")
    until: str = Field(description="last month, YYYY-MM")
    career_from_year: int | None = Field(
        default=None,
        description="first year of the yearly (career) panel when it reaches back before the "
        "period, e.g. SIGEDIS data over all career years; default: the period's first year",
    )

    _check_months = field_validator("from_", "until", mode="before")(parse_month)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.until < self.from_:
            raise ValueError(f"'until' ({self.until}) lies before 'from' ({self.from_})")
        if self.career_from_year is not None and self.career_from_year > self.first_day.year:
            raise ValueError("'career_from_year' lies after the period's first year")
        return self

    @property
    def first_day(self) -> dt.date:
        year, month = map(int, self.from_.split("-"))
        return dt.date(year, month, 1)

    @property
    def last_day(self) -> dt.date:
        year, month = map(int, self.until.split("-"))
        next_first = dt.date(year + month // 12, month % 12 + 1, 1)
        return next_first - dt.timedelta(days=1)

    def labels(self, granularity: Granularity) -> list[str]:
        """The period's months (YYYY-MM), quarters (YYYY-Qn) or years (YYYY), as panels write
        them."""
        first, last = self.first_day, self.last_day
        months = [
            dt.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range((last.year - first.year) * 12 + last.month - first.month + 1)
        ]
        if granularity is Granularity.MONTH:
            return [f"{m.year}-{m.month:02d}" for m in months]
        if granularity is Granularity.QUARTER:
            return list(dict.fromkeys(f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months))
        return list(dict.fromkeys(str(m.year) for m in months))

    @property
    def first_career_year(self) -> int:
        return self.career_from_year or self.first_day.year


class Region(StrEnum):
    """The regions, as the first digits of the NIS codes of their municipalities."""

    BRUSSELS = "brussels"
    FLANDERS = "flanders"
    WALLONIA = "wallonia"

    @property
    def nis_prefixes(self) -> tuple[str, ...]:
        """The starts of the NIS codes of the region's municipalities (province codes, and the
        arrondissement codes that split the former province of Brabant)."""
        return {
            Region.BRUSSELS: ("21",),
            Region.FLANDERS: ("1", "23", "24", "3", "4", "7"),
            Region.WALLONIA: ("25", "5", "6", "8", "9"),
        }[self]


class Employers(Strict):
    """Which employers' workers a population holds (an occupation line whose employer matches
    every criterion given); a criterion left out does not restrict."""

    nace: tuple[str, ...] = Field(default=(), description="NACE-BEL 2008 codes of the employer")
    joint_committees: tuple[str, ...] = Field(
        default=(), description="joint committees of the occupation line"
    )
    local_unit_region: Region | None = Field(
        default=None, description="region of the local unit (establishment) the worker works in"
    )
    sector: Literal["private", "public"] | None = Field(
        default=None, description="private or public sector of the line"
    )
    their_lines_only: bool = Field(
        default=True,
        description="the job lines (and what is computed from them) are those of these "
        "employers only: what the deliberation grants is the workers' employment there",
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or that month's last day where it is shorter."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = monthrange(year, month_index + 1)[1]
    return dt.date(year, month_index + 1, min(day.day, last_day))
