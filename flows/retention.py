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

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow

from flows import audit, keys, verify
from flows.settings import Paths
from specs.load import SpecError, load_spec
from specs.model import Spec
from transforms.retention import Action, Holding, Step, plan

TOMBSTONE = ".deleting-"
# A staging folder untouched this long belongs to a run that stopped: intermediate data.
STALE_STAGING_SECONDS = 24 * 3600


class RetentionError(RuntimeError):
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
            manifest = json.loads(manifest_path.read_text())
            common = dict(
                project=manifest["project"],
                deliberation=manifest["deliberation"],
                mode=manifest["mode"],
                recipient=manifest["recipient"],
                delete_by=manifest["delete_by"] and dt.date.fromisoformat(manifest["delete_by"]),
                path=str(manifest_path.parent),
            )
            if delivered:
                found.append(Holding(**common, ours=False))
                # our copy of a delivery may have a shorter term than the recipient's
                ours = manifest.get("our_copy_delete_by", manifest["delete_by"])
                common["delete_by"] = ours and dt.date.fromisoformat(ours)
            found.append(Holding(**common, ours=True))
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
    return plan(
        holdings(paths),
        project_deadlines,
        revoked,
        keys.projects_with_keys(paths.key_store),
        as_of,
        leftovers(paths),
    )


def tombstones(paths: Paths) -> list[Path]:
    """Deletions an earlier run began and did not finish."""
    return sorted(
        p for base in (paths.releases, paths.onprem) for p in base.glob(f"*/{TOMBSTONE}*")
    )


def _remove(tombstone: Path) -> None:
    shutil.rmtree(tombstone)
    if tombstone.exists():
        raise RetentionError(f"{tombstone} still exists after its removal")


def delete_folder(folder: Path) -> None:
    """Remove a folder through a tombstone, so that a stop half-way is finished next time."""
    tombstone = folder.with_name(TOMBSTONE + folder.name)
    folder.rename(tombstone)
    _remove(tombstone)
    if folder.exists():
        raise RetentionError(f"{folder} still exists after its deletion")


def apply(paths: Paths, specs_dir: Path, as_of: dt.date) -> list[Outcome]:
    """Carry out the plan of `as_of`; every deletion, shredding and attestation is logged."""
    log = paths.audit_log
    for tombstone in tombstones(paths):
        _remove(tombstone)
        audit.append(
            log,
            "deletion",
            target=str(tombstone.with_name(tombstone.name.removeprefix(TOMBSTONE))),
            reason="finishing a deletion that an earlier retention run began",
            as_of=as_of.isoformat(),
        )
    already_due = {e.get("target") for e in audit.read(log) if e["event"] == "attestation_due"}
    outcomes = []
    failed_projects: set[str] = set()
    for step in retention_plan(paths, specs_dir, as_of):
        detail = ""
        if step.action is Action.SHRED_KEY and step.project in failed_projects:
            outcomes.append(Outcome(step, False, "kept: some of its data could not be deleted"))
            continue
        try:
            if step.action is Action.DELETE:
                detail = verify.before_deletion(Path(step.target)) or ""  # said while it is there
                delete_folder(Path(step.target))
                altered = {"altered": detail} if detail else {}
                audit.append(
                    log,
                    "deletion",
                    target=step.target,
                    reason=step.reason,
                    as_of=as_of.isoformat(),
                    **altered,
                )
            elif step.action is Action.ATTEST and step.target in already_due:
                outcomes.append(Outcome(step, True, "already asked for"))
                continue
            elif step.action is Action.ATTEST:
                audit.append(
                    log,
                    "attestation_due",
                    target=step.target,
                    reason=step.reason,
                    as_of=as_of.isoformat(),
                )
            else:
                printed = keys.shred_key(paths.key_store, step.project, as_of.isoformat())
                audit.append(
                    log,
                    "key_shredded",
                    project=step.project,
                    key_fingerprint=printed,
                    reason=step.reason,
                    as_of=as_of.isoformat(),
                )
        except OSError as error:
            failed_projects.add(step.project)
            detail = f"{type(error).__name__}: {error.strerror or error}"
            audit.append(
                log,
                "deletion_failed",
                target=step.target,
                reason=detail,
                as_of=as_of.isoformat(),
            )
            outcomes.append(Outcome(step, False, detail))
            continue
        outcomes.append(Outcome(step, True, detail))
    return outcomes


@flow(name="retention", log_prints=False)
def retention(paths: Paths, specs_dir: Path, as_of: dt.date) -> list[Outcome]:
    """Daily: delete what is past its deadline, shred spent keys, list attestations due."""
    return apply(paths, specs_dir, as_of)
