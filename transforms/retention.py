"""Retention: what must go, as of a date, and why.

The rule of the deliberations (18/088 point 17, 19/104 point 15, 13/021 point 34): data is
deleted by its mode's deadline; a recipient whose authorisation was withdrawn must destroy what
it holds at once (18/088 point 2); a project's key is shredded once every piece of its data is
past its deadline, after which its pseudonyms can never be recomputed. The audit log is never
deleted here: it is kept at least ten years.

Pure: the holdings, the deadlines and the date come in; the plan goes out. Nothing here looks at
the clock or the disk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from specs.values import add_months


class Action(StrEnum):
    DELETE = "delete"  # a folder we hold: remove it
    ATTEST = "attest"  # a delivery a recipient holds: ask for a destruction attestation
    SHRED_KEY = "shred_key"  # a project key: overwrite and remove it
    # a consultation's detail record (its case, its persons): delete it, the chain stays
    DELETE_CONSULTATION = "delete_consultation"


@dataclass(frozen=True)
class Holding:
    """Something kept under a deliberation: a release or workspace folder we hold, or the copy
    of a release that its recipient holds."""

    project: str
    deliberation: str
    mode: str
    recipient: str
    delete_by: dt.date | None  # None: kept for the whole career of the persons concerned
    path: str  # where we hold it (or held it, for a recipient's copy)
    ours: bool  # False: the recipient's copy of a delivery


@dataclass(frozen=True)
class Step:
    action: Action
    project: str
    target: str
    reason: str


def plan(
    holdings: Iterable[Holding],
    project_deadlines: Mapping[str, dt.date | None],
    revoked: Mapping[str, dt.date],
    keys: Iterable[str],
    as_of: dt.date,
    leftovers: Iterable[tuple[str, str]] = (),
) -> list[Step]:
    """Every step retention must take on `as_of`, deletions first, key shredding last.

    `project_deadlines`: per project, the last deadline of any mode of any spec that uses its
    key (data a spec may still produce keeps the key alive; None: data kept for a whole career,
    which keeps the key for good). `revoked`: recipients whose
    authorisation was withdrawn, with the day it was. `keys`: projects whose key exists.
    `leftovers`: (project, folder) of intermediate data that runs which stopped left behind;
    nothing was published from them, and they go whatever the deadline.
    """
    steps: list[Step] = [
        Step(Action.DELETE, project, folder, "intermediate data of a run that did not finish")
        for project, folder in sorted(leftovers)
    ]
    holdings = list(holdings)
    for h in sorted(holdings, key=lambda h: (h.project, h.path, h.ours)):
        revoked_on = revoked.get(h.recipient)
        if h.delete_by is not None and as_of > h.delete_by:
            reason = f"{h.deliberation} {h.mode} data, to be deleted by {h.delete_by}"
        elif not h.ours and revoked_on is not None and as_of >= revoked_on:
            reason = (
                f"{h.deliberation} {h.mode} data held by {h.recipient}, whose authorisation was "
                f"withdrawn on {revoked_on}"
            )
        else:
            continue
        steps.append(Step(Action.DELETE if h.ours else Action.ATTEST, h.project, h.path, reason))
    for project in sorted(set(keys)):
        deadlines = [h.delete_by for h in holdings if h.project == project]
        if project in project_deadlines:
            deadlines.append(project_deadlines[project])
        # A key no spec knows is left alone: it may belong to a project whose spec is not
        # written yet, and a shredded key cannot be brought back. Nor is a key whose data may
        # be kept for a whole career (no deadline by date).
        dated = [d for d in deadlines if d is not None]
        if dated and len(dated) == len(deadlines) and as_of > max(dated):
            steps.append(
                Step(
                    Action.SHRED_KEY,
                    project,
                    project,
                    f"every deadline of the project's data has passed (the last: {max(dated)})",
                )
            )
    return steps


@dataclass(frozen=True)
class ConsultationTerm:
    """How long the consultation records of one mode of one spec are kept (its
    `consultation_log`), and the project they belong to."""

    project: str
    deliberation: str
    keep_months: int


def consultation_steps(
    details: Iterable[tuple[str, str, str, dt.date]],
    terms: Mapping[tuple[str, str], ConsultationTerm],
    as_of: dt.date,
) -> list[Step]:
    """The consultation records due on `as_of` (16/046 point 17: kept only as long as needed).

    `details`: (record name, spec file, mode, day it was made) of each record held; `terms`:
    per (spec file, mode), its term. A record whose spec or mode gives no term is kept: nothing
    is deleted that no rule says is due.
    """
    steps = []
    for name, spec, mode, made_on in sorted(details):
        term = terms.get((spec, mode))
        if term is None:
            continue
        due = add_months(made_on, term.keep_months)
        if as_of > due:
            reason = (
                f"{term.deliberation} consultation of {made_on}: its case and persons are kept "
                f"{term.keep_months} months, to {due}"
            )
            steps.append(Step(Action.DELETE_CONSULTATION, term.project, name, reason))
    return steps
