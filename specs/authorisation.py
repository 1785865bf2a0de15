"""The authorisation rule: may this operator make a run of this mode of a spec as of this day?

One rule, used by the runs (flows.extract.authorise.authorise, before anything is read) and by the
review of the audit log (flows.schedule.review, on what each run logged), so that a review judges
a run by the code that allowed it, not by a copy that drifts. Pure: the operator's roles and
declaration, the store's kind and the day the run was made come in as arguments; nothing here
reads the roster, the disk or the clock.
"""

from __future__ import annotations

import datetime as dt

from specs.model import Spec
from specs.modes import ModeName


def run_refusals(
    spec: Spec,
    mode_name: ModeName,
    as_of: dt.date,
    operator: str,
    roles: tuple[str, ...],
    declaration_signed: dt.date | None,
    synthetic_store: bool,
    made_on: dt.date | None = None,
) -> list[str]:
    """Every reason the spec does not allow `operator` (holding `roles`, having signed the
    declaration on honour on `declaration_signed`) a run of `mode_name` as of `as_of` on a
    source store that is `synthetic_store` or not, made on the day `made_on` (None: not
    checked); empty when it is allowed. In the order a run states them (the first is its
    refusal)."""
    reasons = []
    if made_on is not None and as_of > made_on:
        reasons.append(
            f"a run cannot be made as of {as_of}, after today ({made_on}): its rules and its "
            "deadline would count from a day that has not come"
        )
    signed = declaration_signed is not None and declaration_signed <= as_of
    refusal = spec.operator_refusal(operator, roles, signed)
    if refusal is not None:
        reasons.append(refusal)
    mode = spec.modes.get(mode_name)
    if mode is None:
        reasons.append(
            f"deliberation {spec.deliberation} does not authorise the {mode_name.value} mode"
        )
    if not spec.valid.contains(as_of):
        reasons.append(
            f"deliberation {spec.deliberation} allows runs in {spec.valid.describe()}; {as_of} "
            "lies outside that window"
        )
    deadline = mode.deadline(as_of) if mode is not None else None
    if deadline is not None and as_of > deadline:
        reasons.append(
            f"the {mode_name.value} data of deliberation {spec.deliberation} must be deleted by "
            f"{deadline}; no {mode_name.value} run is allowed on {as_of}"
        )
    if spec.in_force is not None and not spec.in_force.in_force(as_of):
        since = spec.in_force.since
        status = f"takes effect on {since}" if since else "has not taken effect"
        if not synthetic_store:
            reasons.append(
                f"deliberation {spec.deliberation} is not in force on {as_of} (its regulation "
                f"{status}): only synthetic test data may be processed, and this source store "
                "is not synthetic"
            )
        if as_of > spec.in_force.test_data_delete_by:
            reasons.append(
                f"test runs of deliberation {spec.deliberation} ended on "
                f"{spec.in_force.test_data_delete_by}; its regulation {status}"
            )
    return reasons
