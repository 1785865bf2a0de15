"""`rex synth`: a synthetic source store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import data_paths, fail
from synthetic.blocks import BLOCK_PERSONS, DEFAULT_CHUNK_PERSONS


def synth(
    persons: Annotated[int, typer.Option(min=1, help="number of persons to generate")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same bytes")] = 1,
    out: Annotated[Path | None, typer.Option(help="source store folder")] = None,
    chunk_size: Annotated[
        int,
        typer.Option(
            min=1,
            help=f"persons held in memory at once, a multiple of {BLOCK_PERSONS:,}; "
            "does not change the output",
        ),
    ] = DEFAULT_CHUNK_PERSONS,
    defects: Annotated[
        bool, typer.Option(help="inject the defects real extracts contain (see README)")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            help="replace the synthetic store at --out (one rex made: its store.json says so); "
            "a folder holding anything else is never written over"
        ),
    ] = False,
) -> None:
    """Generate a synthetic source store (registers, DMFA, RVA, NIC, SIGEDIS) in a new or empty
    folder, or in place of a synthetic store with --replace."""
    paths = data_paths()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from synthetic.generate import generate

    target = out or paths.sources
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("persons", total=persons)
        try:
            counts = generate(
                persons,
                seed,
                target,
                chunk_size,
                on_progress=lambda done: progress.update(task, completed=done),
                with_defects=defects,
                replace=replace,
            )
        except ValueError as error:
            fail(str(error))
            return
        except OSError as error:  # a full disk, a read-only folder: nothing was put in place
            fail(
                f"{target}: the store cannot be written ({error.strerror or type(error).__name__})"
            )
            return
    for table, rows in counts.items():
        typer.echo(f"{table:28} {rows:>12,} rows")
    typer.echo(str(target))
