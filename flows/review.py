"""The periodic review of disclosures (16/046 points 9, 15-16): a random sample of the releases in
the audit log, each checked against the rules that held when it was made.

A disclosure passes when the authorisation covered it (the spec it names still has the same
content, authorises its mode, and allowed a run on its as-of date before the mode's deletion
deadline), when it was made by an operator the spec allows (by login, or by the roles and the
declaration on honour the run logged from the staff roster), and when a
request for the same run was logged before it. The as-of date stands for the moment of the
disclosure: it is the date every rule of the run was evaluated at.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows import audit
from specs.load import SpecError, load_spec, spec_digest
from specs.model import ModeName, Spec

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
    # what kind of disclosure it was, where not a run's own release (a steward's, say)
    note: str = ""

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


def check(entry: dict[str, Any], entries: list[dict[str, Any]], specs_dir: Path) -> Finding:
    """Every rule the disclosure in `entry` had to meet, and which it did not."""
    violations = []
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
        day = dt.date.fromisoformat(entry["as_of"])
        mode = spec.modes.get(ModeName(entry["mode"]))
        if "spec_sha256" not in entry:
            violations.append("the entry does not record which version of the spec was used")
        elif entry["spec_sha256"] != spec_digest(spec_path):
            violations.append("the spec has changed since the run: its coverage is unproven")
        if mode is None:
            violations.append(f"deliberation {spec.deliberation} has no {entry['mode']} mode")
        elif (deadline := spec.run_deadline(mode, day)) is not None and day > deadline:
            violations.append(f"made after the deletion deadline {deadline}")
        if not spec.valid.contains(day):
            violations.append(f"made on {day}, outside the validity window {spec.valid.describe()}")
        signed = entry.get("declaration_signed")
        refusal = spec.operator_refusal(
            str(entry.get("actor")),
            tuple(entry.get("roles") or ()),
            signed is not None and dt.date.fromisoformat(signed) <= day,
        )
        if refusal is not None and not entry.get("steward_release"):
            violations.append(refusal)
        if entry.get("steward_release"):
            violations += _steward_violations(entry, spec)
    return Finding(
        seq=entry["seq"],
        deliberation=str(entry.get("deliberation", "?")),
        mode=str(entry.get("mode", "?")),
        as_of=str(entry.get("as_of", "?")),
        actor=str(entry.get("actor", "?")),
        violations=tuple(violations),
        note=(
            f"withheld analysis output {entry['steward_release']!r} released by a steward: "
            f"{entry.get('release_reason')}"
            if entry.get("steward_release")
            else ""
        ),
    )


def review(
    log: Path, specs_dir: Path, sample: int, as_of: dt.date, seed: int | None = None
) -> tuple[int, list[Finding]]:
    """The number of disclosures up to `as_of`, and the findings on a random sample of them.

    A damaged log is reviewed as far as it can be read (a line that is no entry is skipped);
    the damage itself is for `audit.verify` to report, which the command line does."""
    entries = audit.scan(log).entries
    candidates = disclosures(entries, as_of)
    drawn = random.Random(seed).sample(candidates, min(sample, len(candidates)))
    return len(candidates), [check(e, entries, specs_dir) for e in sorted(drawn, key=_seq)]


def _seq(entry: dict[str, Any]) -> int:
    return int(entry["seq"])


def _steward_violations(entry: dict[str, Any], spec: Spec) -> list[str]:
    """A withheld analysis output released by hand: by a holder of a steward role the spec
    names (the roles the release logged from the roster), with a written reason."""
    onprem = spec.modes.get(ModeName.ONPREM)
    stewards = () if onprem is None or onprem.analysis is None else onprem.analysis.steward_roles
    found = []
    if not set(entry.get("roles") or ()) & set(stewards):
        found.append(
            f"withheld output {entry['steward_release']!r} released by "
            f"{entry.get('actor')!r}, who held no steward role of deliberation {spec.deliberation}"
        )
    if not str(entry.get("release_reason") or "").strip():
        found.append(f"withheld output {entry['steward_release']!r} released without a reason")
    return found
