"""Disclosure risk of a sample release, measured exactly against the whole population.

rex holds the population the sample was drawn from, so it need not estimate how many sample
persons are unique in it: it counts them. On the quasi-identifiers as the release gives them
(birth date to the month, amounts in classes; a scrambled nationality is not the person's own
and so links nobody, and is left out), each sample person's equivalence class is the set of
population persons with the same values; its size is the person's k. The release's figures are
counts only (never a person or a value): how many sample persons have k = 1 (unique in the
population), the least k, the persons per band of k, the l-diversity of the sensitive columns
within the sample's own classes, and the persons unique on their sequence of monthly positions
(a trajectory) over the last year of the period and over the whole period.

Every figure is a group count over one row per person (or per person and month): a global step
on narrow frames, which does not depend on the order of the rows or on how the persons were
sliced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from specs.catalog import QUASI_IDENTIFIERS, SENSITIVE, TRAJECTORY, VARIABLES
from specs.model import Spec
from specs.modes import DisclosureRisk, Mode
from specs.protections import OF_KIND
from specs.refusal import Refusal
from transforms.protect import PER_VALUE, protected_values

IN_SAMPLE = "in_sample"
# The bands of equivalence-class sizes (and of l) the manifest counts persons in: (label,
# least, most); None: no upper bound.
BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-9", 5, 9),
    ("10+", 10, None),
)
# A missing value in a trajectory: a month a person is not in the panel (not alive).
ABSENT = "."


class DisclosureRiskTooHigh(Refusal, ValueError):
    """More sample persons are unique in the population than the spec allows."""


def settings(mode: Mode) -> DisclosureRisk:
    return mode.disclosure_risk or DisclosureRisk()


def quasi_identifiers(spec: Spec, mode: Mode) -> list[str]:
    """The quasi-identifiers measured: the spec's (or the catalog's) that the spec releases in
    the quarter panel, without those the mode scrambles (a scrambled value links nobody)."""
    named = settings(mode).quasi_identifiers or QUASI_IDENTIFIERS
    released = set(spec.variables_of_panel("quarter"))
    return [name for name in named if name in released and _links_persons(name, mode)]


def _links_persons(name: str, mode: Mode) -> bool:
    """Whether the variable, as the mode releases it, still links a person to outside data."""
    kind = VARIABLES[name].kind
    protection = OF_KIND.get(kind)
    return protection is None or protection.links_persons or not mode.protect.protects(kind)


def sensitive_columns(spec: Spec, mode: Mode) -> list[str]:
    """The sensitive columns whose l-diversity is measured (those the spec releases)."""
    named = settings(mode).sensitive or SENSITIVE
    released = set(spec.variables_of_panel("quarter"))
    return [name for name in named if name in released]


def trajectory_variable(spec: Spec) -> str | None:
    """The monthly position whose sequence makes a trajectory, if the spec releases it."""
    return TRAJECTORY if TRAJECTORY in spec.variables_of_panel("month") else None


def as_released(
    quarter: pl.DataFrame,
    columns: Sequence[str],
    person: str,
    period: str,
    mode: Mode,
    classes: Mapping[str, Sequence[float]],
) -> pl.DataFrame:
    """Per person, the columns on their last row of the quarter panel, protected as the mode
    protects them in the release (dates to the month, amounts in classes)."""
    last = quarter.sort(period).group_by(person).agg(pl.col(c).last() for c in columns)
    protected = [
        protected_values(VARIABLES[name].kind, pl.col(name), classes.get(name, ())).alias(name)
        for name in columns
        if mode.protect.protects(VARIABLES[name].kind) and VARIABLES[name].kind in PER_VALUE
    ]
    return last.with_columns(protected) if protected else last


def _bands(values: pl.Series) -> dict[str, int]:
    return {
        label: int(((values >= low) & (values <= high if high is not None else True)).sum())
        for label, low, high in BANDS
    }


def class_sizes(persons: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`persons` (one row per population person, with IN_SAMPLE) with each one's equivalence
    class size in the population (`k`) and in the sample (`k_sample`); missing values form a
    value of their own."""
    keys: list[pl.Expr] = [pl.col(c) for c in columns] or [pl.lit(0)]
    return persons.with_columns(
        k=pl.len().over(keys),
        k_sample=pl.col(IN_SAMPLE).sum().over(keys),
    )


def l_diversity(sample: pl.DataFrame, columns: Sequence[str], sensitive: str) -> dict[str, Any]:
    """Within the sample's own equivalence classes, the number of distinct values of the
    sensitive column (missing counts as a value): the least, and the sample persons per band."""
    keys: list[pl.Expr] = [pl.col(c) for c in columns] or [pl.lit(0)]
    per_person = sample.select(pl.col(sensitive).n_unique().over(keys).alias("l"))["l"]
    least = per_person.min() if per_person.len() else 0
    return {"min": int(least), "bands": _bands(per_person)}  # type: ignore[arg-type]


def risk_figures(
    persons: pl.DataFrame, columns: Sequence[str], sensitive: Sequence[str]
) -> dict[str, Any]:
    """The counts of the release's disclosure risk on the quasi-identifiers `columns`, from one
    row per population person (IN_SAMPLE marks the sample's)."""
    sized = class_sizes(persons, columns)
    sample = sized.filter(pl.col(IN_SAMPLE))
    k = sample["k"]
    unique = int((k == 1).sum())
    return {
        "quasi_identifiers": list(columns),
        "sample_persons": sample.height,
        "population_persons": persons.height,
        "unique_in_population": unique,
        "unique_in_sample": int((sample["k_sample"] == 1).sum()),
        "unique_share": unique / sample.height if sample.height else 0.0,
        "k_min": int(k.min()) if sample.height else None,  # type: ignore[arg-type]
        "k_bands": _bands(k),
        "l_diversity": {name: l_diversity(sample, columns, name) for name in sensitive},
    }


def trajectories(
    monthly: pl.DataFrame, person: str, month: str, status: str, in_sample: pl.DataFrame
) -> pl.DataFrame:
    """Per person, their sequence of monthly `status` values in month order, as one text
    (a month without a value is ABSENT); joined to IN_SAMPLE from `in_sample` (person, flag)."""
    return (
        monthly.sort(month)
        .group_by(person)
        .agg(
            pl.concat_str(
                pl.col(month).cast(pl.String), pl.col(status).fill_null(ABSENT), separator="="
            )
            .str.join("|")
            .alias("sequence")
        )
        .join(in_sample.select(person, IN_SAMPLE), on=person, how="inner")
    )


def digested(sequences: pl.DataFrame) -> pl.DataFrame:
    """The sequences of `trajectories` with each text replaced by a 128-bit digest of it (two
    64-bit hashes of different seeds): persons with the same trajectory keep the same value,
    and the population's trajectories take 16 bytes a person instead of a text of about 10
    bytes a month. Two different trajectories share a digest with a chance of about n^2/2^129
    for n persons: far below one in a billion for the whole country."""
    text = pl.col("sequence")
    return sequences.with_columns(pl.struct(a=text.hash(1), b=text.hash(2)).alias("sequence"))


def trajectory_uniqueness(sequences: pl.DataFrame) -> dict[str, Any]:
    """How many sample persons are unique in the population on their trajectory, and the share."""
    sized = sequences.with_columns(k=pl.len().over("sequence")).filter(pl.col(IN_SAMPLE))
    unique = int((sized["k"] == 1).sum())
    return {"unique": unique, "share": unique / sized.height if sized.height else 0.0}


def refuse_above_threshold(figures: Mapping[str, Any], threshold: float | None) -> None:
    """DisclosureRiskTooHigh if the share of unique sample persons exceeds the threshold."""
    if threshold is not None and figures["unique_share"] > threshold:
        raise DisclosureRiskTooHigh(
            f"{figures['unique_in_population']} of {figures['sample_persons']} sample persons "
            f"({figures['unique_share']:.2%}) are unique in the population on "
            f"{', '.join(figures['quasi_identifiers'])}; the spec allows at most "
            f"{threshold:.2%}: the release is refused"
        )
