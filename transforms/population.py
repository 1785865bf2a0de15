"""A spec's population: its expression (specs.population) compiled into one DuckDB query.

Every condition becomes a relation of the persons (insz) it keeps among the persons alive during
the spec's period, and the combinations become intersections, unions and differences of those
relations; nothing runs until the result is read, so the whole population is one query. The
values a spec gives (codes, bounds, days) reach DuckDB as a one-row frame of parameters (`p`),
never as SQL text; the SQL itself comes from fixed templates and the catalog's expressions.

A variable is read as the panels read it (transforms.panels.attach_sources): the row valid on
each reference day (the last day of a month or quarter, or the day of death), or the row of the
period; `ever` keeps a person for whom it holds on some reference day of the window, `always`
on every one the person was alive on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
from duckdb import DuckDBPyRelation as Relation

from specs import sources as declared_sources
from specs.catalog import FromSource, Granularity, Kind, Variable
from specs.model import PopulationRule, Spec
from specs.population import (
    WINDOW,
    AgeCondition,
    AliveCondition,
    AllOf,
    AnyOf,
    Condition,
    EmployedCondition,
    IncapacityCondition,
    ListedCondition,
    Moment,
    Not,
    RegionCondition,
    SubPeriod,
    VariableCondition,
    expression_of_rule,
    parts,
)
from specs.refusal import Refusal
from specs.values import Employers, Period
from transforms import calendar
from transforms.employers import employer_lines
from transforms.relations import attach_table, identifier, selected

# The source tables the population language reads, by their keys (specs.sources declares them).
PERSONS = declared_sources.PERSONS.key
INCAPACITY = declared_sources.INCAPACITY.key
RESIDENCES = declared_sources.RESIDENCES.key
OCCUPATIONS = declared_sources.OCCUPATIONS.key
# The municipality of residence, read from the register as a catalog variable is.
_RESIDENCE = Variable(
    "residence_nis_code__",
    "month",
    Kind.CODE,
    "VARCHAR",
    "RR",
    "NIS code of the municipality of residence",
    (),
    origin=FromSource(RESIDENCES, "s.nis_code"),
)


class ListNeeded(Refusal, ValueError):
    """The population names the recipient's list of persons and none was given."""


def alive_in(persons: Relation, period: Period) -> Relation:
    """The persons alive on some day of the period (insz, birth_date, death_date): the persons
    any condition is evaluated over."""
    bounds = calendar.bounds(period)  # noqa: F841 (read by DuckDB by name)
    return selected(
        persons.query(
            "persons",
            """
        select persons.insz, persons.birth_date, persons.death_date
        from persons, bounds b
        where persons.birth_date <= b.last_day
          and (persons.death_date is null or persons.death_date >= b.first_day)
        """,
        )
    )


@dataclass(frozen=True)
class Scope:
    """What a condition is evaluated against: the persons alive in the period, the cleaned
    sources, the population's window and the recipient's list of persons (if any)."""

    universe: Relation
    sources: Mapping[str, Relation]
    window: Period
    listed: pl.DataFrame | None = None


def spec_scope(
    sources: Mapping[str, Relation], spec: Spec, listed: pl.DataFrame | None = None
) -> Scope:
    return Scope(alive_in(sources[PERSONS], spec.period), sources, spec.population_window, listed)


def select(
    sources: Mapping[str, Relation], spec: Spec, listed: pl.DataFrame | None = None
) -> Relation:
    """The spec's population (insz, birth_date, death_date) from the cleaned sources."""
    scope = spec_scope(sources, spec, listed)
    return with_dates(scope, persons_of(spec.population.condition, scope))


def select_population(
    persons: Relation,
    incapacity: Relation,
    period_bounds: pl.DataFrame,
    rule: PopulationRule,
    rule_bounds: pl.DataFrame | None = None,
    occupations: Relation | None = None,
    employers: Employers | None = None,
    listed: pl.DataFrame | None = None,
) -> Relation:
    """Persons alive during the period and, by rule, with an incapacity phase or a DMFA
    occupation line (of the `employers` given) overlapping the rule's window (`rule_bounds`,
    by default the period itself), or among the `listed` persons (column insz): the named
    rule's expression (specs.population.expression_of_rule), compiled by transforms.population."""

    def months(bounds: pl.DataFrame) -> Period:
        first, last = bounds["first_day"][0], bounds["last_day"][0]
        return Period.model_validate({"from": f"{first:%Y-%m}", "until": f"{last:%Y-%m}"})

    period = months(period_bounds)
    sources: dict[str, Relation] = {PERSONS: persons, declared_sources.INCAPACITY.key: incapacity}
    if occupations is not None:
        sources[OCCUPATIONS] = occupations
    scope = Scope(
        alive_in(persons, period),
        sources,
        period if rule_bounds is None else months(rule_bounds),
        listed,
    )
    condition = expression_of_rule(rule.value, employers)
    return with_dates(scope, persons_of(condition, scope))


def with_dates(scope: Scope, kept: Relation) -> Relation:
    """The persons `kept`, with their birth and death dates."""
    universe = scope.universe  # noqa: F841 (read by DuckDB by name)
    return selected(kept.query("kept", "select * from universe semi join kept using (insz)"))


def persons_of(condition: Condition, scope: Scope) -> Relation:
    """The persons (insz, each once) of the scope's universe for whom the condition holds."""
    if isinstance(condition, AllOf | AnyOf):
        word = "intersect" if isinstance(condition, AllOf) else "union"
        found = [persons_of(part, scope) for part in parts(condition)]
        result = found[0]
        for other in found[1:]:
            result = _combined(result, other, word)
        return result
    if isinstance(condition, Not):
        inside = persons_of(condition.not_, scope)  # noqa: F841 (read by DuckDB by name)
        universe = scope.universe
        return selected(
            universe.query("universe", "select insz from universe except select insz from inside")
        )
    if isinstance(condition, VariableCondition):
        return _variable_holds(condition, scope)
    if isinstance(condition, RegionCondition):
        return _region_holds(condition, scope)
    if isinstance(condition, AgeCondition):
        return _age_holds(condition, scope)
    if isinstance(condition, AliveCondition):
        return _alive_holds(condition, scope)
    if isinstance(condition, IncapacityCondition):
        return _incapacity_holds(condition, scope)
    if isinstance(condition, EmployedCondition):
        return _employed_holds(condition, scope)
    if isinstance(condition, ListedCondition):
        return _listed(scope)
    raise TypeError(f"no query for the condition {type(condition).__name__}")


def _combined(a: Relation, b: Relation, word: str) -> Relation:
    if word not in ("intersect", "union"):
        raise ValueError(f"not a set operation: {word!r}")
    return selected(a.query("a", f"select insz from a {word} select insz from b"))


def _window(scope: Scope, during: SubPeriod | None) -> Period:
    if during is None:
        return scope.window
    return Period.model_validate({"from": during.from_, "until": during.until})


def _period_code(day: dt.date, granularity: Granularity) -> int:
    """A day's period as the source tables number them: YYYYMM, YYYYQ or the year."""
    if granularity is Granularity.MONTH:
        return day.year * 100 + day.month
    if granularity is Granularity.QUARTER:
        return day.year * 10 + (day.month - 1) // 3 + 1
    return day.year


def _periods(
    at: Moment | None, during: SubPeriod | None, granularity: Granularity, scope: Scope
) -> pl.DataFrame:
    """The periods whose reference days a condition looks at: first and last day, code."""
    schema = {"period_start": pl.Date, "period_end": pl.Date, "period_code": pl.Int32}
    if at is not None:
        start, end = at.first_day, at.last_day
        code = _period_code(start, at.granularity or granularity)
        return pl.DataFrame(
            {"period_start": [start], "period_end": [end], "period_code": [code]}, schema=schema
        )
    window = _window(scope, during)
    if granularity is Granularity.MONTH:
        months = calendar.months(window)
        return months.select(
            period_start="month_start",
            period_end="month_end",
            period_code=(
                pl.col("month_start").dt.year() * 100 + pl.col("month_start").dt.month()
            ).cast(pl.Int32),
        )
    if granularity is Granularity.QUARTER:
        return calendar.quarters(window).select(
            period_start="quarter_start", period_end="quarter_end", period_code="dmfa_quarter"
        )
    years = range(window.first_day.year, window.last_day.year + 1)
    return pl.DataFrame(
        {
            "period_start": [dt.date(y, 1, 1) for y in years],
            "period_end": [dt.date(y, 12, 31) for y in years],
            "period_code": list(years),
        },
        schema=schema,
    )


def _reference_days(universe: Relation, periods: pl.DataFrame) -> Relation:
    """Each person of the universe on each period's reference day: its last day, or the day
    of death in it (insz, period_key, day, period_code, the shape attach_sources reads)."""
    return selected(
        universe.query(
            "universe",
            """
        select u.insz, g.period_code as period_key,
               least(g.period_end, coalesce(u.death_date, g.period_end)) as day, g.period_code
        from universe u
        join periods g
          on u.birth_date <= g.period_end
         and (u.death_date is null or u.death_date >= g.period_start)
        """,
        )
    )


# The tests of a value (column `value__`) against the parameter row `p`.
_IN_CODES = "list_contains(p.codes, valued.value__)"
_IN_BOUNDS = (
    "(p.low is null or valued.value__ >= p.low) and (p.high is null or valued.value__ <= p.high)"
)
_IN_REGIONS = "len(list_filter(p.prefixes, lambda x: starts_with(valued.value__, x))) > 0"


def _timed_holds(
    variable: Variable,
    at: Moment | None,
    during: SubPeriod | None,
    when: str,
    test: str,
    p: pl.DataFrame,
    scope: Scope,
) -> Relation:
    """The persons for whom `test` holds of the variable's value on the reference days."""
    if not isinstance(variable.origin, FromSource):
        raise ValueError(f"variable {variable.name!r} is not read from one source table")
    granularity = at.granularity if at is not None and at.granularity else variable.granularity
    days = _reference_days(scope.universe, _periods(at, during, granularity, scope))
    table = variable.origin.table
    found = attach_table(days, scope.sources[table], table, "period_key", [variable])
    name = identifier(variable.name)
    valued = selected(  # noqa: F841 (read by DuckDB by name)
        found.query("found", f"select insz, period_key, {name} as value__ from found")
    )
    every = {"ever": "bool_or", "always": "bool_and"}[when]
    # a period with several rows (the DMFA lines of a quarter) holds if one of them does
    return selected(
        found.query(
            "unused__",
            f"""
        with per_period as (
            select valued.insz, valued.period_key, coalesce(bool_or({test}), false) as holds
            from valued, p
            group by valued.insz, valued.period_key
        )
        select insz from per_period group by insz having {every}(holds)
        """,
        )
    )


def _variable_holds(condition: VariableCondition, scope: Scope) -> Relation:
    variable = condition.catalog_entry
    assert variable is not None  # checked when the spec was read
    codes = condition.codes
    if codes is not None:
        p = pl.DataFrame({"codes": [list(codes)]}, schema={"codes": pl.List(pl.String)})
        test = _IN_CODES
    else:
        low, high = condition.bounds
        dtype = pl.Date if variable.dtype == "DATE" else pl.Float64
        p = pl.DataFrame({"low": [low], "high": [high]}, schema={"low": dtype, "high": dtype})
        test = _IN_BOUNDS
    return _timed_holds(variable, condition.at, condition.during, condition.when, test, p, scope)


def _region_holds(condition: RegionCondition, scope: Scope) -> Relation:
    region = condition.region
    prefixes = [prefix for r in region.regions for prefix in r.nis_prefixes]
    p = pl.DataFrame({"prefixes": [prefixes]}, schema={"prefixes": pl.List(pl.String)})
    return _timed_holds(_RESIDENCE, region.at, region.during, region.when, _IN_REGIONS, p, scope)


def _age_holds(condition: AgeCondition, scope: Scope) -> Relation:
    low, high = condition.age.bounds
    p = pl.DataFrame(  # noqa: F841 (read by DuckDB by name)
        {"day": [condition.age.at], "low": [low], "high": [high]},
        schema={"day": pl.Date, "low": pl.Int64, "high": pl.Int64},
    )
    universe = scope.universe
    return selected(
        universe.query(
            "universe",
            """
        with aged as (
            select u.insz, date_sub('year', u.birth_date, p.day) as age
            from universe u, p
            where u.birth_date <= p.day and (u.death_date is null or u.death_date >= p.day)
        )
        select aged.insz
        from aged, p
        where (p.low is null or aged.age >= p.low) and (p.high is null or aged.age <= p.high)
        """,
        )
    )


def _bounds(scope: Scope, at: dt.date | None, during: SubPeriod | None) -> pl.DataFrame:
    """First and last day looked at: one day, or a window's."""
    if at is not None:
        return pl.DataFrame({"first_day": [at], "last_day": [at]})
    return calendar.bounds(_window(scope, during))


def _alive_holds(condition: AliveCondition, scope: Scope) -> Relation:
    b = _bounds(scope, condition.alive.at, condition.alive.during)  # noqa: F841
    universe = scope.universe
    return selected(
        universe.query(
            "universe",
            """
        select u.insz from universe u, b
        where u.birth_date <= b.last_day and (u.death_date is null or u.death_date >= b.first_day)
        """,
        )
    )


def _incapacity_holds(condition: IncapacityCondition, scope: Scope) -> Relation:
    """An incapacity phase overlapping the window."""
    b = _bounds(scope, None, condition.incapacity.during)  # noqa: F841
    incapacity = scope.sources[INCAPACITY]  # noqa: F841
    universe = scope.universe
    return selected(
        universe.query(
            "universe",
            """
        select u.insz from universe u
        where exists (
            select 1
            from incapacity i, b
            where i.insz = u.insz
              and i.start_date <= b.last_day
              and (i.end_date is null or i.end_date >= b.first_day)
        )
        """,
        )
    )


def _employed_holds(condition: EmployedCondition, scope: Scope) -> Relation:
    """A DMFA occupation line of a matching employer in a quarter of the window."""
    b = _bounds(scope, None, condition.employed.during)  # noqa: F841
    lines = employer_lines(  # noqa: F841
        scope.sources[OCCUPATIONS], condition.employed.employers or Employers()
    )
    universe = scope.universe
    return selected(
        universe.query(
            "universe",
            """
        select u.insz from universe u
        where exists (
            select 1
            from lines, b
            where lines.insz = u.insz
              and lines.quarter between year(b.first_day) * 10 + quarter(b.first_day)
                                    and year(b.last_day) * 10 + quarter(b.last_day)
        )
        """,
        )
    )


def _listed(scope: Scope) -> Relation:
    if scope.listed is None:
        raise ListNeeded("the population names the listed persons, but no list was given")
    asked = scope.listed.select("insz")  # noqa: F841
    universe = scope.universe
    return selected(
        universe.query("universe", "select insz from universe semi join asked using (insz)")
    )


def source_tables(condition: Condition) -> set[str]:
    """The source tables the condition reads, besides the register's persons."""
    from specs.population import walk

    tables: set[str] = set()
    for part in walk(condition):
        if isinstance(part, VariableCondition):
            origin = part.catalog_entry.origin  # type: ignore[union-attr]
            if isinstance(origin, FromSource):
                tables.add(origin.table)
        elif isinstance(part, RegionCondition):
            tables.add(RESIDENCES)
        elif isinstance(part, IncapacityCondition):
            tables.add(INCAPACITY)
        elif isinstance(part, EmployedCondition):
            tables.add(OCCUPATIONS)
    return tables


@dataclass(frozen=True)
class FunnelStep:
    """One line of a population's funnel: a condition (in words), how deep it sits in the
    expression, how many persons it keeps alone and, for a part of an `all_of`, how many are
    left once it and the parts before it are applied."""

    depth: int
    condition: str
    persons: int
    left: int | None = None


def _count(relation: Relation) -> int:
    return int(relation.aggregate("count(*)").fetchall()[0][0])


def funnel(condition: Condition, scope: Scope) -> list[FunnelStep]:
    """How many persons of the store each condition of the expression keeps (counts only)."""
    steps = [FunnelStep(0, "alive in the period", _count(scope.universe))]
    steps += _funnel_of(condition, scope, 1)
    return steps


def _funnel_of(condition: Condition, scope: Scope, depth: int) -> list[FunnelStep]:
    window = f"{scope.window.from_} .. {scope.window.until}"
    words = (
        condition.describe().replace(WINDOW, window)
        if not parts(condition)
        else _combination_words(condition)
    )
    steps = [FunnelStep(depth, words, _count(persons_of(condition, scope)))]
    left: Relation | None = None
    for part in parts(condition):
        inner = _funnel_of(part, scope, depth + 1)
        if isinstance(condition, AllOf):
            found = persons_of(part, scope)
            left = found if left is None else _combined(left, found, "intersect")
            inner[0] = FunnelStep(
                inner[0].depth, inner[0].condition, inner[0].persons, _count(left)
            )
        steps += inner
    return steps


def _combination_words(condition: Condition) -> str:
    if isinstance(condition, AllOf):
        return f"all of these {len(condition.all_of)} conditions"
    if isinstance(condition, AnyOf):
        return f"any of these {len(condition.any_of)} conditions"
    return "not this one"
