"""The periodic review of disclosures (16/046 points 9, 15-16): a random sample of the releases in
the audit log, each checked against the rules that held when it was made.

A disclosure passes when the authorisation covered it (the spec it names still has the same
content, authorises its mode, and allowed a run on its as-of date before the mode's deletion
deadline), when it was made by an operator the spec allows (by login, or by the roles and the
declaration on honour the run logged from the staff roster), and when a
request for the same run was logged before it. The as-of date stands for the moment of the
disclosure: it is the date every rule of the run was evaluated at.

The authorisation is re-checked by the rule the runs apply (specs.authorisation.run_refusals),
on what the run logged: its login, roles and declaration, whether its store was synthetic, and
the day it was made (its entry's time), so a run dated after the day it was made, or a test run
of a spec not in force on real data, is found as the run itself would have refused it.

Consultations (runs of an identified mode, flows.stores.consultations) are drawn too, from a pool of
their own, so that a log full of research releases still has its consultations checked (16/046
point 16: frequent random checks of their lawfulness): each must have had its case reference
logged, with its request, before it, and the same case in its own record.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.stores import audit_files, audit_read, consultations
from specs import signoff
from specs.authorisation import run_refusals
from specs.load import SpecError, load_spec, spec_digest
from specs.model import Spec
from specs.modes import ModeName

DISCLOSURES = frozenset({"release", "rerun"})


@dataclass(frozen=True)
class Finding:
    """The review of one disclosure: the entry it is about and every violation found."""

    seq: int
    deliberation: str
    mode: str
    as_of: str
    actor: str
    violations: tuple[str, ...] = field(default=())
    kind: str = "disclosure"  # or "consultation"
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.violations


def disclosures(entries: list[dict[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    """The logged releases made on or before `as_of`."""
    return [
        e
        for e in entries
        if e.get("event") in DISCLOSURES and dt.date.fromisoformat(e["as_of"]) <= as_of
    ]


def is_consultation(entry: dict[str, Any]) -> bool:
    return consultations.CONSULTATION_FIELD in entry


def _logged_day(value: object) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def _authorisation(entry: dict[str, Any], spec: Any) -> list[str]:
    """The run's authorisation, checked again by the runs' own rule on what the run logged."""
    violations = []
    day = dt.date.fromisoformat(entry["as_of"])
    synthetic = entry.get("synthetic_store")
    if synthetic is None and spec.in_force is not None:
        violations.append("the entry does not record whether its source store was synthetic")
    signed = entry.get("declaration_signed")
    try:
        mode_name = ModeName(entry["mode"])
    except ValueError:
        return [*violations, f"deliberation {spec.deliberation} has no {entry['mode']} mode"]
    return violations + run_refusals(
        spec,
        mode_name,
        day,
        str(entry.get("actor")),
        tuple(entry.get("roles") or ()),
        dt.date.fromisoformat(signed) if signed else None,
        bool(synthetic),
        made_on=_logged_day(entry.get("at")),
    )


def _operator_refusal(entry: dict[str, Any], spec: Any) -> str | None:
    """The operators' rule's refusal of the entry's actor, as run_refusals states it."""
    signed = entry.get("declaration_signed")
    return spec.operator_refusal(
        str(entry.get("actor")),
        tuple(entry.get("roles") or ()),
        signed is not None
        and dt.date.fromisoformat(signed) <= dt.date.fromisoformat(entry["as_of"]),
    )


def _case(
    entry: dict[str, Any], entries: list[dict[str, Any]], position: int, log: audit_files.Log
) -> tuple[list[str], list[str]]:
    """Violations and notes of a consultation's case: logged with its request, before it (the
    entry at `position`); a record deleted by retention since is no violation."""
    request = next(
        (
            e
            for e in entries[:position]
            if e.get("event") == "request" and e.get("run") == entry.get("run")
        ),
        None,
    )
    if request is None or consultations.CASE_FIELD not in request:
        return ["no case reference was logged with its request, before it"], []
    states = {
        s.name: s
        # the states of these two entries' records only (and the deletions that name them)
        for s in consultations.detail_states([request, entry, *_deletions(entries)], log)
        if s.entry in (request["seq"], entry["seq"])
    }
    names = (request[consultations.CASE_FIELD]["detail"], entry["consultation"]["detail"])
    problems = [states[n].problem for n in names if n in states and states[n].problem]
    if problems:
        return [str(p) for p in problems], []
    notes = [str(states[n].note) for n in names if n in states and states[n].note]
    if notes:  # deleted by retention, as its spec says: nothing left to compare
        return [], notes
    case, consulted = (consultations.read_detail(log, n) for n in names)
    if case is None or consulted is None:
        return ["its case records cannot be read"], []
    if case.case_reference != consulted.case_reference or case.run != entry.get("run"):
        return ["its case is not the one logged with its request"], []
    return [], []


def _deletions(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("event") == consultations.DELETED_EVENT]


def check(
    entry: dict[str, Any],
    entries: list[dict[str, Any]],
    specs_dir: Path,
    log: audit_files.Log | None = None,
) -> Finding:
    """Every rule the disclosure in `entry` had to meet, and which it did not; for a
    consultation also its case (its detail records beside `log`)."""
    violations = []
    notes: list[str] = []
    # Before it in the log, by position: a segment opened after damage numbers its entries anew.
    position = next(i for i, e in enumerate(entries) if e is entry)
    requested = any(
        e.get("event") == "request" and e.get("run") == entry.get("run") for e in entries[:position]
    )
    if not entry.get("run") or not requested:
        violations.append("no request for this run was logged before it")
    spec_path = specs_dir / entry.get("spec", "")
    try:
        spec = load_spec(spec_path)
    except SpecError:
        spec = None
        violations.append(f"its authorisation {entry.get('spec')!r} cannot be found or read")
    if spec is not None:
        if "spec_sha256" not in entry:
            violations.append("the entry does not record which version of the spec was used")
        elif entry["spec_sha256"] != spec_digest(spec_path):
            violations.append("the spec has changed since the run: its coverage is unproven")
        authorisation = _authorisation(entry, spec)
        if entry.get("analysis_release"):
            # an analysis run's outputs released by a reviewer, who need not be an operator:
            # the sign-off rule replaces the operators'
            authorisation = [v for v in authorisation if v != _operator_refusal(entry, spec)]
            violations += _signoff_violations(entry, entries[:position], spec)
            notes.append(
                "analysis outputs "
                + ", ".join(str(n) for n in entry.get("released", ()))
                + f" of run {entry.get('run')} released after their sign-off"
            )
        violations += authorisation
    if is_consultation(entry) and log is not None:
        case_violations, case_notes = _case(entry, entries, position, log)
        violations += case_violations
        notes += case_notes
    return Finding(
        seq=entry["seq"],
        deliberation=str(entry.get("deliberation", "?")),
        mode=str(entry.get("mode", "?")),
        as_of=str(entry.get("as_of", "?")),
        actor=str(entry.get("actor", "?")),
        violations=tuple(violations),
        kind="consultation" if is_consultation(entry) else "disclosure",
        notes=tuple(notes),
    )


def review(
    log: audit_files.Log,
    specs_dir: Path,
    sample: int,
    as_of: dt.date,
    seed: int | None = None,
    consultation_sample: int = 0,
) -> tuple[int, list[Finding]]:
    """The number of disclosures up to `as_of`, and the findings on a random sample of them:
    `sample` of the disclosures that are no consultation and `consultation_sample` of the
    consultations, each pool drawn on its own.

    A damaged log is reviewed as far as it can be read (a line that is no entry is skipped);
    the damage itself is for `audit_read.verify` to report, which the command line does."""
    entries = audit_read.scan(log).entries
    candidates = disclosures(entries, as_of)
    draw = random.Random(seed)
    plain = [e for e in candidates if not is_consultation(e)]
    consulted = [e for e in candidates if is_consultation(e)]
    drawn = draw.sample(plain, min(sample, len(plain)))
    drawn += draw.sample(consulted, min(consultation_sample, len(consulted)))
    return len(candidates), [check(e, entries, specs_dir, log) for e in sorted(drawn, key=_seq)]


def counts(entries: list[dict[str, Any]], as_of: dt.date) -> tuple[int, int]:
    """Disclosures that are no consultation, and consultations, up to `as_of`."""
    candidates = disclosures(entries, as_of)
    consulted = sum(is_consultation(e) for e in candidates)
    return len(candidates) - consulted, consulted


def _seq(entry: dict[str, Any]) -> int:
    return int(entry["seq"])


def _signoff_violations(
    entry: dict[str, Any], before: list[dict[str, Any]], spec: Spec
) -> list[str]:
    """An analysis run's outputs released: by a holder of a reviewer role the spec names, each
    output with the approvals the sign-off rule asks, logged before the release, for the bytes
    released (specs.signoff, on the decisions logged before it)."""
    onprem = spec.modes.get(ModeName.ONPREM)
    rules = None if onprem is None else onprem.analysis
    if rules is None:
        return [f"deliberation {spec.deliberation} allows no analysis runs, yet outputs left"]
    found = []
    if not set(entry.get("roles") or ()) & set(rules.reviewer_roles):
        found.append(
            f"outputs of run {entry.get('run')} released by {entry.get('actor')!r}, who held no "
            f"reviewer role of deliberation {spec.deliberation}"
        )
    run = str(entry.get("run"))
    # the author: whoever made the run's own request (the first of the run, an analysis run's)
    author = next(
        (str(e.get("actor")) for e in before if e.get("run") == run and e.get("analysis")), None
    )
    logged = signoff.decisions(before, run)
    sha256 = entry.get("released_sha256") or {}
    for number in entry.get("released", ()):
        standing = signoff.sign_off(
            int(number), str(sha256.get(str(number))), logged, rules, author or ""
        )
        if author is None or not standing.released:
            found.append(
                f"output {number} of run {run} was released without its sign-off "
                f"({standing.why_not() or 'the run itself is not in the log'})"
            )
    return found
