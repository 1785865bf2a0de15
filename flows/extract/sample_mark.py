"""The on-premise build's mark of the sample: which of its persons the sample mode drew.

rex holds the project key, so it draws the sample of the spec's sample mode over the build's
population (the same draw as the sample export's, transforms.sample) and says, per person of the
build, whether they were drawn. The researchers compare the sample with the whole population
over the same persons without any link of pseudonyms: the modes stay unlinkable
(transforms.modes). The mark stays on the premises: no mode that leaves them gets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from flows.release.files import sha256_file
from flows.release.parquet_writer import RowGroupWriter
from flows.release.validate import Outcome, validate_panel
from specs.checks import panel_checks
from specs.model import Spec
from specs.modes import ModeKind, ModeName
from specs.patterns import PSEUDONYM_PATTERN
from specs.release import ReleasedColumn
from transforms.modes import in_sample
from transforms.sample import draw_sample

TABLE = "persons"
DESCRIPTION = (
    "one row per person of the build: whether the sample mode's draw holds the person "
    "(for comparisons over the sample's persons; the pseudonyms are this build's own)"
)


def marks_sample(spec: Spec, mode: ModeName) -> bool:
    """Whether a release of `mode` carries the mark: an on-premise, pseudonymised build of a
    spec whose sample mode draws a sample."""
    sample = spec.modes.get(ModeName.SAMPLE)
    return (
        not mode.leaves_premises
        and spec.modes[mode].kind is not ModeKind.IDENTIFIED
        and sample is not None
        and sample.kind is ModeKind.SAMPLE
    )


def mark_layout(spec: Spec, mode: ModeName) -> dict[str, list[ReleasedColumn]]:
    """The mark's table and columns, where the release carries it (else nothing)."""
    if not marks_sample(spec, mode):
        return {}
    return {
        TABLE: [
            ReleasedColumn(
                "person_id",
                "VARCHAR",
                "pseudonym of the person (keyed hash, this mode's own)",
                nullable=False,
                protection="pseudonymised",
                pattern=PSEUDONYM_PATTERN,
                is_key=True,
            ),
            ReleasedColumn(
                "in_sample",
                "BOOLEAN",
                "the person is one of those the sample mode draws (true) or not (false)",
                nullable=False,
                protection="none",
            ),
        ]
    }


def write_mark(
    staging: Path,
    spec: Spec,
    population: pl.DataFrame,
    person_ids: pl.DataFrame,
    draw_key: bytes,
    columns: list[ReleasedColumn],
) -> tuple[dict[str, Any], list[Outcome]]:
    """Draw the sample over `population`, validate and write the mark; its manifest entry and
    its validation outcomes."""
    persons = spec.modes[ModeName.SAMPLE].persons
    assert persons is not None  # marks_sample
    # a population smaller than the sample size: the sample export is refused, nobody is drawn
    drawn = (
        population.clear()
        if population.height < persons
        else draw_sample(population, draw_key, persons)
    )
    frame = in_sample(person_ids, drawn)
    outcomes = validate_panel(TABLE, frame, panel_checks(columns, None, True))
    path = staging / f"{TABLE}.parquet"
    table = frame.to_arrow()
    writer = RowGroupWriter(path, table.schema)
    writer.write(table)
    writer.close()
    entry = {"rows": frame.height, "persons": frame.height, "sha256": sha256_file(path)}
    return entry, outcomes
