"""What the commands share: the data folder, Prefect's API, refusals in one line, the engine,
the as-of day and the progress bar of an extract."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from flows.runtime.settings import (
    SPECS_DIR,
    Engine,
    Paths,
    check_writable,
    prefect_home,
    quiet_libraries,
)
from specs.refusal import Refusal, RunFailed

if TYPE_CHECKING:
    from flows.stores.audit_files import Log

# The spec of the demo, and of `rex export` when none is given.
DEMO_SPEC = SPECS_DIR / "18-088.yaml"


def data_paths(writes: bool = False) -> Paths:
    """The run's folders; for a command that `writes`, refused at once if the data folder
    cannot be written (a read-only one would otherwise fail only inside Prefect's server)."""
    paths = Paths.from_environment()
    quiet_libraries(paths.data)
    if writes:
        check_writable(paths)
    return paths


def launch_prefect_api() -> None:
    """Start the temporary Prefect server now, without waiting for it, where `flow_api`
    will need one: it starts while the command imports its flows and reads its inputs."""
    from flows.runtime.prefect_server import api_is_configured, launch_server

    if not api_is_configured():
        # a server that cannot start is met again, and said, where `flow_api` waits for it
        with contextlib.suppress(OSError):
            launch_server(prefect_home())


@contextlib.contextmanager
def flow_api() -> Iterator[None]:
    """A Prefect API for the flows of one command: the configured one, or a temporary server
    that dies with this process (flows.runtime.prefect_server), refused in one line if it cannot
    start.
    When the flows are done (or one raised), `prefect_api` stops Prefect's background thread: it
    would otherwise keep the first flow run's context alive past the interpreter's exit."""
    from flows.runtime.prefect_server import prefect_api

    with contextlib.ExitStack() as stack:
        stack.enter_context(prefect_api(prefect_home()))
        yield


class RexGroup(TyperGroup):
    """The root command. What stops any command is said here, once, in one line (exit 2): a
    refusal as "refused: <why>", a failed run as its message (a run that failed, on a full disk
    say, was not refused: its message says what happened). Both name no value of the data
    (specs.refusal)."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context (typer vendors click)
        try:
            return super().invoke(ctx)
        except Refusal as error:
            fail(f"refused: {error}")
        except RunFailed as error:
            fail(str(error))


def run_engine(cluster: str | None = None) -> Engine:
    """How a run uses the machine, from REX_SLICE_PERSONS, REX_MEMORY_LIMIT, REX_PARALLEL_SLICES
    and REX_DASK_ADDRESS (or `cluster`); a bad setting is refused in one line."""
    try:
        return Engine.from_environment(cluster)
    except ValueError as error:
        fail(f"REX_SLICE_PERSONS or REX_PARALLEL_SLICES: {error}")
        raise


def as_of_day(as_of: dt.date | None) -> dt.date:
    """The date the rules are evaluated at: the one given, or today."""
    return as_of or dt.date.today()


def day_of(text: str) -> dt.date:
    """A day given on the command line, as YYYY-MM-DD: a `date` from here to the manifest."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        said = f"expected a day as YYYY-MM-DD (e.g. 2020-06-30), not {text!r}"
        raise typer.BadParameter(said) from None


@contextmanager
def extract_progress(label: str) -> Iterator[None]:
    """A progress bar on stderr (gone when done) for the extract runs inside the block: its
    step, the slices done of all, the persons, the time elapsed."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.runtime import progress as run_progress

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("slices, {task.fields[persons]} persons"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        shown = bar.add_task(label, total=None, persons="0")

        def follow(report: run_progress.Progress) -> None:
            persons = f"{report.persons_done:,}"
            if report.persons is not None:
                persons += f" of {report.persons:,}"
            bar.update(
                shown,
                description=f"{label}: {report.step}",
                completed=report.slices_done,
                total=report.slices,
                persons=persons,
            )

        with run_progress.followed(follow):
            yield


def fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


AsOf = Annotated[
    dt.date | None,
    typer.Option(
        parser=day_of,
        metavar="YYYY-MM-DD",
        help="date the rules are evaluated at (default: today)",
    ),
]


SpecFile = Annotated[Path, typer.Option(help="deliberation spec YAML")]


Sources = Annotated[Path | None, typer.Option(help="source store (default: data/synthetic)")]


Cluster = Annotated[
    str | None,
    typer.Option(
        help="address of a Dask scheduler to build the slices on, e.g. tcp://host:8786 "
        "(default: $REX_DASK_ADDRESS, else this machine)"
    ),
]


def steps_table(title: str, rows: Sequence[tuple[str, ...]], columns: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")  # a folder is shown whole, however narrow
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def in_data_folder(paths: Paths, target: str) -> str:
    """A folder under the data folder, written relative to it."""
    path = Path(target)
    return str(path.relative_to(paths.data)) if path.is_relative_to(paths.data) else target


def log_damage(log: Log) -> list[str]:
    """One line per place where the audit log is damaged (an interrupted append is not)."""
    from flows.stores import audit_read

    return [f"{p.file or log}: {p}" for p in audit_read.verify(log) if not p.uncommitted]
