"""The checks a release must pass, as plain values; flows.release.validate makes each a GX
expectation.

Derived from the released columns (specs.release), so a column's constraint is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass

from specs.identifiers import Scheme
from specs.release import ReleasedColumn

# An INSZ written plainly (85073003328) or with its usual separators (85.07.30-033.28).
INSZ_SHAPE = r"[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}[-. ]?[0-9]{3}\.?[0-9]{2}"


@dataclass(frozen=True)
class ColumnsExactly:
    columns: tuple[str, ...]


@dataclass(frozen=True)
class NotNull:
    column: str


@dataclass(frozen=True)
class UniqueTogether:
    columns: tuple[str, ...]


@dataclass(frozen=True)
class InSet:
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class MatchesPattern:
    column: str
    pattern: str


@dataclass(frozen=True)
class NotMatchingPattern:
    column: str
    pattern: str


@dataclass(frozen=True)
class ValidIdentifier:
    """Every value is an identifier of `scheme` whose check digits verify."""

    column: str
    scheme: Scheme


@dataclass(frozen=True)
class Between:
    column: str
    low: int
    high: int


@dataclass(frozen=True)
class DistinctCountBetween:
    column: str
    low: int
    high: int


Check = (
    ColumnsExactly
    | NotNull
    | UniqueTogether
    | InSet
    | MatchesPattern
    | NotMatchingPattern
    | ValidIdentifier
    | Between
    | DistinctCountBetween
)


def panel_checks(
    columns: list[ReleasedColumn], sample_size: int | None, every_person_present: bool
) -> list[Check]:
    """Every check of one released panel.

    sample_size: the exact number of persons of a sample (None for the whole population);
    every_person_present: whether each person of the extract has rows in this panel.
    """
    checks: list[Check] = [ColumnsExactly(tuple(c.name for c in columns))]
    checks.append(UniqueTogether(tuple(c.name for c in columns if c.is_key)))
    for column in columns:
        if not column.nullable:
            checks.append(NotNull(column.name))
        if column.allowed is not None:
            checks.append(InSet(column.name, tuple(sorted(column.allowed))))
        if column.pattern is not None:
            checks.append(MatchesPattern(column.name, column.pattern))
        if column.check_digits is not None:
            checks.append(ValidIdentifier(column.name, column.check_digits))
        if column.low is not None and column.high is not None:
            checks.append(Between(column.name, column.low, column.high))
        # A column held to a code list, class labels or an anchored pattern (months, NIS codes,
        # pseudonyms) cannot hold an INSZ: those checks already refuse one (a test proves it
        # for every list and pattern). Free text gets the explicit INSZ check.
        if column.dtype == "VARCHAR" and column.allowed is None and column.pattern is None:
            checks.append(NotMatchingPattern(column.name, INSZ_SHAPE))
    if sample_size is not None:
        low = sample_size if every_person_present else 0
        checks.append(DistinctCountBetween("person_id", low, sample_size))
    return checks
