"""Prefect deployments: the yearly delivery of every spec that schedules one, and daily retention.

`rex serve` serves them; their schedules fire only against a running Prefect server (see the
README). Times are Europe/Brussels: the deliberations' deadlines are Belgian days.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow
from prefect.schedules import Cron

from flows.retention import retention
from flows.settings import SPECS_DIR, Paths, quiet_libraries
from flows.yearly import scheduled_yearly_extract
from specs.load import load_spec

TIMEZONE = "Europe/Brussels"
RETENTION_CRON = "30 2 * * *"  # daily, at night, before anybody runs an extract


@flow(name="scheduled_retention", log_prints=False)
def scheduled_retention(as_of: str | None = None) -> int:
    """The deployment's entry point: paths from the environment, as of today unless given."""
    paths = Paths.from_environment()
    quiet_libraries(paths.data)
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    return sum(o.done for o in retention(paths, SPECS_DIR, day))


def deployments(specs_dir: Path = SPECS_DIR) -> list:
    """One yearly deployment per spec with a delivery schedule, and the daily retention run."""
    found = []
    for path in sorted(specs_dir.glob("*.yaml")):
        spec = load_spec(path)
        if spec.delivery is None:
            continue
        found.append(
            scheduled_yearly_extract.to_deployment(
                name=f"{path.stem}-yearly",
                schedule=Cron(spec.delivery.cron, timezone=TIMEZONE),
                parameters={"spec_file": path.name},
                description=f"yearly delivery of deliberation {spec.deliberation} to "
                f"{spec.recipient}",
            )
        )
    found.append(
        scheduled_retention.to_deployment(
            name="daily",
            schedule=Cron(RETENTION_CRON, timezone=TIMEZONE),
            description="delete what is past its deadline, shred spent keys",
        )
    )
    return found
