"""Person-level output, refused whatever its form (18/088 point 12: only anonymous results leave).

An output is person-level when it names persons (a column holding pseudonyms of the workspace's
persons) or when its cells are persons (every cell that holds anybody holds exactly one person:
a row per person, or one person's exact value). Neither is repaired by suppressing cells: the
whole output is withheld. Cells of one person among many others are the cell rules' to suppress
(transforms.output_checks).
"""

from __future__ import annotations

import polars as pl

from transforms.output_checks import PERSONS


def pseudonym_columns(frame: pl.DataFrame, person_ids: pl.Series) -> dict[str, int]:
    """Per text column of `frame` that holds any of `person_ids`, how many of its values do."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text or person_ids.is_empty():
        return {}
    found = frame.select(
        pl.col(name).is_in(person_ids.implode()).sum().alias(name) for name in text
    ).row(0, named=True)
    return {name: int(hits) for name, hits in found.items() if hits}


def cells_are_persons(cells: pl.DataFrame) -> bool:
    """Whether every cell that holds anybody holds exactly one person."""
    held = cells.filter(pl.col(PERSONS) > 0)
    return not held.is_empty() and bool((held[PERSONS] == 1).all())
