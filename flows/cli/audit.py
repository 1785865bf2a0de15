"""`rex audit` and `rex verify`: the audit log, its review, and the releases against it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.cli.common import AsOf, as_of_day, data_paths, fail, log_damage
from flows.runtime.settings import (
    SPECS_DIR,
)

if TYPE_CHECKING:
    from flows.stores import audit_files

audit_app = typer.Typer(help="Verify and review the audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    against: Annotated[
        list[Path] | None,
        typer.Option(
            "--against",
            help="a release or analysis-outputs manifest (repeatable): check that the log still "
            "holds the head the manifest states (its audit_head: same segment, entry and "
            "digest) and the release entry that recorded this manifest's sha256; one line "
            "each, exit 1 on any mismatch",
        ),
    ] = None,
) -> None:
    """Check the audit log's keyed chain; name every edited, deleted, inserted, moved or
    downgraded entry, every problem of its audit key, and every consultation record (case,
    persons) edited or removed outside retention. With --against, also check that the log still
    holds the head and the release entry of each manifest given (a copy of the head outside the
    log: the log cannot be cut back or rebuilt unseen by it)."""
    from flows.release import verify
    from flows.stores import audit_files, audit_read
    from flows.stores.ownership import writable_by_others

    paths = data_paths()
    log = paths.audit_log
    problems = audit_read.verify(log)
    unsafe = writable_by_others(log.path) or writable_by_others(audit_files.head_path(log.path))
    records, deleted = verify.consultation_records(paths)
    for note in deleted:  # deleted as the spec says: no damage
        typer.echo(f"{log}: {note}")
    for note in audit_read.notes(log):
        typer.echo(f"{log}: note: {note}")
    failed = bool(problems or records or unsafe)
    if unsafe:
        typer.secho(f"{log}: cannot be trusted: {unsafe}", fg=typer.colors.RED, err=True)
    # every segment's problems, an interrupted append's uncommitted bytes included (the next
    # append rolls them back)
    for problem in problems:
        typer.secho(f"{problem.file or log}: {problem}", fg=typer.colors.RED, err=True)
    for record in records:
        typer.secho(f"{log}: {record}", fg=typer.colors.RED, err=True)
    for manifest in against or []:
        mismatch = _against(log, manifest)
        if mismatch:
            failed = True
            typer.secho(f"{manifest}: {mismatch}", fg=typer.colors.RED, err=True)
        else:
            typer.echo(f"{manifest}: the log holds its head and its release entry")
    if failed:
        raise typer.Exit(code=1)
    count = len(audit_read.read(log))
    found = audit_files.segments(log)
    more = f" in {len(found)} segments" if len(found) > 1 else ""
    typer.echo(f"{log}: intact, {count} entries{more}")


def _against(log: audit_files.Log, manifest: Path) -> str | None:
    """Why the log does not hold what `manifest` states of it (None: it does): the head it
    states, and the release entry that recorded the manifest's own sha256."""
    from flows.release.files import sha256_file
    from flows.release.manifest import Manifest, ManifestUnreadable
    from flows.stores import audit_read

    try:
        stated = Manifest.read(manifest)
    except OSError as error:
        return f"cannot be read as a manifest ({type(error).__name__})"
    except ManifestUnreadable as error:
        return f"cannot be read as a manifest: {error}"
    if stated.audit_head is None:
        return "states no audit_head (published before manifests stated the log's head)"
    lost = audit_read.holds(log, stated.audit_head)
    if lost:
        return f"the log no longer holds the head this manifest states: {lost}"
    digest = sha256_file(manifest)
    released = [
        e
        for e in audit_read.scan(log).entries
        if e.get("event") == "release" and e.get("manifest_sha256") == digest
    ]
    if not released:
        return "the log has no release entry with this manifest's sha256 (removed, or never made)"
    return None


@audit_app.command("new-segment")
def audit_new_segment() -> None:
    """Record the damage of a damaged audit log and go on in a fresh segment beside it."""
    from flows.stores import audit, audit_files, audit_read

    paths = data_paths()
    found = audit_read.scan(paths.audit_log)
    if not found.current_is_damaged:
        fail(f"{found.current} is not damaged: a fresh segment is opened only after damage")
    try:
        entry = audit.open_segment(paths.audit_log, found.problems)
    except audit_files.AuditLogError as error:
        fail(str(error))
        return
    segment = audit_files.segments(paths.audit_log)[-1]
    typer.echo(
        f"{segment}: opened; its first entry records {len(entry['damaged']['problems'])} "
        f"problems of {found.current.name} and its sha256 (the damage stays as it is)"
    )


def verify_releases() -> None:
    """Check every release and workspace against its manifest, and each manifest against the
    digest the audit log recorded; one line each, exit 1 on any problem."""
    from flows.release import verify

    paths = data_paths()
    verdicts, log_problem = verify.verify(paths)
    if log_problem is not None:
        typer.secho(log_problem, fg=typer.colors.RED)
    for verdict in verdicts:
        if verdict.ok:
            typer.echo(f"ok: {verdict.folder}" + "".join(f" ({n})" for n in verdict.notes))
        else:
            typer.secho(f"{verdict.folder}: {'; '.join(verdict.problems)}", fg=typer.colors.RED)
    if not verdicts:
        typer.echo(f"no release or workspace under {paths.data}")
    if log_problem is not None or not all(v.ok for v in verdicts):
        raise typer.Exit(code=1)


@audit_app.command("review")
def audit_review(
    sample: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="disclosures (other than consultations) to draw "
            "(default: REX_REVIEW_DISCLOSURES, else 20)",
        ),
    ] = None,
    consultations: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="consultations of named persons to draw (default: REX_REVIEW_CONSULTATIONS, "
            "else 20)",
        ),
    ] = None,
    as_of: AsOf = None,
    seed: Annotated[int | None, typer.Option(help="fix the draw (default: a fresh one)")] = None,
) -> None:
    """Check a random sample of logged disclosures and consultations: authorised, by an allowed
    operator, requested first and, for a consultation, tied to a case logged before it."""
    from rich.console import Console
    from rich.table import Table

    from flows.runtime.settings import ReviewSchedule
    from flows.schedule.review import counts, review
    from flows.stores import audit_read

    paths = data_paths()
    day = as_of_day(as_of)
    try:
        schedule = ReviewSchedule.from_environment()
    except ValueError as error:
        fail(str(error))
        return
    drawn = schedule.disclosures if sample is None else sample
    drawn_consultations = schedule.consultations if consultations is None else consultations
    damage = log_damage(paths.audit_log)
    for line in damage:
        typer.secho(f"warning: the audit log is damaged: {line}", fg=typer.colors.RED, err=True)
    total, findings = review(
        paths.audit_log, SPECS_DIR, drawn, day, seed, consultation_sample=drawn_consultations
    )
    plain, consulted = counts(audit_read.scan(paths.audit_log).entries, day)
    shown = sum(f.kind == "consultation" for f in findings)
    table = Table(
        title=f"review of {len(findings) - shown} of {plain} disclosures and {shown} of "
        f"{consulted} consultations up to {day}"
    )
    for column in ("entry", "kind", "deliberation", "mode", "as of", "by", "finding"):
        table.add_column(column, overflow="fold")
    for f in findings:
        verdict = "ok" if f.ok else "; ".join(f.violations)
        if f.notes:
            verdict += " (" + "; ".join(f.notes) + ")"
        table.add_row(str(f.seq), f.kind, f.deliberation, f.mode, f.as_of, f.actor, verdict)
    Console().print(table)
    violations = sum(not f.ok for f in findings)
    typer.echo(f"{violations} of {len(findings)} reviewed entries violate a rule")
    if damage:
        # A review of a log that is not whole is no clean review: say so, and fail.
        typer.echo("the review covers the entries that could be read; `rex audit verify` says more")
    if violations or damage:
        raise typer.Exit(code=1)


@audit_app.command("person")
def audit_person(
    insz: Annotated[
        str,
        typer.Argument(
            help="the person's INSZ (with or without separators); '-' reads it from standard "
            "input, so that it stays out of the process list"
        ),
    ],
) -> None:
    """List the consultations of one person's data (who, when, which spec and purpose, which
    case), not the data: for the data steward only (a role in the staff roster)."""
    from rich.console import Console
    from rich.table import Table

    from flows.stores.consultations import look_up_person

    paths = data_paths(writes=True)
    text = typer.get_text_stream("stdin").readline() if insz == "-" else insz
    found = look_up_person(paths.audit_log, paths.roster, paths.key_store, text)
    table = Table(title=f"consultations of the person asked about: {len(found)}")
    for column in ("entry", "when", "by", "deliberation", "mode", "as of", "purpose", "case"):
        table.add_column(column, overflow="fold")
    for c in found:
        table.add_row(
            str(c.seq), c.at, c.actor, c.deliberation, c.mode, c.as_of, c.purpose, c.case_reference
        )
    Console().print(table)
    typer.echo(
        f"{len(found)} consultations whose records are kept; records past their spec's term "
        "were deleted by retention (`rex audit verify` lists them)"
    )
