"""The retention flow: as of a date, delete what is past its deadline, shred spent keys, and list
the deliveries whose recipients must attest their destruction.

What is held is read off the disk (every release and workspace carries its manifest, with its
deadline and recipient); the deadlines that keep a key alive and the withdrawn recipients are read
off the specs. The plan itself is the pure rule of transforms.retention.

A deletion first renames the folder to a `.deleting-` tombstone beside it (one atomic step, so
the folder stops counting as a release at once), then removes the tombstone. A deletion that
stops half-way (a locked file, a crash) leaves the tombstone, and the next run finishes it before
anything else. A deletion is logged only once the folder is verifiably gone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from prefect import flow

from flows.release import verify
from flows.release.manifest import Manifest
from flows.runtime.settings import Paths
from flows.stores import audit, audit_files, audit_read, consultations, keys
from specs.load import SpecError, load_spec
from specs.model import Spec
from specs.refusal import Refusal
from transforms.retention import (
    Action,
    ConsultationTerm,
    Holding,
    Step,
    consultation_steps,
    plan,
)

TOMBSTONE = ".deleting-"
# A staging folder untouched this long belongs to a run that stopped: intermediate data.
STALE_STAGING_SECONDS = 24 * 3600


class RetentionError(Refusal, RuntimeError):
    """Something that had to be deleted could not be; the message says what and why."""


@dataclass(frozen=True)
class Outcome:
    step: Step
    done: bool
    detail: str = ""


def load_specs(specs_dir: Path) -> list[Spec]:
    """Every spec in the folder; one that cannot be read stops retention (its deadlines matter)."""
    specs = []
    for path in sorted(specs_dir.glob("*.yaml")):
        try:
            specs.append(load_spec(path))
        except SpecError as error:
            raise RetentionError(f"retention needs every spec's deadlines: {error}") from None
    return specs


def holdings(paths: Paths) -> list[Holding]:
    """Every release and workspace on disk, and the recipient's copy of each delivered release."""
    found = []
    for base, delivered in ((paths.releases, True), (paths.onprem, False)):
        for manifest_path in sorted(base.glob("*/*/manifest.json")):
            if manifest_path.parent.name.startswith("."):
                continue
            manifest = Manifest.read(manifest_path)
            theirs = Holding(
                project=manifest.project,
                deliberation=manifest.deliberation,
                mode=manifest.mode,
                recipient=manifest.recipient,
                delete_by=manifest.delete_by,
                path=str(manifest_path.parent),
                ours=False,
            )
            if delivered:
                found.append(theirs)
                # our copy of a delivery may have a shorter term than the recipient's
                found.append(replace(theirs, delete_by=manifest.our_copy_deadline, ours=True))
            else:
                found.append(replace(theirs, ours=True))
    found += analysis_run_holdings(paths)
    return found


def analysis_run_holdings(paths: Paths) -> list[Holding]:
    """The folders of analysis runs (flows.analysis.run): what the code printed and wrote before it
    was checked is on-premise data, deleted with the workspace's deadline."""
    found = []
    for record_path in sorted(paths.analysis_runs.glob("*/*/run.json")):
        if record_path.parent.name.startswith("."):  # a run being deleted (a tombstone)
            continue
        record = json.loads(record_path.read_text())
        found.append(
            Holding(
                project=record["project"],
                deliberation=record["deliberation"],
                mode=f"{record['mode']} analysis run",
                recipient=record["recipient"],
                delete_by=record["delete_by"] and dt.date.fromisoformat(record["delete_by"]),
                path=str(record_path.parent),
                ours=True,
            )
        )
    return found


def leftovers(paths: Paths, now: float | None = None) -> list[tuple[str, str]]:
    """Staging folders of runs that stopped without publishing or cleaning up: hidden folders
    beside the releases, untouched for STALE_STAGING_SECONDS (a run in progress writes to its
    own all the time)."""
    now = time.time() if now is None else now
    return [
        (folder.parent.name, str(folder))
        for base in (paths.releases, paths.onprem)
        for folder in sorted(base.glob("*/.*"))
        if folder.is_dir()
        and not folder.name.startswith(TOMBSTONE)
        and now - folder.stat().st_mtime > STALE_STAGING_SECONDS
    ]


def retention_plan(paths: Paths, specs_dir: Path, as_of: dt.date) -> list[Step]:
    """What retention would do on `as_of`, without doing anything."""
    specs = load_specs(specs_dir)
    project_deadlines: dict[str, dt.date | None] = {}
    for spec in specs:
        last = spec.last_deadline()
        known = project_deadlines.get(spec.project, last)
        both = None if last is None or known is None else max(last, known)
        project_deadlines[spec.project] = both
    revoked = {r.name: r.since for spec in specs for r in spec.revoked_recipients}
    steps = plan(
        holdings(paths),
        project_deadlines,
        revoked,
        keys.projects_with_keys(paths.key_store),
        as_of,
        leftovers(paths),
    )
    held = [
        (d.name, d.spec, d.mode, d.made_on) for d in consultations.held_details(paths.audit_log)
    ]
    consultations_due = consultation_steps(held, consultation_terms(specs_dir), as_of)
    # key shredding stays last: nothing after it may need the key
    shredding = [s for s in steps if s.action is Action.SHRED_KEY]
    return [s for s in steps if s.action is not Action.SHRED_KEY] + consultations_due + shredding


def consultation_terms(specs_dir: Path) -> dict[tuple[str, str], ConsultationTerm]:
    """Per (spec file, mode), how long its consultation records are kept."""
    terms = {}
    for path in sorted(specs_dir.glob("*.yaml")):
        try:
            spec = load_spec(path)
        except SpecError as error:
            raise RetentionError(f"retention needs every spec's deadlines: {error}") from None
        for name, mode in spec.modes.items():
            if mode.consultation_log is not None:
                terms[(path.name, name.value)] = ConsultationTerm(
                    spec.project, spec.deliberation, mode.consultation_log.keep_months
                )
    return terms


def tombstones(paths: Paths) -> list[Path]:
    """Deletions an earlier run began and did not finish."""
    return sorted(
        p
        for base in (paths.releases, paths.onprem, paths.analysis_runs)
        for p in base.glob(f"*/{TOMBSTONE}*")
    )


FINISHING = "finishing a deletion that an earlier retention run began"


def _empty(folder: Path) -> None:
    """Remove everything inside a folder, and check that it is empty."""
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if any(folder.iterdir()):
        raise RetentionError(f"{folder} is not empty after its contents were removed")


def delete_folder(folder: Path, record: Callable[[], object] | None = None) -> None:
    """Remove a folder through a tombstone, so that a stop half-way is finished next time.

    `record` logs the deletion once the contents are verifiably gone; the empty tombstone is
    removed only after that. A deletion that could not be logged (the log cannot be written)
    therefore leaves its empty tombstone, and the next run, finishing it, logs it: the data goes
    on time, and no deletion goes unlogged.
    """
    tombstone = folder.with_name(TOMBSTONE + folder.name)
    folder.rename(tombstone)
    _empty(tombstone)
    if folder.exists():
        raise RetentionError(f"{folder} still exists after its deletion")
    if record is not None:
        record()
    tombstone.rmdir()


def _not_logged(error: audit_files.AuditLogError) -> str:
    return f"the audit log cannot take the entry, so it is kept for the next run: {error}"


def apply(paths: Paths, specs_dir: Path, as_of: dt.date) -> list[Outcome]:
    """Carry out the plan of `as_of`; every deletion, shredding and attestation is logged.

    The deadlines come from the manifests and the specs, not from the log, so a damaged log
    does not stop retention: it goes on in a fresh segment whose first entry records the
    damage (flows.stores.audit). A log that cannot be written at all (a full disk) does not stop the
    deletions either; each leaves its empty tombstone, logged by the next run that can, while
    attestations and key shredding, which are nothing but their entry or cannot be undone,
    wait for a log that takes them.
    """
    log = paths.audit_log
    read = audit_read.scan(log)
    log_error: audit_files.AuditLogError | None = None
    if read.current_is_damaged:
        try:
            audit.open_segment(log, read.problems)
        except audit_files.AuditLogError as error:
            log_error = error
    outcomes = []

    def logged(event: str, **fields: object) -> None:
        nonlocal log_error
        try:
            audit.append(log, event, **fields, as_of=as_of.isoformat())
        except audit_files.AuditLogError as error:
            log_error = error
            raise

    for tombstone in tombstones(paths):
        target = str(tombstone.with_name(tombstone.name.removeprefix(TOMBSTONE)))
        step = Step(Action.DELETE, tombstone.parent.name, target, FINISHING)
        try:
            _empty(tombstone)
            logged("deletion", target=target, reason=FINISHING)
            tombstone.rmdir()
        except audit_files.AuditLogError as error:
            outcomes.append(Outcome(step, False, f"deleted; {_not_logged(error)}"))
            continue
        except OSError as error:
            detail = f"{type(error).__name__}: {audit_files.reason_of(error)}"
            with contextlib.suppress(audit_files.AuditLogError):  # reported with the outcome
                logged("deletion_failed", target=target, reason=detail)
            outcomes.append(Outcome(step, False, detail))
            continue
        outcomes.append(Outcome(step, True, "an earlier run had begun it"))
    for tombstone in consultations.detail_tombstones(log):
        name = tombstone.name.removeprefix(consultations.TOMBSTONE)
        step = Step(Action.DELETE_CONSULTATION, "", name, FINISHING)
        try:
            consultations.finish_deletion(
                tombstone,
                functools.partial(
                    logged, consultations.DELETED_EVENT, detail=name, reason=FINISHING
                ),
            )
        except audit_files.AuditLogError as error:
            outcomes.append(Outcome(step, False, f"deleted; {_not_logged(error)}"))
            continue
        except OSError as error:
            outcomes.append(
                Outcome(step, False, f"{type(error).__name__}: {audit_files.reason_of(error)}")
            )
            continue
        outcomes.append(Outcome(step, True, "an earlier run had begun it"))
    # A damaged line may hide an attestation asked for already: asked twice beats never.
    already_due = {e.get("target") for e in read.entries if e.get("event") == "attestation_due"}
    failed_projects: set[str] = set()
    for step in retention_plan(paths, specs_dir, as_of):
        detail = ""
        if step.action is Action.SHRED_KEY and step.project in failed_projects:
            outcomes.append(Outcome(step, False, "kept: some of its data could not be deleted"))
            continue
        if step.action is Action.SHRED_KEY and log_error is not None:
            outcomes.append(Outcome(step, False, f"kept: {_not_logged(log_error)}"))
            continue
        try:
            if step.action is Action.DELETE:
                detail = verify.before_deletion(Path(step.target)) or ""  # said while it is there
                altered = {"altered": detail} if detail else {}
                delete_folder(
                    Path(step.target),
                    functools.partial(
                        logged, "deletion", target=step.target, reason=step.reason, **altered
                    ),
                )
            elif step.action is Action.DELETE_CONSULTATION:
                consultations.delete_detail(
                    log,
                    step.target,
                    functools.partial(
                        logged, consultations.DELETED_EVENT, detail=step.target, reason=step.reason
                    ),
                )
            elif step.action is Action.ATTEST and step.target in already_due:
                outcomes.append(Outcome(step, True, "already asked for"))
                continue
            elif step.action is Action.ATTEST:
                logged("attestation_due", target=step.target, reason=step.reason)
            else:
                printed = keys.shred_key(paths.key_store, step.project, as_of.isoformat())
                logged(
                    "key_shredded",
                    project=step.project,
                    key_fingerprint=printed,
                    reason=step.reason,
                )
        except audit_files.AuditLogError as error:
            failed_projects.add(step.project)
            done = "deleted; " if step.action is Action.DELETE else ""
            outcomes.append(Outcome(step, False, done + _not_logged(error)))
            continue
        except OSError as error:
            failed_projects.add(step.project)
            detail = f"{type(error).__name__}: {error.strerror or error}"
            with contextlib.suppress(audit_files.AuditLogError):  # reported with the outcome
                logged("deletion_failed", target=step.target, reason=detail)
            outcomes.append(Outcome(step, False, detail))
            continue
        outcomes.append(Outcome(step, True, detail))
    return outcomes


@flow(name="retention", log_prints=False)
def retention(paths: Paths, specs_dir: Path, as_of: dt.date) -> list[Outcome]:
    """Daily: delete what is past its deadline, shred spent keys, list attestations due."""
    return apply(paths, specs_dir, as_of)
