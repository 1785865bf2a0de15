"""The protection plan of one panel: what a mode of the spec does to each column.

Persons and coded identifiers are always pseudonymised; amounts, event dates and nationalities
are protected as the mode says. The output holds the panel's keys and the spec's variables for
that panel, in the spec's order, sorted by the keys: nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import polars as pl

from specs.catalog import DERIVATIONS, PANELS, VARIABLES, Kind, Variable
from specs.derivation import DerivedProtection, kind_as_protected
from specs.identifiers import OF_PSEUDONYM_DOMAIN
from specs.model import Spec
from specs.modes import Mode
from specs.protections import OF_KIND
from transforms.classes import to_classes
from transforms.months import to_month
from transforms.pseudonymise import pseudonym_map
from transforms.scramble import apply_pairs, scramble

PERSON_ID = "person_id"


def _months(values: pl.Expr, edges: Sequence[float]) -> pl.Expr:
    return to_month(values)


# The protections applied value by value, each its transform (specs.protections declares what
# it releases); a nationality is scrambled across persons (transforms.scramble) instead.
PER_VALUE: Mapping[Kind, Callable[[pl.Expr, Sequence[float]], pl.Expr]] = MappingProxyType(
    {Kind.AMOUNT: to_classes, Kind.EVENT_DATE: _months}
)


def protected_values(kind: Kind, values: pl.Expr, edges: Sequence[float] = ()) -> pl.Expr:
    """`values` as a mode protecting `kind` releases them (class labels from `edges`, months)."""
    return PER_VALUE[kind](values, edges)


def pseudonyms_of(identifiers: pl.Expr, mapping: pl.DataFrame) -> pl.Expr:
    """Each identifier's pseudonym from `mapping` (id, pseudonym); null where it has none.

    A lookup of one column, where a join would copy every column of a wide panel (a slice's
    month panel of 60 columns: hundreds of megabytes for each identifier replaced)."""
    return identifiers.replace_strict(
        mapping["id"], mapping["pseudonym"], default=None, return_dtype=pl.String
    )


def replace_identifiers(frame: pl.DataFrame, column: str, mapping: pl.DataFrame) -> pl.DataFrame:
    """Replace the identifiers in `column` by their pseudonyms from `mapping` (id, pseudonym)."""
    return frame.with_columns(pseudonyms_of(pl.col(column), mapping))


def keyed_as_released(frame: pl.DataFrame, mode: Mode, persons: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its insz replaced by the person_id the release keys it by: the INSZ itself
    in an identified mode, else the pseudonym `persons` (id, pseudonym) gives it."""
    if mode.identified:
        return frame.rename({"insz": PERSON_ID})
    return frame.with_columns(pseudonyms_of(pl.col("insz"), persons).alias(PERSON_ID)).drop("insz")


def protect_panel(
    panel: str,
    frame: pl.DataFrame,
    spec: Spec,
    mode: Mode,
    key: bytes,
    persons: pl.DataFrame,
    scrambled: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The protected panel (`protected_rows`), sorted by its keys as released."""
    protected = protected_rows(panel, frame, spec, mode, key, persons, scrambled)
    return protected.sort(list(PANELS[panel].keys))


def release_order(panel: str, protected: pl.DataFrame) -> pl.Series:
    """The positions of a protected panel's rows in release order (sorted by the panel's keys,
    which are unique in a panel): where `protect_panel` sorts, a caller can gather a column at
    a time with these and free each as it goes."""
    return protected.select(pl.arg_sort_by(list(PANELS[panel].keys))).to_series()


def protected_rows(
    panel: str,
    frame: pl.DataFrame,
    spec: Spec,
    mode: Mode,
    key: bytes,
    persons: pl.DataFrame,
    scrambled: pl.DataFrame | None = None,
    derived: Mapping[str, DerivedProtection] | None = None,
) -> pl.DataFrame:
    """Apply the mode's protections to one panel, its rows in the frame's order; `persons`
    maps insz to person_id.

    An identified mode (identified data for control purposes) keeps persons and employers as
    their INSZ, RSZ and KBO numbers; every other coded identifier is still pseudonymised.
    `scrambled`: the nationality pairs the persons of the frame receive (person_id and the
    nationality columns), drawn over the whole extract; by default they are drawn over the
    frame, which must then hold every person of the extract. `derived`: the spec's derived
    protections in this mode (a run plan's), computed here if not given.
    """
    variables = [VARIABLES[name] for name in spec.variables_of_panel(panel)]
    keys = list(PANELS[panel].keys)
    protected = keyed_as_released(frame, mode, persons)
    for variable in variables:
        if mode.identified and variable.pseudonym_domain in OF_PSEUDONYM_DOMAIN:
            continue
        if variable.kind is Kind.CODED_ID and variable.pseudonym_domain is not None:
            mapping = pseudonym_map(protected[variable.name], key, variable.pseudonym_domain)
            protected = replace_identifiers(protected, variable.name, mapping)
    # a variable derived from a protected value is protected as that value (specs.derivation)
    if derived is None:
        derived = spec.derived_protections(mode)
    kinds = {v.name: kind_as_protected(v.name, derived) for v in variables}
    per_value = [v for v in variables if kinds[v.name] in PER_VALUE]
    protected = protected.with_columns(
        protected_values(kinds[v.name], *_values_and_edges(v, kinds[v.name], spec, derived)).alias(
            v.name
        )
        for v in per_value
        if mode.protect.protects(kinds[v.name])
    )
    if mode.protect.protects(Kind.NATIONALITY):
        nationality_columns = [v.name for v in variables if kinds[v.name] is Kind.NATIONALITY]
        if scrambled is None:
            protected = scramble(protected, nationality_columns, key, PERSON_ID, keys[1])
        elif nationality_columns:
            protected = apply_pairs(protected, nationality_columns, scrambled, PERSON_ID)
    return protected.select(*keys, *(v.name for v in variables))


def _values_and_edges(
    variable: Variable, kind: Kind, spec: Spec, derived: Mapping[str, DerivedProtection]
) -> tuple[pl.Expr, Sequence[float]]:
    """The values protected as `kind`, and the class edges where the protection puts them in
    classes: a variable's own, or (derived from an amount) read on its source's scale, in its
    source's classes."""
    if variable.kind is kind:
        return pl.col(variable.name), spec.classes.get(variable.name, ())
    if OF_KIND[kind].classes:
        return _in_source_unit(variable.name), derived[variable.name].edges or ()
    return pl.col(variable.name), ()


def _in_source_unit(name: str) -> pl.Expr:
    to_source_unit = DERIVATIONS[name].to_source_unit
    assert to_source_unit is not None, "specs.derivation refuses a derived amount without one"
    return to_source_unit(pl.col(name))
