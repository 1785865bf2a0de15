"""`rex demo`: the whole chain on a synthetic store, and a summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import (
    DEMO_SPEC,
    data_paths,
    extract_progress,
    fail,
    flow_api,
    launch_prefect_api,
    run_engine,
)
from flows.cli.keys import keys_create
from flows.runtime.settings import (
    SPECS_DIR,
    Paths,
)

DEMO_AS_OF = dt.date(2020, 6, 30)


DEMO_PERSONS = 50_000


DEMO_SEED = 20180703


def _demo_store(sources: Path) -> dict | None:
    """What the demo's source store says of itself (None: there is none yet); a folder that holds
    files but no store.json is refused, since rex takes such a store for real data."""
    from synthetic.generate import synthetic_store

    if not sources.exists() or (sources.is_dir() and not any(sources.iterdir())):
        return None
    description = synthetic_store(sources)
    if description is None:
        fail(
            f"{sources} holds no store.json saying it is synthetic, so rex takes it for real data "
            "and will not replace it: move it away, or set REX_DATA_DIR to another data folder"
        )
    return description


DEMO_ANALYSIS = SPECS_DIR.parent / "notebooks" / "barometer_onprem.py"


def _demo_analysis(paths: Paths) -> str:
    """The barometer run on the whole on-premise population (`rex analyse run`), once per code
    and workspace, and its review written; lines saying what came out and how its reviewers
    sign it off. Inside a Prefect API (`flow_api`)."""
    import json

    from flows.analysis import signoff
    from flows.analysis.output_checking import WITHHELD
    from flows.analysis.run import RUN_RECORD, analysis_run, earlier_run
    from specs.refusal import Refusal, RunFailed

    folder = earlier_run(paths, DEMO_SPEC, DEMO_AS_OF, DEMO_ANALYSIS)
    try:
        if folder is None:
            result = analysis_run(DEMO_SPEC, DEMO_AS_OF, DEMO_ANALYSIS, paths)
            folder, ran = result.run_folder, f"{result.seconds:.0f} s"
        else:
            ran = "unchanged since its last run"
        record = json.loads((folder / RUN_RECORD).read_text())
        review = signoff.review(paths, record["run"], SPECS_DIR)
    except (Refusal, RunFailed) as error:  # said with what it stopped
        fail(f"the barometer's analysis run: {error}")
        raise
    withheld = sum(o["outcome"] == WITHHELD for o in record["outputs"])
    rules = signoff.load_run(paths, record["run"], SPECS_DIR).rules
    return (
        f"barometer on premise (`rex analyse run`, {ran}): "
        f"{len(record['outputs']) - withheld} outputs pass the checks, {withheld} withheld; "
        f"none leaves before {rules.approvals} reviewers other than you approve it.\n"
        f"  review: {review}\n"
        f"  each reviewer: rex analyse approve --run {record['run']} --output N\n"
        f"  then: rex analyse release --run {record['run']}"
    )


def demo(
    persons: Annotated[int, typer.Option(min=1, help="synthetic persons")] = DEMO_PERSONS,
    replace: Annotated[
        bool,
        typer.Option(
            help="replace a synthetic store of another size or seed by one of --persons persons"
        ),
    ] = False,
) -> None:
    """Synthetic sources, demo key, 18/088 sample export and on-premise build, the barometer
    run on premise through `rex analyse run` and its review prepared, then a summary.

    The sources are data/synthetic: generated when missing; a synthetic store already there is
    used as it is, whatever its size, unless --replace; a store without store.json is taken for
    real data and refused, never deleted."""
    import time

    from rich.console import Console
    from rich.table import Table

    paths = data_paths(writes=True)
    from flows.extract.export import onprem_build, sample_export
    from flows.extract.tasks import with_engine
    from flows.release.validate import prepare_in_background
    from flows.stores import keys
    from synthetic.generate import generate

    engine = run_engine()
    console = Console(stderr=True)
    started = time.perf_counter()
    launch_prefect_api()  # it starts while the store is generated
    prepare_in_background()  # and so is great-expectations' context, used by both exports
    spec_project = "dulbea-barometer"
    store = _demo_store(paths.sources)
    if store is not None and (store.get("persons"), store.get("seed")) != (persons, DEMO_SEED):
        if replace:
            store = None
        else:
            typer.echo(  # one line, unwrapped: the folder is shown whole
                f"using the synthetic store {paths.sources} ({store.get('persons')} persons, "
                f"seed {store.get('seed')}); --replace makes one of {persons:,} persons",
                err=True,
            )
    if store is None:
        with console.status(f"generating {persons:,} synthetic persons"):
            generate(persons, DEMO_SEED, paths.sources, replace=replace)
    if not keys.has_key(paths.key_store, spec_project):
        keys_create(spec_project)
    with flow_api():
        with extract_progress("sample export of 18/088"):
            sample = with_engine(sample_export, engine)(
                DEMO_SPEC, DEMO_AS_OF, paths, paths.sources, engine
            )
        with extract_progress("on-premise build of 18/088"):
            onprem = with_engine(onprem_build, engine)(
                DEMO_SPEC, DEMO_AS_OF, paths, paths.sources, engine
            )
        analysed = _demo_analysis(paths)
    table = Table(title=f"deliberation 18/088 as of {DEMO_AS_OF}")
    for column in ("release", "status", "persons", "panels (rows)"):
        table.add_column(column)
    for label, result in (("sample", sample), ("onprem", onprem)):
        rows = ", ".join(
            f"{name.removesuffix('.parquet')} {entry['rows']:,}"
            for name, entry in result.manifest.files.items()
            if name.endswith(".parquet")
        )
        table.add_row(label, result.status, f"{result.manifest.persons or 0:,}", rows)
    Console().print(table)
    typer.echo(analysed)
    typer.echo(
        f"key fingerprint {sample.manifest.key_fingerprint}; {time.perf_counter() - started:.0f} s"
    )
    typer.echo(str(sample.folder))
