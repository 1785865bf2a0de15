"""Who runs and under which spec: the authorisation of a run, the spec as delivered on its day,
and what the log entries and the manifest say of both."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version
from pathlib import Path
from typing import Any

from flows.extract.errors import AuthorisationError
from flows.runtime.settings import Paths
from flows.stores.roster import StaffMember, load_roster, login, roster_digest
from specs.authorisation import run_refusals
from specs.load import spec_digest
from specs.model import Spec
from specs.modes import Mode, ModeName


def spec_context(spec: Spec, spec_path: Path) -> dict[str, Any]:
    """What a run's log entries say of its authorisation: the spec's version and its parties."""
    return {
        "spec_sha256": spec_digest(spec_path),
        "deliberation": spec.deliberation,
        "recipient": spec.recipient,
        "purpose": spec.purpose,
    }


def manifest_header(spec: Spec, spec_path: Path, mode_name: ModeName) -> dict[str, Any]:
    """The first lines of a manifest: what made it, under which spec, for whom, in which mode."""
    return {
        "rex_version": version("rex"),
        "deliberation": spec.deliberation,
        "title": spec.title,
        "project": spec.project,
        "recipient": spec.recipient,
        "purpose": spec.purpose,
        "spec": {"file": spec_path.name, "sha256": spec_digest(spec_path)},
        "mode": mode_name.value,
    }


def operator_context(paths: Paths) -> tuple[str, StaffMember, dict[str, Any]]:
    """Who runs, their roster entry, and what the access rule is checked against (logged, so
    that a review can check it again)."""
    operator = login()
    staff = load_roster(paths.roster).member(operator)
    return (
        operator,
        staff,
        {
            "roster_sha256": roster_digest(paths.roster),
            "roles": list(staff.roles),
            "declaration_signed": staff.declaration_signed and staff.declaration_signed.isoformat(),
        },
    )


def release_folder(
    paths: Paths, spec: Spec, mode: ModeName, as_of: dt.date, request: str | None = None
) -> Path:
    """Where a run's release goes; `request` tells apart the answers to several lists of
    persons on one day (a keyed digest of the list, so that the name reveals nobody)."""
    # Sample and control deliveries leave the building; the on-premise build stays in.
    base = paths.releases if mode.leaves_premises else paths.onprem
    name = f"{spec.deliberation.replace('/', '-')}_{mode.value}_{as_of.isoformat()}"
    if request is not None:
        name += f"_request-{request}"
    return base / spec.project / name


def authorise(
    spec: Spec,
    mode_name: ModeName,
    as_of: dt.date,
    operator: str,
    synthetic_store: bool,
    staff: StaffMember | None = None,
    today: dt.date | None = None,
) -> Mode:
    """The mode as this run gets it, if the spec allows `operator` (with the roles and declaration
    the roster records as `staff`) a run of it on `as_of` on this store; else AuthorisationError.

    The mode comes back with this run's deadline in `delete_by` (None: kept for the whole
    career); a test run, before the spec is in force, gets the test deadline.
    """
    staff = staff or StaffMember()
    reasons = run_refusals(
        spec,
        mode_name,
        as_of,
        operator,
        staff.roles,
        staff.declaration_signed,
        synthetic_store,
        made_on=today,
    )
    if reasons:
        raise AuthorisationError(reasons[0])
    mode = spec.modes[mode_name]
    deadline = spec.run_deadline(mode, as_of)
    return mode.model_copy(
        update={"delete_by": deadline, "keep_months": None, "keep_whole_career": deadline is None}
    )


def is_test_run(spec: Spec, as_of: dt.date) -> bool:
    """A run before the spec's regulation took effect: synthetic data, for tests only."""
    return spec.in_force is not None and not spec.in_force.in_force(as_of)


def delivered_spec(spec: Spec, as_of: dt.date) -> Spec:
    """The spec with the period a run as of `as_of` delivers (see specs.model.Delivery)."""
    try:
        return spec.as_delivered(as_of)
    except ValueError as error:
        raise AuthorisationError(f"deliberation {spec.deliberation}: {error}") from None


def population_statement(spec: Spec) -> dict[str, str]:
    """The population in the deliberation's words and in words generated from the spec's
    expression, for the manifest and the codebook."""
    return {
        "description": spec.population.description,
        "in_words": spec.population_in_words(),
    }
