"""What a run reads of its sources for the panels a spec asks for: the tables
(`source_tables`) and, of each, the columns (`source_columns`), so that a run materialises only
those (DMFA's occupation lines have over a hundred columns, of which a spec reads a few)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from specs.catalog import VARIABLES, FromSource
from specs.sources import SOURCE_TABLES
from transforms import panels
from transforms.panels import CAREER, MESSAGES, OCCUPATIONS, PERSONS


def source_tables(names: Mapping[str, Sequence[str]]) -> set[str]:
    """Every source table `build_panels` reads for the variables `names` asks for (by panel),
    the register's persons (the population's birth and death dates) included."""
    tables = {PERSONS}
    for panel, requested in names.items():
        if not requested:
            continue
        variables = [VARIABLES[n] for n in requested]
        if panel == "month":
            tables |= set(panels.MONTH_SOURCES) | panels.attached_tables(variables)
        elif panel == "quarter":
            tables |= set(panels.QUARTER_SOURCES) | panels.attached_tables(variables)
        elif panel == "quarter_job":
            tables.add(OCCUPATIONS)
        elif panel == "a052":
            tables.add(MESSAGES)
        elif panel == "year":
            tables.add(CAREER)
        else:
            raise ValueError(f"no builder for panel {panel!r}")
    return tables


# The columns of the tables without validity dates that each panel's own SQL reads, beside
# the columns its variables' expressions read (`s.<column>`). A run keeps only these of those
# tables (DMFA's occupation lines have over a hundred columns, of which a spec reads a few):
# `source_columns`. Spell tables are kept whole: their lookups break ties on every column.
_READ_BY_PANEL: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "month": {OCCUPATIONS: ("insz", "occupation_start", "occupation_end")},
        "quarter": {
            OCCUPATIONS: (
                *("insz", "quarter", "occupation_start", "occupation_end"),
                *("days_worked", "gross_wage_cents", "importance_code"),
            )
        },
        "quarter_job": {
            OCCUPATIONS: (
                *("insz", "quarter", "occupation_start", "employer_rsz", "local_unit_id"),
                *("joint_committee", "worker_code", "contract_type", "q_hours", "s_hours"),
                *("days_worked", "gross_wage_cents"),
            )
        },
        "a052": {MESSAGES: ("insz", "quarter", "message_number", "message_version")},
        "year": {CAREER: ("insz", "year", "worked_days", "assimilated_days", "employer_rsz")},
    }
)
_COLUMN_OF_ROW = re.compile(r"\bs\.([a-z_][a-z0-9_]*)")


def source_columns(*names: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Per source table `build_panels` reads for the variables `names` asks for (by panel;
    several such mappings read together), the columns it reads, in the table's order: every
    column of a spell table, and of a table without validity dates the person, its period and
    what the panels' SQL and the variables' expressions read."""
    read: dict[str, set[str]] = {}
    for asked in names:
        for table in source_tables(asked):
            read.setdefault(table, set())
        for panel, requested in asked.items():
            if not requested:
                continue
            for table, columns in _READ_BY_PANEL.get(panel, {}).items():
                read[table] |= set(columns)
            for variable in (VARIABLES[n] for n in requested):
                if isinstance(variable.origin, FromSource):
                    found = _COLUMN_OF_ROW.findall(variable.origin.expression)
                    read[variable.origin.table] |= set(found)
    kept = {}
    for key, wanted in sorted(read.items()):
        source = SOURCE_TABLES[key]
        if source.period_column is None:
            kept[key] = tuple(c.name for c in source.columns)
        else:
            wanted |= {"insz", source.period_column}
            kept[key] = tuple(c.name for c in source.columns if c.name in wanted)
    return kept
