"""Protections closed under derivation: a variable computed from a protected value is protected
as that value is (design.md, invariant 9).

In a mode that protects a kind of value, a variable derived from such a value (the catalog's
DERIVATIONS, followed through derivations of derivations) that is not itself of that kind:
- from an amount, is put in the classes the spec gives for its source, read on the source's
  scale (never finer than them); without such classes the spec is refused;
- from an event date, is cut to the month if it is a date; any other value (a day count) is
  refused, unless the spec accepts the derivation, citing the point that authorises it;
- from a nationality, is scrambled with the nationalities.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from specs.catalog import DERIVATIONS, VARIABLES, Derivation, Kind, Variable
from specs.protections import PROTECTION_KINDS
from specs.refusal import Refusal

# The kinds a mode protects, in the order a derived variable takes them.
PROTECTED_KINDS = tuple(p.kind for p in PROTECTION_KINDS)


class DerivationError(Refusal, ValueError):
    """A derived variable that a mode cannot protect as its sources are protected."""


@dataclass(frozen=True)
class DerivedProtection:
    """How a mode protects a derived variable: as its `source` (of `kind`) is protected.
    `edges`: the source's classes (amounts); `accepted`: the point of the deliberation that
    authorises the variable as it is (then it is released unchanged)."""

    variable: str
    kind: Kind
    source: str
    edges: tuple[float, ...] | None = None
    accepted: str | None = None


def protected_sources(
    name: str,
    derivations: Mapping[str, Derivation] = DERIVATIONS,
    variables: Mapping[str, Variable] = VARIABLES,
) -> dict[Kind, str]:
    """Per protected kind, the first variable of that kind `name` is derived from (directly or
    through other derived variables)."""
    found: dict[Kind, str] = {}
    seen = {name}
    todo = list(derivations[name].sources) if name in derivations else []
    while todo:
        source = todo.pop(0)
        if source in seen:
            continue
        seen.add(source)
        kind = variables[source].kind
        if kind in PROTECTED_KINDS:
            found.setdefault(kind, source)
        if source in derivations:
            todo.extend(derivations[source].sources)
    return found


def derived_protections(
    requested: Iterable[str],
    protected: Collection[Kind],
    classes: Mapping[str, tuple[float, ...]],
    accepted: Mapping[tuple[str, str], str],
    derivations: Mapping[str, Derivation] = DERIVATIONS,
    variables: Mapping[str, Variable] = VARIABLES,
) -> dict[str, DerivedProtection]:
    """Per requested variable that a mode protecting the kinds `protected` protects because of
    what it is derived from, how; raises DerivationError, naming the variable, where the mode
    cannot protect it. `classes`: the spec's amount classes; `accepted`: the points of the
    deliberation that accept a derived variable as it is, by (source, derived variable).
    Spec.derived_protections(mode) gives these from a spec."""
    found: dict[str, DerivedProtection] = {}
    for name in requested:
        variable = variables[name]
        for kind, source in protected_sources(name, derivations, variables).items():
            if variable.kind is kind or kind not in protected:
                continue
            if name in found:
                raise DerivationError(
                    f"{name!r} is derived from {found[name].source!r} and {source!r}, values of "
                    "two protected kinds: rex cannot protect it as both"
                )
            found[name] = _protection(
                name, variable, kind, source, classes, accepted.get((source, name)), derivations
            )
    return found


def _protection(
    name: str,
    variable: Variable,
    kind: Kind,
    source: str,
    classes: Mapping[str, tuple[float, ...]],
    accepted: str | None,
    derivations: Mapping[str, Derivation],
) -> DerivedProtection:
    if accepted is not None:
        return DerivedProtection(name, kind, source, accepted=accepted)
    if kind is Kind.AMOUNT:
        edges = classes.get(source)
        if edges is None or derivations[name].to_source_unit is None:
            raise DerivationError(
                f"{name!r} is derived from the amount {source!r}, so it must be put in "
                f"{source!r}'s classes, but the spec gives no 'classes.{source}'"
                if edges is None
                else f"{name!r} is derived from the amount {source!r}, but the catalog does not "
                f"say how to read it in {source!r}'s unit"
            )
        return DerivedProtection(name, kind, source, edges=edges)
    if kind is Kind.EVENT_DATE and variable.dtype != "DATE":
        raise DerivationError(
            f"{name!r} is derived from the date {source!r} and gives back more than its month; "
            f"it cannot be cut to the month: drop it, or accept it in 'accepted_derivations' "
            f"(variable: {source}, by: [{name}]) with the point of the deliberation that "
            "authorises it"
        )
    return DerivedProtection(name, kind, source)


def kind_as_protected(
    name: str, protections: Mapping[str, DerivedProtection], variables=VARIABLES
) -> Kind:
    """The kind a mode protects `name` as: its own, or the one it takes from its sources
    (a derivation the spec accepts keeps its own)."""
    taken = protections.get(name)
    if taken is None or taken.accepted is not None:
        return variables[name].kind
    return taken.kind
