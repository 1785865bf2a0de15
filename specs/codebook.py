"""The codebook of a release: every column, its meaning, type, unit, codes or classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specs.catalog import PANELS, VARIABLES
from specs.protections import AMOUNTS
from specs.release import ReleasedColumn


def codebook(
    panels: dict[str, list[ReleasedColumn]], descriptions: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The codebook as a JSON-ready mapping, panel by panel; `descriptions` of the tables that
    are no panel (the spec's summaries)."""
    descriptions = descriptions or {}
    return {
        panel: {
            "description": PANELS[panel].description if panel in PANELS else descriptions[panel],
            "columns": [_column_entry(column) for column in columns],
        }
        for panel, columns in panels.items()
    }


def _column_entry(column: ReleasedColumn) -> dict[str, Any]:
    variable = VARIABLES.get(column.name)
    entry: dict[str, Any] = {
        "name": column.name,
        "type": column.dtype,
        "meaning": column.description,
        "protection": column.protection,
        "nullable": column.nullable,
    }
    if column.unit:
        entry["unit"] = column.unit
    if variable is not None:
        entry["source"] = variable.source
        entry["deliberation_name"] = column.deliberation_name or variable.deliberation_name
    if column.derived_from is not None:
        # a derived variable says whose protection it takes, or which point lets it go as is
        entry["derived_from"] = column.derived_from
        entry["protection"] = (
            f"none: accepted derivation from {column.derived_from}"
            if column.accepted_derivation
            else f"{column.protection} (as {column.derived_from}, which it is derived from)"
        )
        if column.accepted_derivation:
            entry["accepted_derivation"] = column.accepted_derivation
    if column.protection == AMOUNTS.label and column.allowed:
        entry["classes"] = list(column.allowed)
    elif column.allowed and not column.is_key:
        entry["codes"] = dict(column.allowed)
    if column.pattern:
        entry["pattern"] = column.pattern
    return entry


def codebook_markdown(
    title: str, book: dict[str, Any], population: Mapping[str, str] | None = None
) -> str:
    """The same codebook, for people; `population`: who is in it, in the deliberation's words
    (`description`) and in words generated from the spec's expression (`in_words`)."""
    lines = [f"# Codebook: {title}", ""]
    if population:
        lines += [
            "## population",
            "",
            f"As the deliberation says it: {population['description']}",
            "",
            f"As the spec's expression says it: {population['in_words']}",
            "",
        ]
    for panel, content in book.items():
        lines += [f"## {panel}", "", content["description"], ""]
        lines += [
            "| column | type | meaning | unit | protection | values |",
            "|---|---|---|---|---|---|",
        ]
        for entry in content["columns"]:
            values = entry.get("classes") or [
                f"{k} = {v}" for k, v in entry.get("codes", {}).items()
            ]
            lines.append(
                f"| {entry['name']} | {entry['type']} | {entry['meaning']} | "
                f"{entry.get('unit', '')} | {entry['protection']} | {'; '.join(values)} |"
            )
        lines.append("")
    return "\n".join(lines)


def output_checks_markdown(checks: Mapping[str, Any]) -> str:
    """The rules an analysis run's outputs must pass before they leave (the spec's
    `output_checks`, specs.modes.OutputChecks), for the codebook and the checking report."""
    zeros = "suppressed" if checks["zeros"] == "suppress" else "released"
    rounding = (
        "released as they are"
        if checks["round_counts_to"] == 1
        else f"rounded to the nearest multiple of {checks['round_counts_to']}"
    )
    return "\n".join(
        [
            "## Output checks",
            "",
            "What an analysis run (`rex analyse run`) may take out of the workspace: only files "
            "made with rex's researcher API (`researcher.outputs`), checked cell by cell.",
            "",
            f"- a cell of fewer than {checks['min_persons']} persons is suppressed;",
            f"- a count of zero is {zeros};",
            f"- a sum or mean is suppressed if its {checks['dominance_n']} largest contributions "
            f"exceed {checks['dominance_k']:g} of its total ((n, k) rule), or if its total less "
            f"its two largest contributions is below {checks['p_ratio']:g} of the largest "
            "(p-ratio rule);",
            f"- counts are {rounding};",
            f"- model estimates need {checks['min_persons']} persons and as many residual "
            "degrees of freedom;",
            "- a plot leaves only if every table it is drawn from leaves with no cell suppressed;",
            "- person-level output (a column of pseudonyms, a row per person, one person's value) "
            "and any file written otherwise are withheld.",
            "",
        ]
    )
