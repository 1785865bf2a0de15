"""The kinds of value a mode may protect, each declared once.

A protection kind is one entry here: the spec's setting that turns it on (`protect.amounts:
classes`), the catalog kind it applies to, the column it releases (type, pattern, unit, the
label the codebook prints) and how the disclosure risk reads it. Its transform is the one
function transforms.protect names for it; how a value derived from one is protected is
specs.derivation's rule, by the same kind.
Pseudonymisation of persons and employers is not a choice of the mode and is not listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from specs.catalog import Kind
from specs.patterns import MONTH_PATTERN


@dataclass(frozen=True)
class ProtectionKind:
    """One kind of value a mode protects, and everything that follows from protecting it.

    `setting` is the field of a mode's `protect:` (and of its `exact_grants`), `protecting` the
    value of that field that protects (the other is "exact"). A released column of this kind
    is VARCHAR, labelled `label`, holds the spec's class labels where `classes` (amounts), and
    else matches `pattern` in `unit`. `links_persons`: whether a protected value still links a
    person to outside data (a scrambled nationality is no longer the person's: the risk leaves
    it out).
    `across_persons`: the transform redistributes values across the persons of the extract
    (transforms.scramble) instead of replacing each value by its protected form."""

    setting: str
    kind: Kind
    protecting: str
    label: str
    links_persons: bool
    across_persons: bool = False
    classes: bool = False
    pattern: str | None = None
    unit: str | None = None


AMOUNTS = ProtectionKind(
    setting="amounts",
    kind=Kind.AMOUNT,
    protecting="classes",
    label="classes",
    links_persons=True,
    classes=True,
)
DATES = ProtectionKind(
    setting="dates",
    kind=Kind.EVENT_DATE,
    protecting="month",
    label="month",
    links_persons=True,
    pattern=MONTH_PATTERN,
    unit="month, YYYY-MM",
)
NATIONALITY = ProtectionKind(
    setting="nationality",
    kind=Kind.NATIONALITY,
    protecting="scramble",
    label="scrambled",
    links_persons=False,
    across_persons=True,
)

# In the order a derived variable takes them, and the spec's checks name them.
PROTECTION_KINDS: tuple[ProtectionKind, ...] = (AMOUNTS, DATES, NATIONALITY)
OF_KIND: Mapping[Kind, ProtectionKind] = MappingProxyType({p.kind: p for p in PROTECTION_KINDS})
