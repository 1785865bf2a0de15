"""Tampering with what was published: every release and workspace against its manifest, and
each manifest against the digest the audit log recorded for it when it was published.

A release is its manifest's to describe: every file it lists with its sha256, none missing, none
added. The manifest could itself be rewritten to match edited files, so the `release` entry of
the audit log records the manifest's own sha256, and the log's hash chain (`rex audit verify`)
keeps that digest honest. Retention and reruns use `alterations` to call an altered release what
it is instead of merely "another release".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.release.files import MANIFEST, alterations, altered_note, readable_digest
from flows.runtime.settings import Paths
from flows.stores import audit_read, consultations


@dataclass(frozen=True)
class Verdict:
    """What is wrong with one release or workspace (nothing: it is as published)."""

    folder: Path
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def folders(paths: Paths) -> list[Path]:
    """Every release and workspace on disk; hidden folders are staging and tombstones."""
    return [
        folder
        for base in (paths.releases, paths.onprem)
        for folder in sorted(base.glob("*/*"))
        if folder.is_dir() and not folder.name.startswith(".")
    ]


def _where(folder: Path | str) -> tuple[str, str]:
    # project and release name: the log's folder may be written relative to another directory
    path = Path(folder)
    return path.parent.name, path.name


def logged_manifests(entries: list[dict[str, Any]]) -> dict[tuple[str, str], str | None]:
    """Per published folder, the manifest digest of its last `release` entry (None: an entry
    written before releases logged it)."""
    logged: dict[tuple[str, str], str | None] = {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("event") == "release" and entry.get("folder"):
            logged[_where(entry["folder"])] = entry.get("manifest_sha256")
    return logged


def unaccounted(entries: list[dict[str, Any]], on_disk: list[Path]) -> list[Verdict]:
    """Releases the log says were published that are not on disk, with no deletion logged after
    them and no failure of their run saying the publish was not made: removed outside retention,
    or a run killed between logging its release and moving it into place."""
    gone: dict[tuple[str, str], tuple[str, int]] = {}
    failed_runs = {e.get("run") for e in entries if e.get("event") == "failure"}
    for entry in entries:
        event, where = entry.get("event"), None
        if event == "release" and entry.get("folder") and entry.get("run") not in failed_runs:
            gone[_where(entry["folder"])] = (str(entry["folder"]), entry["seq"])
        elif event == "deletion" and entry.get("target"):
            where = _where(entry["target"])
            gone.pop(where, None)
    for folder in on_disk:
        gone.pop(_where(folder), None)
    return [
        Verdict(
            Path(folder),
            (
                f"the audit log records its release (entry {seq}) but it is not on disk and no "
                "deletion of it is logged: removed outside retention, or a run stopped between "
                "logging it and publishing it",
            ),
        )
        for folder, seq in sorted(gone.values())
    ]


def verify(paths: Paths) -> tuple[list[Verdict], str | None]:
    """A verdict per release and workspace, and what is wrong with the audit log (None: it
    verifies, and every manifest was checked against it)."""
    log_problem = None
    logged: dict[tuple[str, str], str | None] | None
    try:
        # whatever the damage, the entries that can be read are checked, and the files too
        scan = audit_read.scan(paths.audit_log)
        logged = logged_manifests(scan.entries)
        damage = [p for p in scan.problems if not p.uncommitted]
        if damage:
            log_problem = (
                f"the audit log {paths.audit_log} is damaged ({damage[0]}"
                + (f", and {len(damage) - 1} more" if len(damage) > 1 else "")
                + "): releases are checked against the entries that can be read "
                "(`rex audit verify` lists the damage)"
            )
    except Exception as error:
        logged, log_problem = (
            None,
            f"the audit log {paths.audit_log} cannot be read ({type(error).__name__}): files "
            "checked against their manifests only",
        )
    verdicts = []
    for folder in folders(paths):
        problems = alterations(folder)
        notes: list[str] = []
        if logged is not None and (folder / MANIFEST).is_file():
            where = _where(folder)
            if where not in logged:
                problems.append("the audit log has no release entry for it")
            elif logged[where] is None:
                notes.append("its release entry predates manifest digests: manifest not checked")
            elif readable_digest(folder / MANIFEST) != logged[where]:
                problems.append(f"{MANIFEST} is not the one the audit log recorded")
        verdicts.append(Verdict(folder, tuple(problems), tuple(notes)))
    if logged is not None:
        verdicts += unaccounted(scan.entries, folders(paths))
    return verdicts, log_problem


def before_deletion(folder: Path) -> str | None:
    """What retention's deletion entry must say about a release or workspace it deletes that no
    longer matches its manifest (None: it matches, or it is a staging folder, which has none)."""
    if folder.name.startswith(".") or not folder.is_dir():
        return None
    return altered_note(folder)


def consultation_records(paths: Paths) -> tuple[list[str], list[str]]:
    """What became of the consultation records the log chains (flows.stores.consultations): the
    problems (a record edited, or gone with no deletion logged: tampering) and the notes (a
    record deleted by retention, as its spec says, which is no damage)."""
    entries = audit_read.scan(paths.audit_log).entries
    states = consultations.detail_states(entries, paths.audit_log)
    problems = [s.problem for s in states if s.problem]
    notes = [s.note for s in states if s.note]
    return problems, notes
