"""`rex spec`: check a spec, and explain its population on the source store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.cli.common import as_of_day, data_paths, day_of, fail

if TYPE_CHECKING:
    from specs.modes import Mode

spec_app = typer.Typer(help="Check deliberation specs.", no_args_is_help=True)


@spec_app.command("check")
def spec_check(file: Annotated[Path, typer.Argument(help="spec YAML file")]) -> None:
    """Validate a spec; print what it authorises, or what is wrong with it."""
    from specs.load import SpecError, load_spec

    try:
        spec = load_spec(file)
    except SpecError as error:
        fail(str(error))
        return
    typer.echo(f"{file}: deliberation {spec.deliberation} ({spec.recipient}) is valid")
    typer.echo(f"  runs allowed {spec.valid.describe()}")
    typer.echo(f"  period {spec.period.from_} .. {spec.period.until}")
    typer.echo(f"  population: {spec.population_in_words()}")
    for granularity in ("month", "quarter", "year"):
        typer.echo(f"  {granularity:8} {len(getattr(spec.variables, granularity))} variables")
    if spec.delivery:
        rolling = (
            f", {spec.delivery.keep_years} most recent years, {spec.delivery.data_lag_years} "
            "years behind the run"
            if spec.delivery.regime == "rolling"
            else ""
        )
        typer.echo(f"  deliveries {spec.delivery.regime}{rolling}, cron {spec.delivery.cron!r}")
    for name, mode in spec.modes.items():
        listed = spec.population.lists_persons
        whole = "the persons listed with each run" if listed else "whole population"
        size = f"{mode.persons:,} persons" if mode.persons else whole
        identified = ", identified (INSZ, RSZ and KBO numbers)" if mode.identified else ""
        typer.echo(f"  mode {name.value}: {size}{identified}, {retention_of(mode)}")
    for consultation_name, consultation in spec.consultations.items():
        asked = consultation.request.value.replace("_", " ")
        typer.echo(
            f"  consultation {consultation_name}: by {asked}, "
            f"{len(consultation.variables)} variables ({consultation.reference})"
        )


@spec_app.command("explain")
def spec_explain(
    file: Annotated[Path, typer.Argument(help="spec YAML file")],
    as_of: Annotated[
        dt.date | None,
        typer.Option(
            parser=day_of, metavar="YYYY-MM-DD", help="date the spec is read at (default: today)"
        ),
    ] = None,
    sources: Annotated[
        Path | None, typer.Option(help="source store (default: data/synthetic)")
    ] = None,
) -> None:
    """Show the population's funnel on the source store: for each condition, how many persons
    it keeps (counts only; logged in the audit log like a run)."""
    paths = data_paths(writes=True)
    from flows.extract.explain import explain_population

    day = as_of_day(as_of)
    steps = explain_population(file, day, paths, sources or paths.sources)
    typer.echo(f"{file}: the population as of {day}, on {sources or paths.sources}")
    for step in steps:
        left = "" if step.left is None else f"  (left: {step.left:,})"
        typer.echo(f"  {step.persons:>10,}  {'  ' * step.depth}{step.condition}{left}")


def retention_of(mode: Mode) -> str:
    if mode.delete_by is not None:
        return f"delete by {mode.delete_by}"
    if mode.keep_months is not None:
        return f"delete {mode.keep_months} months after each run"
    ours = f"; our copy {mode.our_copy_keep_months} months" if mode.our_copy_keep_months else ""
    return f"kept for the whole career of the persons concerned{ours}"
