"""The derivation audit: how much of each protected value the other released columns give back.

For each protected column of a release and each known way to recompute it (the catalog's
RECOMPUTATIONS whose columns the release holds in the same panel), the attack is applied to the
panel as released, as a recipient would, and compared with the exact panel of the same rows. A
row counts as recomputed when the estimate lies within the attack's margin of the exact value and
that margin is finer than the release says: narrower than the class the exact amount falls in,
or less than the month of the exact date. A finding with recomputed rows that the spec does not
accept (`accepted_derivations`, with the point that authorises it) refuses the release.

The counts are sums over rows of one person at a time, so a release built a slice of persons at
a time adds up its slices' counts (invariant 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from specs.catalog import PANELS, RECOMPUTATIONS, VARIABLES, Kind, Recomputation
from specs.derivation import kind_as_protected
from specs.model import Spec
from specs.modes import Mode
from specs.patterns import class_labels
from specs.protections import DATES, OF_KIND
from specs.refusal import Refusal

# Float estimates are compared with a tolerance well below a cent.
TOLERANCE = 1e-6
EXACT = "__exact"


class DerivationRefused(Refusal, RuntimeError):
    """Released columns give back a protected value and the spec does not accept it."""


@dataclass(frozen=True)
class Attack:
    """One recomputation that applies to a release: its panel, the protection it defeats and,
    for an amount, the release's class edges."""

    panel: str
    rule: Recomputation
    protection: str
    edges: tuple[float, ...] | None = None


def attacks(
    spec: Spec, mode: Mode, rules: Sequence[Recomputation] = RECOMPUTATIONS
) -> list[Attack]:
    """The recomputations that the release of `spec` in `mode` is open to: the target is released
    protected and every column the attack uses is released in the same panel."""
    derived = spec.derived_protections(mode)
    found = []
    for rule in rules:
        target = VARIABLES.get(rule.variable)
        if target is None or rule.variable not in spec.variables.all():
            continue
        released = set(spec.variables_of_panel(target.panel))
        kind = kind_as_protected(rule.variable, derived)
        if not mode.protect.protects(kind) or not set(rule.by) <= released:
            continue
        edges = spec.classes.get(rule.variable) if kind is Kind.AMOUNT else None
        found.append(Attack(target.panel, rule, OF_KIND[kind].label, edges))
    return found


def _class_width(exact: pl.Expr, edges: Sequence[float]) -> pl.Expr:
    """The width of the class each amount falls in (infinite for the open classes)."""
    labels = class_labels(edges)
    widths = [math.inf, *(b - a for a, b in zip(edges, edges[1:], strict=False)), math.inf]
    return (
        exact.cut(list(edges), labels=labels, left_closed=True)
        .cast(pl.String)
        .replace_strict(labels, widths, return_dtype=pl.Float64)
    )


def _recomputed(attack: Attack, exact: pl.Expr) -> pl.Expr:
    estimate, margin = attack.rule.estimate, attack.rule.margin.cast(pl.Float64)
    if attack.protection == DATES.label:
        off = (estimate - exact).dt.total_days().abs()
        # finer than the month: the estimate pins fewer days than the month has
        finer = 2 * margin + 1 < exact.dt.month_end().dt.day()
    else:
        off = (estimate.cast(pl.Float64) - exact.cast(pl.Float64)).abs()
        finer = 2 * margin < _class_width(exact.cast(pl.Float64), attack.edges or ())
    hit = estimate.is_not_null() & exact.is_not_null() & (off <= margin + TOLERANCE) & finer
    return hit.fill_null(False)


def audit_panel(
    panel: str, found: Sequence[Attack], exact: pl.DataFrame, protected: pl.DataFrame
) -> list[tuple[int, int]]:
    """Per attack on `panel`, (rows holding the protected value, rows it recomputes). `exact`
    and `protected` hold the same rows, keyed by the panel's keys (person_id the released one)."""
    on_panel = [a for a in found if a.panel == panel]
    if not on_panel:
        return []
    keys = list(PANELS[panel].keys)
    targets = list(dict.fromkeys(a.rule.variable for a in on_panel))
    truth = exact.select(*keys, *(pl.col(t).alias(t + EXACT) for t in targets))
    # of the release, the columns the attacks read only: a join copies every column it keeps
    read = {
        name
        for a in on_panel
        for expr in (a.rule.estimate, a.rule.margin)
        for name in expr.meta.root_names()
    }
    released = [c for c in protected.columns if c in read and c not in keys]
    joined = protected.select(*keys, *released).join(truth, on=keys, how="left")
    counted = joined.select(
        pl.concat_list(
            pl.col(a.rule.variable + EXACT).is_not_null().sum(),
            _recomputed(a, pl.col(a.rule.variable + EXACT)).sum(),
        ).alias(str(i))
        for i, a in enumerate(on_panel)
    ).row(0)
    return [(int(rows), int(hits)) for rows, hits in counted]


def audit_slice(
    found: Sequence[Attack],
    exact: Mapping[str, pl.DataFrame],
    protected: Mapping[str, pl.DataFrame],
) -> list[tuple[int, int]]:
    """Per attack, in order, its counts over the panels of one slice."""
    counts: dict[int, tuple[int, int]] = {}
    for panel in exact:
        on_panel = [i for i, a in enumerate(found) if a.panel == panel]
        panel_counts = audit_panel(panel, found, exact[panel], protected[panel])
        counts.update(zip(on_panel, panel_counts, strict=True))
    return [counts.get(i, (0, 0)) for i in range(len(found))]


def add_counts(parts: Sequence[Sequence[tuple[int, int]]], size: int) -> list[tuple[int, int]]:
    """The counts of a release: the sums of its slices' counts."""
    return [(sum(p[i][0] for p in parts), sum(p[i][1] for p in parts)) for i in range(size)]


def _accepted(spec: Spec, attack: Attack) -> dict[str, str] | None:
    for accepted in spec.accepted_derivations:
        if accepted.variable == attack.rule.variable and set(accepted.by) == set(attack.rule.by):
            return {"point": accepted.point}
    return None


def findings(
    spec: Spec, found: Sequence[Attack], counts: Sequence[tuple[int, int]]
) -> list[dict[str, Any]]:
    """The audit as the manifest states it, one entry per attack."""
    return [
        {
            "panel": attack.panel,
            "variable": attack.rule.variable,
            "protection": attack.protection,
            "recomputed_by": list(attack.rule.by),
            "how": attack.rule.how,
            "rows": rows,
            "recomputable_rows": hits,
            "share": round(hits / rows, 6) if rows else 0.0,
            "accepted": _accepted(spec, attack),
        }
        for attack, (rows, hits) in zip(found, counts, strict=True)
    ]


def refuse_unaccepted(audit: Sequence[Mapping[str, Any]]) -> None:
    """Raise DerivationRefused if released columns give back a protected value unaccepted."""
    leaks = [f for f in audit if f["recomputable_rows"] > 0 and f["accepted"] is None]
    if leaks:
        said = "; ".join(
            f"{f['variable']} ({f['protection']}) is given back by {', '.join(f['recomputed_by'])} "
            f"in {f['recomputable_rows']} of {f['rows']} rows of the {f['panel']} panel"
            for f in leaks
        )
        raise DerivationRefused(
            f"the release would give back protected values: {said}; protect those columns, or "
            "accept the derivation in the spec's 'accepted_derivations' with the point of the "
            "deliberation that authorises it"
        )
