"""Prefect deployments: the yearly delivery of every spec that schedules one, daily retention,
and the review of disclosures and consultations as often as its setting says.

`rex serve` serves them; their schedules fire only against a running Prefect server (see the
README). Times are Europe/Brussels: the deliberations' deadlines are Belgian days.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow
from prefect.schedules import Cron

from flows.runtime.settings import SPECS_DIR, Paths, ReviewSchedule, quiet_libraries
from flows.schedule.retention import retention
from flows.schedule.review import review
from flows.schedule.yearly import scheduled_yearly_extract
from flows.stores import audit, audit_read
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


class ReviewFoundViolations(RuntimeError):
    """A scheduled review found disclosures or consultations that break a rule (or a damaged
    log): the flow run fails, so that the schedule shows it."""


@flow(name="scheduled_review", log_prints=False)
def scheduled_review(as_of: str | None = None) -> int:
    """The review's deployment: a random sample of the disclosures and of the consultations up
    to today (or `as_of`), as many as the setting says; the review itself is logged (which
    entries it checked, how many broke a rule), and the run fails if any did."""
    paths = Paths.from_environment()
    quiet_libraries(paths.data)
    schedule = ReviewSchedule.from_environment()
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    total, findings = review(
        paths.audit_log,
        SPECS_DIR,
        schedule.disclosures,
        day,
        consultation_sample=schedule.consultations,
    )
    damaged = [p for p in audit_read.verify(paths.audit_log) if not p.uncommitted]
    violations = sum(not f.ok for f in findings)
    audit.append(
        paths.audit_log,
        "review",
        as_of=day.isoformat(),
        disclosures=total,
        reviewed=[f.seq for f in findings],
        consultations_reviewed=sum(f.kind == "consultation" for f in findings),
        violations=[f.seq for f in findings if not f.ok],
        log_damaged=bool(damaged),
    )
    if violations or damaged:
        raise ReviewFoundViolations(
            f"{violations} of {len(findings)} reviewed entries break a rule"
            + (", and the audit log is damaged" if damaged else "")
            + ": `rex audit review` and `rex audit verify` say which"
        )
    return len(findings)


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
    schedule = ReviewSchedule.from_environment()
    found.append(
        scheduled_review.to_deployment(
            name="consultations",
            schedule=Cron(schedule.cron, timezone=TIMEZONE),
            description="check a random sample of the disclosures and consultations: "
            "authorised, by an allowed operator, requested and tied to a case first",
        )
    )
    return found
