"""The sign-off rule: may an output of an analysis run leave, on the decisions its reviewers
logged?

Nothing leaves on the automatic checks alone (OpenSAFELY's Airlock: output checkers review every
file). Each output needs the approval of `approvals` different persons holding a role the spec's
`analysis.reviewer_roles` names, none of them the author of the run (whoever ran the code),
each approving the very bytes that were checked (by sha256); a rejection by any reviewer stops
it until that reviewer approves it again. An output the checks withheld, or could not check,
is approved only with a written reason; person-level output is never approved.

One rule, used by the decisions and the release (flows.analysis.signoff) and by the periodic
review of the audit log (flows.schedule.review, on the decisions logged before each release), so
that a review judges a release by the code that allowed it. Pure: the decisions come in as
logged entries; nothing here reads the roster, the disk or the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from specs.modes import AnalysisRuns

APPROVAL = "approval"
REJECTION = "rejection"
DECISIONS = frozenset({APPROVAL, REJECTION})
# a written reason says why in words, not in a letter or two
MIN_REASON_CHARACTERS = 20
MIN_REASON_WORDS = 3


@dataclass(frozen=True)
class Decision:
    """One reviewer's logged decision on one output of a run."""

    seq: int
    actor: str
    roles: tuple[str, ...]
    approve: bool
    output: int
    sha256: str
    reason: str


@dataclass(frozen=True)
class SignOff:
    """Where an output stands: who approved the bytes that were checked (their decisions'
    entries), who rejects them, how many approvals it still lacks."""

    approved_in: tuple[int, ...]
    rejected_by: int
    missing: int

    @property
    def released(self) -> bool:
        return not self.rejected_by and not self.missing

    def why_not(self) -> str:
        if self.rejected_by:
            return f"rejected by {self.rejected_by} reviewer(s)"
        if self.missing:
            return f"awaiting {self.missing} more approval(s)"
        return ""


def decisions(entries: Iterable[Mapping[str, Any]], run: str) -> list[Decision]:
    """The decisions logged on the outputs of `run`, in the log's order."""
    return [
        Decision(
            seq=int(e["seq"]),
            actor=str(e.get("actor")),
            roles=tuple(e.get("roles") or ()),
            approve=e["event"] == APPROVAL,
            output=int(e["output"]),
            sha256=str(e.get("sha256")),
            reason=str(e.get("reason") or ""),
        )
        for e in entries
        if e.get("event") in DECISIONS and e.get("run") == run and "output" in e
    ]


def sign_off(
    output: int, sha256: str, logged: Iterable[Decision], rules: AnalysisRuns, author: str
) -> SignOff:
    """Where output `output` (whose checked bytes have `sha256`) of a run made by `author`
    stands on the `logged` decisions: each reviewer's latest decision on it counts, and an
    approval counts only for the bytes it named, from a holder of a reviewer role who is not
    the author."""
    latest: dict[str, Decision] = {}
    for decision in logged:
        if decision.output == output:
            latest[decision.actor] = decision
    counted = [
        d for d in latest.values() if d.actor != author and set(d.roles) & set(rules.reviewer_roles)
    ]
    approvals = tuple(sorted(d.seq for d in counted if d.approve and d.sha256 == sha256))
    rejections = sum(not d.approve for d in counted)
    return SignOff(approvals, rejections, max(0, rules.approvals - len(approvals)))


def reason_refusal(reason: str) -> str | None:
    """Why `reason` is no written reason (None: it is one)."""
    if len(reason.strip()) < MIN_REASON_CHARACTERS or len(set(reason.split())) < MIN_REASON_WORDS:
        return (
            f"a written reason is needed (a sentence of at least {MIN_REASON_CHARACTERS} "
            "characters saying why)"
        )
    return None


def decision_refusal(
    actor: str,
    roles: tuple[str, ...],
    author: str,
    approve: bool,
    reason: str,
    reason_needed: bool,
    rules: AnalysisRuns,
    deliberation: str,
) -> str | None:
    """Why `actor` (holding `roles`) may not log this decision on an output of a run made by
    `author` (None: they may). A rejection always needs a written reason; an approval does where
    `reason_needed` (the checks withheld the output, or could not check it)."""
    if not set(roles) & set(rules.reviewer_roles):
        return (
            f"{actor!r} holds none of the roles that review the outputs of deliberation "
            f"{deliberation} ({', '.join(rules.reviewer_roles)}; roles are held in the staff "
            "roster)"
        )
    if actor == author:
        return f"{actor!r} ran this code: its outputs are reviewed by others"
    if not approve or reason_needed:
        return reason_refusal(reason)
    return None
