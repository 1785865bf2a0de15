"""The protection kinds, declared once (specs.protections): the spec's settings, the release
layout and the transforms all read the one entry of a kind."""

from __future__ import annotations

import typing
from datetime import date

import polars as pl

from specs.catalog import Kind
from specs.modes import Mode, Protections
from specs.protections import OF_KIND, PROTECTION_KINDS
from transforms.protect import PER_VALUE, protected_values


def test_each_setting_of_a_mode_is_a_declared_protection_kind_and_nothing_else():
    assert set(Protections.model_fields) == {p.setting for p in PROTECTION_KINDS}
    for protection in PROTECTION_KINDS:
        values = typing.get_args(Protections.model_fields[protection.setting].annotation)
        assert set(values) == {protection.protecting, "exact"}
    grants = Mode.model_fields["exact_grants"].annotation
    (keys, _grant) = typing.get_args(grants)
    assert set(typing.get_args(keys)) == {p.setting for p in PROTECTION_KINDS}


def test_a_mode_protects_a_kind_exactly_when_its_setting_says_so():
    for protection in PROTECTION_KINDS:
        on = Protections.model_validate({protection.setting: protection.protecting})
        assert [p.kind for p in PROTECTION_KINDS if on.protects(p.kind)] == [protection.kind]
        assert not any(Protections().protects(p.kind) for p in PROTECTION_KINDS)


def test_every_kind_protected_value_by_value_has_a_transform_and_the_others_none():
    assert set(PER_VALUE) == {p.kind for p in PROTECTION_KINDS if not p.across_persons}
    frame = pl.DataFrame({"wage": [999.0, 1000.0, 2500.0], "day": [date(2015, 3, 31)] * 3})
    released = frame.select(
        protected_values(Kind.AMOUNT, pl.col("wage"), (1000.0, 2000.0)),
        protected_values(Kind.EVENT_DATE, pl.col("day")),
    )
    assert released.rows() == [
        ("<1000", "2015-03"),
        ("[1000,2000)", "2015-03"),
        (">=2000", "2015-03"),
    ]
    assert OF_KIND[Kind.AMOUNT].classes and OF_KIND[Kind.EVENT_DATE].pattern is not None
