"""The codebook of a release: every column, its meaning, type, unit, codes or classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specs.catalog import PANELS, VARIABLES
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
    if column.protection == "classes" and column.allowed:
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
