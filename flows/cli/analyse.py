"""`rex analyse`: researchers' code on premise, the review of its outputs and their sign-off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from flows.cli.common import (
    DEMO_SPEC,
    AsOf,
    SpecFile,
    as_of_day,
    data_paths,
    fail,
    flow_api,
    in_data_folder,
    steps_table,
)
from flows.runtime.settings import (
    SPECS_DIR,
)

analyse_app = typer.Typer(
    help="Run researchers' code on the on-premise workspace; only checked outputs come out.",
    no_args_is_help=True,
)


@analyse_app.command("run")
def analyse_run(
    code: Annotated[Path, typer.Option(help="the researchers' Python script (.py) or notebook")],
    spec: SpecFile = DEMO_SPEC,
    as_of: AsOf = None,
) -> None:
    """Run CODE on the spec's on-premise workspace in a sandbox (read-only workspace, no
    network, time and memory limits, REX_RELEASE/REX_ONPREM pointing at the panels, REX_OUTPUT
    at a fresh output folder) and check every output. Nothing leaves yet: the outputs wait for
    their reviewers (`rex analyse review`). What the code prints stays in the run's folder."""
    paths = data_paths(writes=True)
    from flows.analysis.run import analysis_run

    with flow_api():
        result = analysis_run(spec, as_of_day(as_of), code, paths)
    # by number: a name the code chose could carry anything (the run's folder maps them)
    rows = [(str(c.number), c.kind, c.outcome, c.reason) for c in result.checks]
    steps_table(f"outputs of run {result.run}", rows, ("output", "kind", "outcome", "reason"))
    typer.echo(f"run folder (stays inside): {in_data_folder(paths, str(result.run_folder))}")
    typer.echo(f"nothing is published before its review: rex analyse review --run {result.run}")
    typer.echo(f"the code ran {result.seconds:.1f} s")
    if result.failure is not None:
        fail(f"{result.failure}; every output is withheld")


RunId = Annotated[str, typer.Option(help="the run's id (`rex analyse run` prints it)")]


OutputNumber = Annotated[int, typer.Option(help="the output's number, as the review gives it")]


Step = TypeVar("Step")


def _signed_off(step: Callable[[], Step]) -> Step:
    """A sign-off step inside a Prefect API."""
    with flow_api():
        return step()


@analyse_app.command("review")
def analyse_review(run: RunId) -> None:
    """Show the review of a run's outputs: each output by number, what the checks made of it
    and why, the cells they changed, the sha256 and file a reviewer reads, the decisions so
    far, and the code as its difference from the last reviewed version (also written to
    review.md in the run's folder). Changes nothing but that file."""
    paths = data_paths(writes=True)
    from flows.analysis import signoff

    path = _signed_off(lambda: signoff.review(paths, run, SPECS_DIR))
    typer.echo(path.read_text())
    typer.echo(f"written to {in_data_folder(paths, str(path))}")


@analyse_app.command("approve")
def analyse_approve(
    run: RunId,
    output: OutputNumber,
    reason: Annotated[
        str, typer.Option(help="why it may leave; needed for an output the checks withheld")
    ] = "",
) -> None:
    """Approve one output of a run, as one of its reviewers (a role the spec's
    `analysis.reviewer_roles` names, held in the staff roster; never the person who ran the
    code): the approval names the sha256 that was checked and is logged."""
    _decision(run, output, True, reason)


@analyse_app.command("reject")
def analyse_reject(
    run: RunId,
    output: OutputNumber,
    reason: Annotated[str, typer.Option(help="why it may not leave, in words (logged)")],
) -> None:
    """Reject one output of a run, as one of its reviewers, with a written reason (logged): it
    does not leave until that reviewer approves it."""
    _decision(run, output, False, reason)


def _decision(run: str, output: int, approve: bool, reason: str) -> None:
    paths = data_paths(writes=True)
    from flows.analysis import signoff

    standing = _signed_off(lambda: signoff.decide(paths, run, output, approve, reason, SPECS_DIR))
    what = "approved" if approve else "rejected"
    state = "ready for release" if standing.released else standing.why_not()
    typer.echo(f"output {output} of run {run} {what}: {state}")


@analyse_app.command("release")
def analyse_release(run: RunId) -> None:
    """Publish every output of a run that its reviewers approved (and no release published
    yet), after checking that its bytes are those approved and scanning them again for
    identifiers; a reviewer's command. Outputs still waiting are named by number, with why."""
    paths = data_paths(writes=True)
    from flows.analysis import signoff

    released = _signed_off(lambda: signoff.release(paths, run, SPECS_DIR))
    typer.echo(f"published outputs {', '.join(map(str, released.released))}: {released.folder}")
    for number, why in released.held.items():
        typer.echo(f"output {number} held back: {why}")
