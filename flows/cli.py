"""The `rex` command line. Heavy libraries are imported inside the commands, so --help is fast."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from flows.settings import SPECS_DIR, Paths, quiet_libraries

app = typer.Typer(
    help="rex: pseudonymised research extracts, as a deliberation authorises them.",
    no_args_is_help=True,
    add_completion=False,
)
spec_app = typer.Typer(help="Check deliberation specs.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage project keys (kept outside the repo).", no_args_is_help=True)
export_app = typer.Typer(help="Run an extract flow.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")
app.add_typer(keys_app, name="keys")
app.add_typer(export_app, name="export")

DEMO_SPEC = SPECS_DIR / "18-088.yaml"
DEMO_AS_OF = dt.date(2020, 6, 30)
DEMO_PERSONS = 50_000
DEMO_SEED = 20180703


def _paths() -> Paths:
    paths = Paths.from_environment()
    quiet_libraries(paths.data)
    return paths


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def synth(
    persons: Annotated[int, typer.Option(min=1, help="number of persons to generate")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same bytes")] = 1,
    out: Annotated[Path | None, typer.Option(help="source store folder")] = None,
) -> None:
    """Generate a synthetic source store (registers, DMFA, RVA, NIC, SIGEDIS)."""
    paths = _paths()
    from synthetic.generate import generate

    target = out or paths.sources
    counts = generate(persons, seed, target)
    for table, rows in counts.items():
        typer.echo(f"{table:28} {rows:>12,} rows")
    typer.echo(str(target))


@spec_app.command("check")
def spec_check(file: Annotated[Path, typer.Argument(help="spec YAML file")]) -> None:
    """Validate a spec; print what it authorises, or what is wrong with it."""
    from specs.load import SpecError, load_spec

    try:
        spec = load_spec(file)
    except SpecError as error:
        _fail(str(error))
        return
    typer.echo(f"{file}: deliberation {spec.deliberation} ({spec.recipient}) is valid")
    typer.echo(f"  runs allowed {spec.valid.from_} .. {spec.valid.until}")
    typer.echo(f"  period {spec.period.from_} .. {spec.period.until}")
    for granularity in ("month", "quarter", "year"):
        typer.echo(f"  {granularity:8} {len(getattr(spec.variables, granularity))} variables")
    for name, mode in spec.modes.items():
        size = f"{mode.persons:,} persons" if mode.persons else "whole population"
        typer.echo(f"  mode {name.value}: {size}, delete by {mode.delete_by}")


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Argument(help="project name, as in the spec")],
) -> None:
    """Create a project's key in the key store (never replaces an existing one)."""
    from flows import audit
    from flows.keys import KeyStoreError, create_key
    from specs.model import PROJECT_NAME

    paths = _paths()
    if not PROJECT_NAME.fullmatch(project):
        _fail(f"project name {project!r}: use lowercase letters, digits and dashes")
    try:
        key_print = create_key(paths.key_store, project)
    except KeyStoreError as error:
        _fail(str(error))
        return
    audit.append(paths.audit_log, "key_created", project=project, key_fingerprint=key_print)
    typer.echo(f"created the key of {project} (fingerprint {key_print}) in {paths.key_store}")


def _run_export(mode: str, spec: Path, as_of: dt.datetime | None, sources: Path | None):
    paths = _paths()
    from flows.export import REFUSALS, onprem_build, sample_export

    flow = sample_export if mode == "sample" else onprem_build
    day = as_of.date() if as_of else dt.date.today()
    try:
        return flow(spec, day, paths, sources or paths.sources)
    except REFUSALS as error:
        _fail(f"refused: {error}")


AsOf = Annotated[
    dt.datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="date the rules are evaluated at (default: today)"),
]
SpecFile = Annotated[Path, typer.Option(help="deliberation spec YAML")]
Sources = Annotated[Path | None, typer.Option(help="source store (default: data/synthetic)")]


@export_app.command("sample")
def export_sample(spec: SpecFile = DEMO_SPEC, as_of: AsOf = None, sources: Sources = None) -> None:
    """Export the protected researcher sample into data/releases."""
    result = _run_export("sample", spec, as_of, sources)
    typer.echo(f"{result.status}: {result.folder}")


@export_app.command("onprem")
def export_onprem(spec: SpecFile = DEMO_SPEC, as_of: AsOf = None, sources: Sources = None) -> None:
    """Build the exact full-population panels in the on-premise workspace (data/onprem)."""
    result = _run_export("onprem", spec, as_of, sources)
    typer.echo(f"{result.status}: {result.folder}")


@app.command()
def demo(
    persons: Annotated[int, typer.Option(min=1, help="synthetic persons")] = DEMO_PERSONS,
) -> None:
    """Synthetic sources, demo key, 18/088 sample export and on-premise build, then a summary."""
    import time

    from rich.console import Console
    from rich.table import Table

    paths = _paths()
    from flows import keys
    from flows.export import REFUSALS, onprem_build, sample_export
    from synthetic.generate import generate

    console = Console(stderr=True)
    started = time.perf_counter()
    spec_project = "dulbea-barometer"
    if not (paths.sources / "register" / "persons.parquet").exists():
        with console.status(f"generating {persons:,} synthetic persons"):
            generate(persons, DEMO_SEED, paths.sources)
    if not keys.has_key(paths.key_store, spec_project):
        keys_create(spec_project)
    try:
        with console.status("sample export of 18/088"):
            sample = sample_export(DEMO_SPEC, DEMO_AS_OF, paths, paths.sources)
        with console.status("on-premise build of 18/088"):
            onprem = onprem_build(DEMO_SPEC, DEMO_AS_OF, paths, paths.sources)
    except REFUSALS as error:
        _fail(f"refused: {error}")
        return
    table = Table(title=f"deliberation 18/088 as of {DEMO_AS_OF}")
    for column in ("release", "status", "persons", "panels (rows)"):
        table.add_column(column)
    for label, result in (("sample", sample), ("onprem", onprem)):
        rows = ", ".join(
            f"{name.removesuffix('.parquet')} {entry['rows']:,}"
            for name, entry in result.manifest["files"].items()
            if name.endswith(".parquet")
        )
        table.add_row(label, result.status, f"{result.manifest['persons']:,}", rows)
    Console().print(table)
    typer.echo(
        f"key fingerprint {sample.manifest['key_fingerprint']}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    typer.echo(str(sample.folder))


if __name__ == "__main__":
    app()
