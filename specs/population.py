"""A population as an expression over the catalog, evaluated per person (the spec's `where`).

A condition is either a test of one catalog variable on the panel's reference days (`ever`,
`always` or `at` one day, month or quarter, within the spec's window or a sub-period of its
own), a fact a deliberation names often (age, region of residence, alive, employed, an
incapacity episode, listed by the recipient), or a combination (`all_of`, `any_of`, `not`).
The four population rules of the first specs are shorthands for expressions of this language
(`expression_of_rule`). The models check everything against the catalog once, when the spec
is read; transforms.population compiles them into one DuckDB query.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from specs.catalog import VARIABLES, FromSource, Granularity, Kind, Variable
from specs.sources import SOURCE_TABLES
from specs.values import Employers, Region

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
# A population is not said in identifiers: no condition may name one.
_NOT_IN_CONDITIONS = (Kind.DIRECT_IDENTIFIER, Kind.CODED_ID)
NUMERIC_TYPES = ("INTEGER", "BIGINT", "DOUBLE")
# How the words of a condition name the population's own window (Spec.population_in_words
# puts its months in).
WINDOW = "the population's window"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SubPeriod(_Strict):
    """Months a condition looks at instead of the spec's own window, both ends inclusive."""

    from_: str = Field(alias="from", description="first month, YYYY-MM")
    until: str = Field(description="last month, YYYY-MM")

    @model_validator(mode="before")
    @classmethod
    def _months(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("from", "until"):
                if name in data and not _MONTH.match(str(data[name])):
                    raise ValueError(
                        f"'{name}': expected a month written YYYY-MM, got {data[name]!r}"
                    )
                if name in data:
                    data = {**data, name: str(data[name])}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> SubPeriod:
        if self.until < self.from_:
            raise ValueError(f"'until' ({self.until}) lies before 'from' ({self.from_})")
        return self

    def describe(self) -> str:
        return f"{self.from_} .. {self.until}"


class Moment(_Strict):
    """One reference day: a day, or the last day of a month or a quarter (the day of death for
    a person who died in it), as the panels take a situation."""

    text: str

    @property
    def granularity(self) -> Granularity | None:
        """The period a month or quarter moment names; None for a day."""
        if _MONTH.match(self.text):
            return Granularity.MONTH
        if _QUARTER.match(self.text):
            return Granularity.QUARTER
        return None

    @property
    def first_day(self) -> dt.date:
        if (month := _MONTH.match(self.text)) is not None:
            return dt.date(int(month[1]), int(month[2]), 1)
        if (quarter := _QUARTER.match(self.text)) is not None:
            return dt.date(int(quarter[1]), 3 * int(quarter[2]) - 2, 1)
        return dt.date.fromisoformat(self.text)

    @property
    def last_day(self) -> dt.date:
        months = {Granularity.MONTH: 1, Granularity.QUARTER: 3}.get(self.granularity)  # type: ignore[arg-type]
        if months is None:
            return self.first_day
        first = self.first_day
        index = first.year * 12 + first.month - 1 + months
        return dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)


def _moment(value: Any) -> Moment:
    if isinstance(value, Moment):
        return value
    if isinstance(value, dt.date):
        return Moment(text=value.isoformat())
    text = str(value)
    if not (_MONTH.match(text) or _QUARTER.match(text)):
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"expected a day (YYYY-MM-DD), a month (YYYY-MM) or a quarter (YYYY-Qn), got "
                f"{text!r}"
            ) from None
    return Moment(text=text)


class _Timed(_Strict):
    """When a condition is looked at: on one reference day (`at`), or on every reference day
    of a window (the spec's, or `during`), holding on some of them (`when: ever`) or on all."""

    at: Moment | None = Field(
        default=None,
        description="a day (YYYY-MM-DD), or the last day of a month (YYYY-MM) or quarter (YYYY-Qn)",
    )
    when: Literal["ever", "always"] = Field(
        default="ever",
        description="over a window: on some reference day of it (ever), or on all (always)",
    )
    during: SubPeriod | None = Field(
        default=None, description="the months looked at; default: the population's window"
    )

    @model_validator(mode="before")
    @classmethod
    def _parse_at(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("at") is not None:
            data = {**data, "at": _moment(data["at"])}
        return data

    @model_validator(mode="after")
    def _at_or_window(self) -> _Timed:
        if self.at is not None and (self.during is not None or "when" in self.model_fields_set):
            raise ValueError("give either 'at' (one reference day) or 'when'/'during', not both")
        return self

    def describe_time(self) -> str:
        if self.at is not None:
            return f"on {self._moment_words(self.at)}"
        window = f"{self.during.describe()}" if self.during else WINDOW
        return f"{'at some point' if self.when == 'ever' else 'throughout'} in {window}"

    @staticmethod
    def _moment_words(moment: Moment) -> str:
        if moment.granularity is None:
            return moment.text
        return f"the last day of {moment.text}"


class _Test(_Strict):
    """What a value must be: one of codes (`is`, `in`) or within bounds (`between`,
    `at_least`, `at_most`, both ends inclusive)."""

    is_: str | float | None = Field(default=None, alias="is", description="the one value allowed")
    in_: tuple[str, ...] | None = Field(default=None, alias="in", description="the values allowed")
    between: tuple[float | dt.date, float | dt.date] | None = Field(
        default=None, description="lowest and highest value allowed, inclusive"
    )
    at_least: float | dt.date | None = Field(default=None, description="lowest value allowed")
    at_most: float | dt.date | None = Field(default=None, description="highest value allowed")

    @model_validator(mode="after")
    def _one_test(self) -> _Test:
        given = [n for n in ("is", "in", "between", "at_least", "at_most") if self._given(n)]
        bounds = {"at_least", "at_most"}
        if not given or (len(given) > 1 and set(given) != bounds):
            raise ValueError(
                "give one test: 'is', 'in', 'between', or 'at_least' and/or 'at_most' "
                f"(given: {', '.join(given) or 'none'})"
            )
        if self.between is not None and self.between[1] < self.between[0]:  # type: ignore[operator]
            raise ValueError(f"'between': {self.between[1]} lies below {self.between[0]}")
        return self

    def _given(self, name: str) -> bool:
        return getattr(self, {"is": "is_", "in": "in_"}.get(name, name)) is not None

    @property
    def codes(self) -> tuple[str, ...] | None:
        """The values of an `is` or `in` test, as text."""
        if self.in_ is not None:
            return self.in_
        if self.is_ is not None:
            return (str(self.is_),)
        return None

    @property
    def bounds(self) -> tuple[float | dt.date | None, float | dt.date | None]:
        if self.between is not None:
            return self.between
        return self.at_least, self.at_most

    def describe_test(self) -> str:
        codes = self.codes
        if codes is not None:
            return f"is {codes[0]}" if len(codes) == 1 else f"is one of {', '.join(codes)}"
        low, high = self.bounds
        if low is not None and high is not None:
            return f"is between {_plain(low)} and {_plain(high)}"
        return f"is at least {_plain(low)}" if low is not None else f"is at most {_plain(high)}"


def _plain(value: float | dt.date | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class VariableCondition(_Timed, _Test):
    """A catalog variable, read from its source table as the panels read it, tested on the
    reference days of its own granularity (the month's or quarter's last day), or on one day."""

    variable: str = Field(description="a catalog variable read from one source table")

    @model_validator(mode="after")
    def _fits_the_catalog(self) -> VariableCondition:
        variable = self.catalog_entry
        if variable is None:
            raise ValueError(f"unknown variable {self.variable!r}: not in the catalog")
        if variable.kind in _NOT_IN_CONDITIONS:
            raise ValueError(
                f"variable {self.variable!r} is an identifier ({variable.kind.value}): a "
                "population is not said in identifiers"
            )
        if not isinstance(variable.origin, FromSource):
            raise ValueError(
                f"variable {self.variable!r} is computed by the panels' own SQL, not read from "
                "one source table, so a population cannot test it; use a variable read from a "
                "source, or a fact: age, region, alive, employed, incapacity, listed"
            )
        table = SOURCE_TABLES[variable.origin.table]
        spell = table.valid_from is not None and table.valid_until is not None
        if table.period_column is None and not spell:
            raise ValueError(
                f"variable {self.variable!r} comes from {table.key}, which has no periods or "
                "spells to look at a day in"
            )
        if self.at is not None:
            given = self.at.granularity
            if given is None and not spell:
                raise ValueError(
                    f"variable {self.variable!r} is given per {variable.granularity.value} "
                    f"({table.key}): 'at' takes a {variable.granularity.value}, not a day"
                )
            if given is not None and given is not variable.granularity:
                raise ValueError(
                    f"variable {self.variable!r} is a {variable.granularity.value} variable: "
                    f"'at' takes a {variable.granularity.value} or a day, not a {given.value} "
                    f"({self.at.text})"
                )
        self._fits_the_type(variable)
        return self

    def _fits_the_type(self, variable: Variable) -> None:
        codes = self.codes
        if codes is not None:
            if variable.dtype != "VARCHAR":
                raise ValueError(
                    f"variable {self.variable!r} is a {variable.dtype} value: test it with "
                    "'between', 'at_least' or 'at_most', not with codes"
                )
            if variable.codes is not None:
                unknown = [c for c in codes if c not in variable.codes]
                if unknown:
                    raise ValueError(
                        f"{', '.join(map(repr, unknown))} is not in the code list of "
                        f"{self.variable!r} (codes: {', '.join(variable.codes)})"
                    )
            elif variable.pattern is not None:
                wrong = [c for c in codes if not re.match(variable.pattern, c)]
                if wrong:
                    raise ValueError(
                        f"{', '.join(map(repr, wrong))} is no value of {self.variable!r} "
                        f"(expected {variable.pattern})"
                    )
            return
        wanted: type = dt.date if variable.dtype == "DATE" else float
        if variable.dtype not in (*NUMERIC_TYPES, "DATE"):
            raise ValueError(
                f"variable {self.variable!r} is a {variable.dtype} value: test it with 'is' or "
                "'in', not with bounds"
            )
        for bound in self.bounds:
            if bound is not None and not isinstance(bound, wanted):
                raise ValueError(
                    f"variable {self.variable!r} is a {variable.dtype} value: its bounds must be "
                    f"{'days' if wanted is dt.date else 'numbers'}, got {bound!r}"
                )

    @property
    def catalog_entry(self) -> Variable | None:
        return VARIABLES.get(self.variable)

    def describe(self) -> str:
        return f"{self.variable} {self.describe_test()} {self.describe_time()}"


class RegionTest(_Timed):
    """The region of the municipality of residence (register.residences)."""

    is_: Region | None = Field(default=None, alias="is", description="the region")
    in_: tuple[Region, ...] | None = Field(default=None, alias="in", description="the regions")

    @model_validator(mode="after")
    def _one(self) -> RegionTest:
        if (self.is_ is None) == (self.in_ is None):
            raise ValueError("give the region with 'is' or the regions with 'in' (one of them)")
        return self

    @property
    def regions(self) -> tuple[Region, ...]:
        return self.in_ if self.in_ is not None else (self.is_,)  # type: ignore[return-value]


class RegionCondition(_Strict):
    region: RegionTest = Field(description="the region of residence")

    def describe(self) -> str:
        regions = " or ".join(r.value.capitalize() for r in self.region.regions)
        return f"living in {regions} {self.region.describe_time()}"


class AgeTest(_Strict):
    at: dt.date = Field(description="the day the age is taken on")
    between: tuple[int, int] | None = Field(default=None, description="ages allowed, inclusive")
    at_least: int | None = Field(default=None, ge=0, description="lowest age allowed")
    at_most: int | None = Field(default=None, ge=0, description="highest age allowed")

    @model_validator(mode="after")
    def _bounded(self) -> AgeTest:
        if self.between is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give the ages with 'between', or with 'at_least'/'at_most'")
        low, high = self.bounds
        if low is None and high is None:
            raise ValueError("give the ages allowed: 'between', 'at_least' or 'at_most'")
        if low is not None and high is not None and high < low:
            raise ValueError(f"age {high} lies below {low}")
        return self

    @property
    def bounds(self) -> tuple[int | None, int | None]:
        return self.between if self.between is not None else (self.at_least, self.at_most)


class AgeCondition(_Strict):
    age: AgeTest = Field(description="age in whole years on a day (alive on that day)")

    def describe(self) -> str:
        low, high = self.age.bounds
        if low is not None and high is not None:
            ages = f"aged {low} to {high}"
        else:
            ages = f"aged {low} or more" if low is not None else f"aged {high} or less"
        return f"{ages} on {self.age.at}"


class AliveTest(_Strict):
    at: dt.date | None = Field(default=None, description="alive on this day")
    during: SubPeriod | None = Field(
        default=None, description="alive on some day of these months; default: the window"
    )

    @model_validator(mode="after")
    def _one(self) -> AliveTest:
        if self.at is not None and self.during is not None:
            raise ValueError("give either 'at' or 'during', not both")
        return self


class AliveCondition(_Strict):
    alive: AliveTest = Field(description="alive on a day, or on some day of a window")

    def describe(self) -> str:
        if self.alive.at is not None:
            return f"alive on {self.alive.at}"
        window = self.alive.during.describe() if self.alive.during else WINDOW
        return f"alive at some point in {window}"


class EmployedTest(_Strict):
    during: SubPeriod | None = Field(
        default=None, description="the months looked at; default: the population's window"
    )
    employers: Employers | None = Field(
        default=None, description="whose workers; absent: the workers of every employer"
    )


class EmployedCondition(_Strict):
    employed: EmployedTest = Field(
        description="a DMFA occupation line (of the employers given) in a quarter of the window"
    )

    def describe(self) -> str:
        window = self.employed.during.describe() if self.employed.during else WINDOW
        return f"employed{_employers_words(self.employed.employers)} at some point in {window}"


def _employers_words(employers: Employers | None) -> str:
    if employers is None:
        return ""
    parts = []
    if employers.nace:
        parts.append(f"NACE {', '.join(employers.nace)}")
    if employers.joint_committees:
        parts.append(f"joint committee {', '.join(employers.joint_committees)}")
    if employers.sector:
        parts.append(f"{employers.sector} sector")
    if employers.local_unit_region:
        parts.append(f"a local unit in {employers.local_unit_region.value.capitalize()}")
    return f" by an employer of {'; '.join(parts)}" if parts else ""


class IncapacityTest(_Strict):
    during: SubPeriod | None = Field(
        default=None, description="the months looked at; default: the population's window"
    )


class IncapacityCondition(_Strict):
    incapacity: IncapacityTest = Field(
        description="an incapacity phase (NIC) overlapping the window"
    )

    def describe(self) -> str:
        window = self.incapacity.during.describe() if self.incapacity.during else WINDOW
        return f"incapacitated for work at some point in {window}"


class ListedCondition(_Strict):
    listed: Literal[True] = Field(description="among the persons the recipient lists")

    def describe(self) -> str:
        return "listed in the recipient's request"


class AllOf(_Strict):
    all_of: tuple[Condition, ...] = Field(description="every condition holds")

    @model_validator(mode="after")
    def _not_empty(self) -> AllOf:
        # checked here, not as a length of the field: a part refused would count as missing
        if not self.all_of:
            raise ValueError("'all_of' lists no condition")
        return self

    def describe(self) -> str:
        return _joined(self.all_of, "and")


class AnyOf(_Strict):
    any_of: tuple[Condition, ...] = Field(description="some condition holds")

    @model_validator(mode="after")
    def _not_empty(self) -> AnyOf:
        # checked here, not as a length of the field: a part refused would count as missing
        if not self.any_of:
            raise ValueError("'any_of' lists no condition")
        return self

    def describe(self) -> str:
        return _joined(self.any_of, "or")


class Not(_Strict):
    not_: Condition = Field(alias="not", description="the condition does not hold")

    def describe(self) -> str:
        return f"not ({self.not_.describe()})"


def _joined(parts: tuple[Condition, ...], word: str) -> str:
    if len(parts) == 1:
        return parts[0].describe()
    return f" {word} ".join(
        f"({p.describe()})" if isinstance(p, AllOf | AnyOf) else p.describe() for p in parts
    )


# The key that says which condition a mapping is.
_KINDS = (
    "variable",
    "region",
    "age",
    "alive",
    "employed",
    "incapacity",
    "listed",
    "all_of",
    "any_of",
    "not",
)


def _kind(value: Any) -> str | None:
    """Which condition a YAML mapping is, by the key that names it."""
    if isinstance(value, BaseModel):
        for kind, model in _MODELS.items():
            if isinstance(value, model):
                return kind
        return None
    if not isinstance(value, dict):
        return None
    found = [k for k in _KINDS if k in value]
    return found[0] if len(found) == 1 else None


Condition = Annotated[
    Annotated[VariableCondition, Tag("variable")]
    | Annotated[RegionCondition, Tag("region")]
    | Annotated[AgeCondition, Tag("age")]
    | Annotated[AliveCondition, Tag("alive")]
    | Annotated[EmployedCondition, Tag("employed")]
    | Annotated[IncapacityCondition, Tag("incapacity")]
    | Annotated[ListedCondition, Tag("listed")]
    | Annotated[AllOf, Tag("all_of")]
    | Annotated[AnyOf, Tag("any_of")]
    | Annotated[Not, Tag("not")],
    Discriminator(
        _kind,
        custom_error_type="condition",
        custom_error_message="expected one condition: a mapping with exactly one of the keys "
        + ", ".join(_KINDS),
    ),
]

_MODELS: dict[str, type[BaseModel]] = {
    "variable": VariableCondition,
    "region": RegionCondition,
    "age": AgeCondition,
    "alive": AliveCondition,
    "employed": EmployedCondition,
    "incapacity": IncapacityCondition,
    "listed": ListedCondition,
    "all_of": AllOf,
    "any_of": AnyOf,
    "not": Not,
}


def parts(condition: Condition) -> tuple[Condition, ...]:
    """The conditions a combination is made of; none for a single condition."""
    if isinstance(condition, AllOf):
        return condition.all_of
    if isinstance(condition, AnyOf):
        return condition.any_of
    if isinstance(condition, Not):
        return (condition.not_,)
    return ()


def walk(condition: Condition) -> list[Condition]:
    """The condition and every condition inside it, outermost first."""
    found = [condition]
    for part in parts(condition):
        found += walk(part)
    return found


def mentions_listed(condition: Condition) -> bool:
    return any(isinstance(c, ListedCondition) for c in walk(condition))


def expression_of_rule(rule: str, employers: Employers | None) -> Condition:
    """The expression a named population rule stands for (the rules of the first specs)."""
    if rule == "all_persons_in_period":
        return AliveCondition(alive=AliveTest())
    if rule == "incapacity_episode_in_period":
        return IncapacityCondition(incapacity=IncapacityTest())
    if rule == "employed_in_period":
        return EmployedCondition(employed=EmployedTest(employers=employers))
    if rule == "listed_persons":
        return ListedCondition(listed=True)
    raise ValueError(f"unknown population rule {rule!r}")
