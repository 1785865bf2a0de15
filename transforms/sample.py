"""The researcher sample: exactly N persons, chosen by keyed hash.

Each person gets a keyed score (HMAC under the project key, domain "sample"); the sample is the N
persons with the lowest scores. It is deterministic, cannot be predicted without the key, and is
stable when the population grows: a person already sampled stays sampled unless a newcomer with a
lower score pushes them out, and never more persons leave than arrive.
"""

from __future__ import annotations

import polars as pl

from specs.refusal import Refusal
from transforms.pseudonymise import SAMPLE, keyed_digest


class PopulationTooSmall(Refusal, ValueError):
    """Fewer eligible persons than the sample size: there is nothing to sample from."""


def draw_sample(population: pl.DataFrame, key: bytes, persons: int) -> pl.DataFrame:
    """The `persons` rows of `population` (one per insz) with the lowest keyed scores."""
    if population.height < persons:
        raise PopulationTooSmall(
            f"the population holds {population.height} eligible persons, fewer than the "
            f"sample size of {persons}"
        )
    return (
        population.with_columns(_score=keyed_digest(pl.col("insz"), key, SAMPLE))
        .sort("_score")
        .head(persons)
        .drop("_score")
        .sort("insz")
    )
