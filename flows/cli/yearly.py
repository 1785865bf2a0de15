"""`rex yearly`: the scheduled yearly delivery, run by hand."""

from __future__ import annotations

import typer

from flows.cli.common import (
    AsOf,
    Sources,
    SpecFile,
    as_of_day,
    data_paths,
    flow_api,
    run_engine,
)

yearly_app = typer.Typer(help="Scheduled yearly deliveries.", no_args_is_help=True)


@yearly_app.command("run")
def yearly_run(spec: SpecFile, as_of: AsOf = None, sources: Sources = None) -> None:
    """Make a spec's yearly delivery as of a date by hand, as its schedule would."""
    from flows.extract.tasks import with_engine
    from flows.schedule.yearly import yearly_extract

    paths = data_paths(writes=True)
    day = as_of_day(as_of)
    engine = run_engine()
    with flow_api():
        result = with_engine(yearly_extract, engine)(
            spec, day, paths, sources or paths.sources, engine
        )
    typer.echo(f"{result.delivery.status}: {result.delivery.folder}")
    for folder in result.superseded:
        typer.echo(f"superseded and deleted: {folder}")
