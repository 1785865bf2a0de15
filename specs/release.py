"""What a release of a spec in a mode holds, column by column.

The released columns are derived here once from the catalog and the spec; the validation
checks (specs.checks) and the codebook (specs.codebook) are both read off them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from specs.catalog import PANELS, VARIABLES, Granularity, Kind, Variable
from specs.derivation import DerivedProtection
from specs.identifiers import DESCRIPTION, OF_PSEUDONYM_DOMAIN, PATTERN, Scheme
from specs.model import Spec
from specs.modes import Mode
from specs.patterns import PSEUDONYM_PATTERN, class_labels
from specs.protections import OF_KIND, ProtectionKind

QUARTER_PATTERN = r"^[0-9]{4}-Q[1-4]$"


@dataclass(frozen=True)
class ReleasedColumn:
    """One column of a released panel: its type and the values it may hold."""

    name: str
    dtype: str
    description: str
    nullable: bool
    protection: str
    unit: str | None = None
    allowed: Mapping[str, str] | None = None  # value -> label
    pattern: str | None = None
    low: int | None = None  # smallest and largest value of a numeric column
    high: int | None = None
    is_key: bool = False
    deliberation_name: str | None = None  # what the spec's deliberation calls it
    check_digits: Scheme | None = None  # an identifier whose check digits must verify
    derived_from: str | None = None  # the protected value whose protection it takes
    accepted_derivation: str | None = None  # the point that authorises releasing it as it is


def _identified(column: ReleasedColumn, scheme: Scheme) -> ReleasedColumn:
    """The column as an identified delivery holds it: the identifier itself, verified."""
    return replace(
        column,
        dtype="VARCHAR",
        description=f"{DESCRIPTION[scheme]} (identified data for control purposes)",
        protection="identified",
        pattern=PATTERN[scheme],
        check_digits=scheme,
    )


def _key_columns(
    panel: str, period_values: Mapping[Granularity, list], mode: Mode
) -> list[ReleasedColumn]:
    granularity = PANELS[panel].granularity
    person = ReleasedColumn(
        "person_id",
        "VARCHAR",
        "pseudonym of the person (keyed hash, stable within the project)",
        nullable=False,
        protection="pseudonymised",
        pattern=PSEUDONYM_PATTERN,
        is_key=True,
    )
    if mode.identified:
        person = _identified(person, Scheme.INSZ)
    period_description = {
        Granularity.MONTH: ("month", "VARCHAR", "calendar month, YYYY-MM"),
        Granularity.QUARTER: ("quarter", "VARCHAR", "calendar quarter, YYYY-Qn"),
        Granularity.YEAR: ("year", "INTEGER", "calendar year"),
    }[granularity]
    name, dtype, description = period_description
    values = period_values[granularity]
    if granularity is Granularity.YEAR:
        period = ReleasedColumn(
            name,
            dtype,
            description,
            nullable=False,
            protection="none",
            is_key=True,
            low=min(values),
            high=max(values),
        )
    else:
        period = ReleasedColumn(
            name,
            dtype,
            description,
            nullable=False,
            protection="none",
            is_key=True,
            allowed={v: v for v in values},
        )
    columns = [person, period]
    if panel == "quarter_job":
        columns.append(
            ReleasedColumn(
                "job",
                "INTEGER",
                "number of the job within the person and quarter, from 1",
                nullable=False,
                protection="none",
                is_key=True,
            )
        )
    if panel == "a052":
        columns.append(
            ReleasedColumn(
                "message",
                "INTEGER",
                "number of the message within the person and quarter, from 1",
                nullable=False,
                protection="none",
                is_key=True,
            )
        )
    return columns


def _variable_column(
    variable: Variable, spec: Spec, mode: Mode, derived: Mapping[str, DerivedProtection]
) -> ReleasedColumn:
    exact = ReleasedColumn(
        name=variable.name,
        dtype=variable.dtype,
        description=variable.description,
        nullable=variable.nullable,
        protection="none",
        unit=variable.unit,
        allowed=variable.codes,
        pattern=variable.pattern,
        deliberation_name=variable.name_in(spec.deliberation),
    )
    if variable.kind is Kind.CODED_ID:
        scheme = OF_PSEUDONYM_DOMAIN.get(variable.pseudonym_domain or "")
        if mode.identified and scheme is not None:
            return _identified(exact, scheme)
        return replace(
            exact, dtype="VARCHAR", protection="pseudonymised", pattern=PSEUDONYM_PATTERN
        )
    taken = derived.get(variable.name)
    if taken is not None:
        return _derived_column(exact, taken)
    if not mode.protect.protects(variable.kind):
        return exact
    protection = OF_KIND[variable.kind]
    edges = spec.classes[variable.name] if protection.classes else ()
    return _protected(exact, protection, edges)


def _protected(
    exact: ReleasedColumn, protection: ProtectionKind, edges: tuple[float, ...]
) -> ReleasedColumn:
    """The column as `protection` releases it (specs.protections): class labels from `edges`
    (amounts), or text matching the protection's pattern."""
    column = replace(exact, dtype="VARCHAR", protection=protection.label)
    if protection.classes:
        return replace(column, allowed={x: x for x in class_labels(edges)})
    if protection.pattern is not None:
        return replace(column, pattern=protection.pattern, unit=protection.unit)
    return column


def _derived_column(exact: ReleasedColumn, derived: DerivedProtection) -> ReleasedColumn:
    """A variable protected as the value it is derived from (specs.derivation)."""
    exact = replace(exact, derived_from=derived.source)
    if derived.accepted is not None:
        return replace(exact, accepted_derivation=derived.accepted)
    protection = OF_KIND[derived.kind]
    if protection.classes:
        # read on the scale of its source, whose classes it takes
        exact = replace(exact, unit=VARIABLES[derived.source].unit, low=None, high=None)
    return _protected(exact, protection, derived.edges or ())


def released_panels(
    spec: Spec,
    mode: Mode,
    period_values: Mapping[Granularity, list],
    derived: Mapping[str, DerivedProtection] | None = None,
) -> dict[str, list[ReleasedColumn]]:
    """Per panel that the spec requests, its released columns in order; `derived`: the spec's
    derived protections in `mode` (a run plan's), computed once here if not given."""
    if derived is None:
        derived = spec.derived_protections(mode)
    panels: dict[str, list[ReleasedColumn]] = {}
    for panel in PANELS:
        names = spec.variables_of_panel(panel)
        if names:
            panels[panel] = _key_columns(panel, period_values, mode) + [
                _variable_column(VARIABLES[n], spec, mode, derived) for n in names
            ]
    return panels


def released_summaries(
    spec: Spec, panels: Mapping[str, list[ReleasedColumn]]
) -> dict[str, list[ReleasedColumn]]:
    """Per summary of the spec, its columns: the groups and the period as the panel releases
    them (the keys of the summary), the sums, and the number of persons."""
    summaries: dict[str, list[ReleasedColumn]] = {}
    for name, summary in spec.summaries.items():
        of_panel = {column.name: column for column in panels[summary.panel]}
        period = of_panel[PANELS[summary.panel].keys[1]]
        if summary.periods and period.allowed is not None:
            period = replace(period, allowed={p: p for p in summary.periods})
        columns = [replace(of_panel[n], is_key=True) for n in summary.by] + [period]
        columns += [
            replace(
                of_panel[n],
                description=f"sum over the persons of the group: {of_panel[n].description}",
                dtype="DOUBLE",
                deliberation_name=None,
            )
            for n in summary.sum
        ]
        columns.append(
            ReleasedColumn(
                "persons",
                "INTEGER",
                "number of persons in the group and period",
                nullable=False,
                protection="none",
                low=1,
                high=2**31 - 1,
            )
        )
        summaries[name] = columns
    return summaries
