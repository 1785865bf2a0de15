"""The employers: RSZ and KBO numbers, local units and joint committee, fixed per employer."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic import identifiers

UNITS_PER_EMPLOYER = (1, 3)
COMMITTEE_WEIGHTS = {
    "200": 0.30,
    "100": 0.15,
    "124": 0.08,
    "302": 0.07,
    "322.01": 0.05,
    "330": 0.12,
    "140": 0.08,
    "111": 0.08,
    "209": 0.07,
}
# Sequence numbers are spread over the valid range so that numbers look like real ones.
FIRST_SEQUENCE, LAST_SEQUENCE = 100_000, 1_999_999


def employers_frame(rng: np.random.Generator, count: int) -> pl.DataFrame:
    """One row per employer, index 0..count-1 (0 is the largest)."""
    sequences = np.sort(rng.choice(LAST_SEQUENCE - FIRST_SEQUENCE, count, replace=False))
    enterprises = np.sort(rng.choice(np.arange(200_000, 9_999_999), count, replace=False))
    committees = np.array(list(COMMITTEE_WEIGHTS))
    weights = np.array(list(COMMITTEE_WEIGHTS.values()))
    return pl.DataFrame(
        {
            "employer": np.arange(count, dtype=np.int32),
            "employer_rsz": identifiers.rsz(sequences + FIRST_SEQUENCE),
            "enterprise_kbo": identifiers.mod97_ten_digits(enterprises),
            "joint_committee": committees[
                rng.choice(len(committees), count, p=weights / weights.sum())
            ],
            "units": rng.integers(UNITS_PER_EMPLOYER[0], UNITS_PER_EMPLOYER[1] + 1, count),
            "first_unit": np.arange(count, dtype=np.int64) * UNITS_PER_EMPLOYER[1],
        }
    )


def local_unit_numbers(unit_index: np.ndarray) -> np.ndarray:
    """10-digit local-unit numbers (first digit 2-8) from a running unit index."""
    return identifiers.mod97_ten_digits(20_000_000 + unit_index)
