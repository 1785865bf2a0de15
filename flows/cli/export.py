"""`rex export`: the extract runs (sample, on-premise build, control)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import (
    DEMO_SPEC,
    AsOf,
    Cluster,
    Sources,
    SpecFile,
    as_of_day,
    data_paths,
    extract_progress,
    flow_api,
    launch_prefect_api,
    run_engine,
)
from flows.runtime.settings import Engine, Paths

export_app = typer.Typer(help="Run an extract flow.", no_args_is_help=True)


@contextmanager
def _extract_run(
    label: str,
    mode: str,
    spec: Path,
    as_of: dt.date,
    sources: Path | None,
    cluster: str | None,
    case: str | None = None,
    consultation: str | None = None,
) -> Iterator[tuple[Paths, Engine]]:
    """The folders and the engine of one extract run, with Prefect's API and a progress bar
    around it; a run its spec, operator or keys refuse is refused (and logged) before Prefect's
    API is waited for (flows.extract.request)."""
    paths = data_paths(writes=True)
    launch_prefect_api()  # it starts while the command imports its flows
    engine = run_engine(cluster)
    from flows.extract.request import Request, refuse_early
    from specs.modes import ModeName

    sources_dir = sources or paths.sources
    request = Request(
        spec,
        ModeName(mode),
        as_of,
        paths,
        sources_dir,
        case_reference=case,
        consultation=consultation,
    )
    refuse_early(request)
    with flow_api(), extract_progress(label):
        yield paths, engine


@export_app.command("sample")
def export_sample(
    spec: SpecFile = DEMO_SPEC, as_of: AsOf = None, sources: Sources = None, cluster: Cluster = None
) -> None:
    """Export the protected researcher sample into data/releases."""
    day = as_of_day(as_of)
    with _extract_run("sample export", "sample", spec, day, sources, cluster) as (
        paths,
        engine,
    ):
        from flows.extract.export import sample_export
        from flows.extract.tasks import with_engine

        run = with_engine(sample_export, engine)
        result = run(spec, day, paths, sources or paths.sources, engine)
    typer.echo(f"{result.status}: {result.folder}")


@export_app.command("onprem")
def export_onprem(
    spec: SpecFile = DEMO_SPEC, as_of: AsOf = None, sources: Sources = None, cluster: Cluster = None
) -> None:
    """Build the exact full-population panels in the on-premise workspace (data/onprem)."""
    day = as_of_day(as_of)
    with _extract_run("onprem export", "onprem", spec, day, sources, cluster) as (
        paths,
        engine,
    ):
        from flows.extract.export import onprem_build
        from flows.extract.tasks import with_engine

        run = with_engine(onprem_build, engine)
        result = run(spec, day, paths, sources or paths.sources, engine)
    typer.echo(f"{result.status}: {result.folder}")


@export_app.command("control")
def export_control(
    spec: SpecFile,
    as_of: AsOf = None,
    sources: Sources = None,
    persons: Annotated[
        Path | None,
        typer.Option(
            help="the recipient's list of the persons it asks about, one INSZ per line (for a "
            "spec whose population is listed_persons)"
        ),
    ] = None,
    cluster: Cluster = None,
    consultation: Annotated[
        str | None,
        typer.Option(
            help="the consultation the request asks for, where the spec names them (04/037: "
            "l051 lists a person's messages; a052l gives the messages whose unique numbers "
            "--persons lists as INSZ;NUMBER; c6 the fitness declaration for the resumption "
            "dates it lists as INSZ;YYYY-MM-DD)"
        ),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option(
            help="the reference of the case that justifies this consultation (a contact dossier, "
            "a control or benefit file), as the spec's consultation_log describes it; required"
        ),
    ] = None,
) -> None:
    """Deliver identified data for control purposes (INSZ, RSZ and KBO numbers) into
    data/releases: only where the deliberation grants it (`identified_data` in the spec), and
    only for a case (`--case`), logged before the consultation."""
    day = as_of_day(as_of)
    run_of = ("control export", "control", spec, day, sources, cluster, case, consultation)
    with _extract_run(*run_of) as (paths, engine):
        from flows.extract.export import control_export
        from flows.extract.tasks import with_engine

        run = with_engine(control_export, engine)
        result = run(
            spec, day, paths, sources or paths.sources, persons, engine, case, consultation
        )
    typer.echo(f"{result.status}: {result.folder}")
