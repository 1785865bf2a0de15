"""`rex retention`: what is past its deadline, planned or deleted."""

from __future__ import annotations

import typer

from flows.cli.common import (
    AsOf,
    as_of_day,
    data_paths,
    flow_api,
    in_data_folder,
    log_damage,
    steps_table,
)
from flows.runtime.settings import (
    SPECS_DIR,
)

retention_app = typer.Typer(
    help="Delete what is past its deadline; shred spent keys.", no_args_is_help=True
)


@retention_app.command("plan")
def retention_plan(as_of: AsOf = None) -> None:
    """Show what retention would delete, shred and ask attestations for, and why; change nothing."""
    from flows.schedule.retention import retention_plan, tombstones

    paths = data_paths()
    day = as_of_day(as_of)
    steps = retention_plan(paths, SPECS_DIR, day)
    rows = [
        ("finish deletion", "", in_data_folder(paths, str(t)), "an earlier run stopped half-way")
        for t in tombstones(paths)
    ]
    rows += [(s.action.value, s.project, in_data_folder(paths, s.target), s.reason) for s in steps]
    steps_table(f"retention plan as of {day}", rows, ("action", "project", "target", "reason"))
    typer.echo(f"{len(rows)} steps; nothing was changed (`rex retention apply` carries them out)")


@retention_app.command("apply")
def retention_apply(as_of: AsOf = None) -> None:
    """Delete what is past its deadline, shred spent keys, log each step and verify it."""
    from flows.schedule.retention import retention
    from flows.stores import audit_files

    paths = data_paths(writes=True)
    day = as_of_day(as_of)
    segments_before = len(audit_files.segments(paths.audit_log))
    with flow_api():
        outcomes = retention(paths, SPECS_DIR, day)
    opened = audit_files.segments(paths.audit_log)[segments_before:]
    rows = [
        (
            o.step.action.value,
            o.step.project,
            in_data_folder(paths, o.step.target),
            "done" if o.done else "FAILED",
            o.detail,
        )
        for o in outcomes
    ]
    steps_table(f"retention as of {day}", rows, ("action", "project", "target", "result", "detail"))
    failed = sum(not o.done for o in outcomes)
    typer.echo(f"{len(outcomes) - failed} steps done, {failed} failed")
    for line in log_damage(paths.audit_log):
        typer.secho(f"warning: the audit log is damaged: {line}", fg=typer.colors.RED, err=True)
    for segment in opened:
        typer.secho(
            f"warning: retention logged in a fresh segment, {segment}, whose first entry records "
            "the damage; `rex audit verify` lists it",
            fg=typer.colors.RED,
            err=True,
        )
    # Damage found by this run fails it, so that a daily schedule shows it; damage recorded by
    # an earlier run is repeated above, but does not fail every run after it.
    if failed or opened:
        raise typer.Exit(code=1)
