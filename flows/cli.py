"""The `rex` command line. Heavy libraries are imported inside the commands, so --help is fast."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from flows.runtime.settings import (
    SPECS_DIR,
    DataFolderError,
    Engine,
    Paths,
    check_writable,
    prefect_home,
    quiet_libraries,
)
from synthetic.blocks import BLOCK_PERSONS, DEFAULT_CHUNK_PERSONS

if TYPE_CHECKING:
    from flows.stores import audit
    from specs.model import Mode

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
audit_app = typer.Typer(help="Verify and review the audit log.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(audit_app, name="audit")
retention_app = typer.Typer(
    help="Delete what is past its deadline; shred spent keys.", no_args_is_help=True
)
app.add_typer(retention_app, name="retention")
yearly_app = typer.Typer(help="Scheduled yearly deliveries.", no_args_is_help=True)
app.add_typer(yearly_app, name="yearly")
analyse_app = typer.Typer(
    help="Run researchers' code on the on-premise workspace; only checked outputs come out.",
    no_args_is_help=True,
)
app.add_typer(analyse_app, name="analyse")

DEMO_SPEC = SPECS_DIR / "18-088.yaml"
DEMO_AS_OF = dt.date(2020, 6, 30)
DEMO_PERSONS = 50_000
DEMO_SEED = 20180703


def _paths(writes: bool = False) -> Paths:
    """The run's folders; for a command that `writes`, refused at once if the data folder
    cannot be written (a read-only one would otherwise fail only inside Prefect's server)."""
    paths = Paths.from_environment()
    quiet_libraries(paths.data)
    if writes:
        try:
            check_writable(paths)
        except DataFolderError as error:
            _fail(str(error))
    return paths


def _launch_prefect_api() -> None:
    """Start the temporary Prefect server now, without waiting for it, where `_prefect_api`
    will need one: it starts while the command imports its flows and reads its inputs."""
    from flows.runtime.prefect_server import api_is_configured, launch_server

    if not api_is_configured():
        # a server that cannot start is met again, and said, where `_prefect_api` waits for it
        with contextlib.suppress(OSError):
            launch_server(prefect_home())


@contextlib.contextmanager
def _prefect_api() -> Iterator[None]:
    """A Prefect API for the flows of one command: the configured one, or a temporary server
    that dies with this process (flows.runtime.prefect_server), refused in one line if it cannot
    start.
    When the flows are done (or one raised), `prefect_api` stops Prefect's background thread: it
    would otherwise keep the first flow run's context alive past the interpreter's exit."""
    from flows.runtime.prefect_server import PrefectServerError, prefect_api

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(prefect_api(prefect_home()))
        except PrefectServerError as error:
            _fail(str(error))
        yield


def _refused(error: Exception) -> None:
    """A run's refusal (or failure) in one line, exit 2."""
    from flows.extract.export import ExtractFailed

    # a run that failed (a full disk, say) was not refused: its message says what happened
    _fail(str(error) if isinstance(error, ExtractFailed) else f"refused: {error}")


def _engine(cluster: str | None = None) -> Engine:
    """How a run uses the machine, from REX_SLICE_PERSONS, REX_MEMORY_LIMIT, REX_PARALLEL_SLICES
    and REX_DASK_ADDRESS (or `cluster`); a bad setting is refused in one line."""
    try:
        return Engine.from_environment(cluster)
    except ValueError as error:
        _fail(f"REX_SLICE_PERSONS or REX_PARALLEL_SLICES: {error}")
        raise


def _day(as_of: dt.datetime | None) -> dt.date:
    """The date the rules are evaluated at: the one given, or today."""
    return as_of.date() if as_of else dt.date.today()


@contextmanager
def _extract_progress(label: str) -> Iterator[None]:
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


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
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
    paths = _paths()
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
            _fail(str(error))
            return
        except OSError as error:  # a full disk, a read-only folder: nothing was put in place
            _fail(
                f"{target}: the store cannot be written ({error.strerror or type(error).__name__})"
            )
            return
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
    for name, consultation in spec.consultations.items():
        asked = consultation.request.value.replace("_", " ")
        typer.echo(
            f"  consultation {name}: by {asked}, {len(consultation.variables)} variables "
            f"({consultation.reference})"
        )


@spec_app.command("explain")
def spec_explain(
    file: Annotated[Path, typer.Argument(help="spec YAML file")],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="date the spec is read at (default: today)"),
    ] = None,
    sources: Annotated[
        Path | None, typer.Option(help="source store (default: data/synthetic)")
    ] = None,
) -> None:
    """Show the population's funnel on the source store: for each condition, how many persons
    it keeps (counts only; logged in the audit log like a run)."""
    paths = _paths(writes=True)
    from flows.extract.explain import explain_population
    from flows.extract.export import REFUSALS, StepFailed

    day = _day(as_of)
    try:
        with _prefect_api():
            steps = explain_population(file, day, paths, sources or paths.sources)
    except REFUSALS as error:
        _refused(error)
        return
    except StepFailed as error:  # its message names the kind of error only
        _fail(str(error))
        return
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


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Argument(help="project name, as in the spec")],
) -> None:
    """Create a project's key in the key store (never replaces an existing one)."""
    from flows.stores import audit
    from flows.stores.keys import KeyStoreError, create_key, discard_new_key
    from specs.model import PROJECT_NAME

    paths = _paths(writes=True)
    if not PROJECT_NAME.fullmatch(project):
        _fail(f"project name {project!r}: use lowercase letters, digits and dashes")
    try:
        key_print = create_key(paths.key_store, project)
    except KeyStoreError as error:
        # The message names the project and the key store, never the key.
        with contextlib.suppress(audit.AuditLogError):  # the refusal is said all the same
            audit.append(
                paths.audit_log, "refusal", action="key_create", project=project, reason=str(error)
            )
        _fail(str(error))
        return
    except OSError as error:  # a full disk: no key file was left (flows.stores.keys.create_key)
        _fail(f"the key of {project} cannot be written in {paths.key_store} ({error.strerror})")
        return
    try:
        audit.append(paths.audit_log, "key_created", project=project, key_fingerprint=key_print)
    except audit.AuditLogError as error:
        # A key whose creation is not logged is not kept: one that is in use is always logged.
        discard_new_key(paths.key_store, project, key_print)
        _fail(f"{error}; the key of {project} was not created")
        return
    typer.echo(f"created the key of {project} (fingerprint {key_print}) in {paths.key_store}")


def _run_export(
    mode: str,
    spec: Path,
    as_of: dt.datetime | None,
    sources: Path | None,
    persons: Path | None = None,
    cluster: str | None = None,
    case: str | None = None,
    consultation: str | None = None,
):
    paths = _paths(writes=True)
    _launch_prefect_api()
    from flows.extract.export import (
        REFUSALS,
        control_export,
        onprem_build,
        sample_export,
        with_engine,
    )

    flow = {"sample": sample_export, "onprem": onprem_build, "control": control_export}[mode]
    day = _day(as_of)
    engine = _engine(cluster)
    flow = with_engine(flow, engine)
    try:
        with _prefect_api(), _extract_progress(f"{mode} export"):
            if mode == "control":
                return flow(
                    spec,
                    day,
                    paths,
                    sources or paths.sources,
                    persons,
                    engine,
                    case,
                    consultation=consultation,
                )
            return flow(spec, day, paths, sources or paths.sources, engine)
    except REFUSALS as error:
        _refused(error)


AsOf = Annotated[
    dt.datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="date the rules are evaluated at (default: today)"),
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


@export_app.command("sample")
def export_sample(
    spec: SpecFile = DEMO_SPEC, as_of: AsOf = None, sources: Sources = None, cluster: Cluster = None
) -> None:
    """Export the protected researcher sample into data/releases."""
    result = _run_export("sample", spec, as_of, sources, cluster=cluster)
    typer.echo(f"{result.status}: {result.folder}")


@export_app.command("onprem")
def export_onprem(
    spec: SpecFile = DEMO_SPEC, as_of: AsOf = None, sources: Sources = None, cluster: Cluster = None
) -> None:
    """Build the exact full-population panels in the on-premise workspace (data/onprem)."""
    result = _run_export("onprem", spec, as_of, sources, cluster=cluster)
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
    result = _run_export("control", spec, as_of, sources, persons, cluster, case, consultation)
    typer.echo(f"{result.status}: {result.folder}")


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
    from flows.stores import audit
    from flows.stores.ownership import writable_by_others

    paths = _paths()
    log = paths.audit_log
    problems = audit.verify(log)
    unsafe = writable_by_others(log.path) or writable_by_others(audit.head_path(log.path))
    records, deleted = verify.consultation_records(paths)
    for note in deleted:  # deleted as the spec says: no damage
        typer.echo(f"{log}: {note}")
    for note in audit.notes(log):
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
    count = len(audit.read(log))
    found = audit.segments(log)
    more = f" in {len(found)} segments" if len(found) > 1 else ""
    typer.echo(f"{log}: intact, {count} entries{more}")


def _against(log: audit.Log, manifest: Path) -> str | None:
    """Why the log does not hold what `manifest` states of it (None: it does): the head it
    states, and the release entry that recorded the manifest's own sha256."""
    import json

    from flows.release.files import sha256_file
    from flows.stores import audit

    try:
        stated = json.loads(manifest.read_bytes())
    except (OSError, ValueError) as error:
        return f"cannot be read as a manifest ({type(error).__name__})"
    if not isinstance(stated, dict) or "audit_head" not in stated:
        return "states no audit_head (published before manifests stated the log's head)"
    lost = audit.holds(log, stated["audit_head"])
    if lost:
        return f"the log no longer holds the head this manifest states: {lost}"
    digest = sha256_file(manifest)
    released = [
        e
        for e in audit.scan(log).entries
        if e.get("event") == "release" and e.get("manifest_sha256") == digest
    ]
    if not released:
        return "the log has no release entry with this manifest's sha256 (removed, or never made)"
    return None


@audit_app.command("new-segment")
def audit_new_segment() -> None:
    """Record the damage of a damaged audit log and go on in a fresh segment beside it."""
    from flows.stores import audit

    paths = _paths()
    found = audit.scan(paths.audit_log)
    if not found.current_is_damaged:
        _fail(f"{found.current} is not damaged: a fresh segment is opened only after damage")
    try:
        entry = audit.open_segment(paths.audit_log, found.problems)
    except audit.AuditLogError as error:
        _fail(str(error))
        return
    segment = audit.segments(paths.audit_log)[-1]
    typer.echo(
        f"{segment}: opened; its first entry records {len(entry['damaged']['problems'])} "
        f"problems of {found.current.name} and its sha256 (the damage stays as it is)"
    )


def _log_damage(log: audit.Log) -> list[str]:
    """One line per place where the audit log is damaged (an interrupted append is not)."""
    from flows.stores import audit

    return [f"{p.file or log}: {p}" for p in audit.verify(log) if not p.uncommitted]


@app.command("verify")
def verify_releases() -> None:
    """Check every release and workspace against its manifest, and each manifest against the
    digest the audit log recorded; one line each, exit 1 on any problem."""
    from flows.release import verify

    paths = _paths()
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
    from flows.stores import audit

    paths = _paths()
    day = _day(as_of)
    try:
        schedule = ReviewSchedule.from_environment()
    except ValueError as error:
        _fail(str(error))
        return
    drawn = schedule.disclosures if sample is None else sample
    drawn_consultations = schedule.consultations if consultations is None else consultations
    damage = _log_damage(paths.audit_log)
    for line in damage:
        typer.secho(f"warning: the audit log is damaged: {line}", fg=typer.colors.RED, err=True)
    total, findings = review(
        paths.audit_log, SPECS_DIR, drawn, day, seed, consultation_sample=drawn_consultations
    )
    plain, consulted = counts(audit.scan(paths.audit_log).entries, day)
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

    from flows.stores import audit, consultations
    from flows.stores.keys import KeyStoreError
    from flows.stores.requests import RequestError, one_person
    from flows.stores.roster import RosterError, is_data_steward, load_roster, login

    paths = _paths(writes=True)
    text = typer.get_text_stream("stdin").readline() if insz == "-" else insz
    operator = login()
    try:
        if not is_data_steward(load_roster(paths.roster), operator):
            reason = (
                f"{operator!r} does not hold the role 'data steward' in the staff roster "
                f"{paths.roster}: only the data steward may ask whose data was consulted"
            )
            audit.append(paths.audit_log, "refusal", action="person_lookup", reason=reason)
            _fail(f"refused: {reason}")
            return
        try:
            person = one_person(text)
            key = consultations.consultation_key(paths.key_store)
        except (RequestError, KeyStoreError) as error:
            # the message names no value: it goes to the log as it is
            audit.append(paths.audit_log, "refusal", action="person_lookup", reason=str(error))
            raise
        found = consultations.consultations_of(
            paths.audit_log, audit.scan(paths.audit_log).entries, person, key
        )
        # the look-up itself is logged: who asked, and how many consultations it showed
        audit.append(paths.audit_log, "person_lookup", consultations=len(found))
    except (RosterError, RequestError, KeyStoreError, audit.AuditLogError) as error:
        _fail(str(error))
        return
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


def _shown(paths: Paths, target: str) -> str:
    """A folder under the data folder, written relative to it."""
    path = Path(target)
    return str(path.relative_to(paths.data)) if path.is_relative_to(paths.data) else target


def _steps_table(title: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")  # a folder is shown whole, however narrow
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@retention_app.command("plan")
def retention_plan(as_of: AsOf = None) -> None:
    """Show what retention would delete, shred and ask attestations for, and why; change nothing."""
    from flows.schedule.retention import RetentionError, retention_plan, tombstones

    paths = _paths()
    day = _day(as_of)
    try:
        steps = retention_plan(paths, SPECS_DIR, day)
    except RetentionError as error:
        _fail(str(error))
        return
    rows = [
        ("finish deletion", "", _shown(paths, str(t)), "an earlier run stopped half-way")
        for t in tombstones(paths)
    ]
    rows += [(s.action.value, s.project, _shown(paths, s.target), s.reason) for s in steps]
    _steps_table(f"retention plan as of {day}", rows, ("action", "project", "target", "reason"))
    typer.echo(f"{len(rows)} steps; nothing was changed (`rex retention apply` carries them out)")


@retention_app.command("apply")
def retention_apply(as_of: AsOf = None) -> None:
    """Delete what is past its deadline, shred spent keys, log each step and verify it."""
    from flows.schedule.retention import RetentionError, retention
    from flows.stores import audit

    paths = _paths(writes=True)
    day = _day(as_of)
    segments_before = len(audit.segments(paths.audit_log))
    try:
        with _prefect_api():
            outcomes = retention(paths, SPECS_DIR, day)
    except RetentionError as error:
        _fail(str(error))
        return
    opened = audit.segments(paths.audit_log)[segments_before:]
    rows = [
        (
            o.step.action.value,
            o.step.project,
            _shown(paths, o.step.target),
            "done" if o.done else "FAILED",
            o.detail,
        )
        for o in outcomes
    ]
    _steps_table(
        f"retention as of {day}", rows, ("action", "project", "target", "result", "detail")
    )
    failed = sum(not o.done for o in outcomes)
    typer.echo(f"{len(outcomes) - failed} steps done, {failed} failed")
    for line in _log_damage(paths.audit_log):
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


@yearly_app.command("run")
def yearly_run(spec: SpecFile, as_of: AsOf = None, sources: Sources = None) -> None:
    """Make a spec's yearly delivery as of a date by hand, as its schedule would."""
    from flows.extract.export import REFUSALS, with_engine
    from flows.schedule.yearly import yearly_extract

    paths = _paths(writes=True)
    day = _day(as_of)
    engine = _engine()
    try:
        with _prefect_api():
            result = with_engine(yearly_extract, engine)(
                spec, day, paths, sources or paths.sources, engine
            )
    except REFUSALS as error:
        _refused(error)
        return
    typer.echo(f"{result.delivery.status}: {result.delivery.folder}")
    for folder in result.superseded:
        typer.echo(f"superseded and deleted: {folder}")


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
    paths = _paths(writes=True)
    from flows.analysis.run import REFUSALS, AnalysisFailed, analysis_run

    try:
        with _prefect_api():
            result = analysis_run(spec, _day(as_of), code, paths)
    except (*REFUSALS, AnalysisFailed) as error:
        _fail(str(error) if isinstance(error, AnalysisFailed) else f"refused: {error}")
        return
    # by number: a name the code chose could carry anything (the run's folder maps them)
    rows = [(str(c.number), c.kind, c.outcome, c.reason) for c in result.checks]
    _steps_table(f"outputs of run {result.run}", rows, ("output", "kind", "outcome", "reason"))
    typer.echo(f"run folder (stays inside): {_shown(paths, str(result.run_folder))}")
    typer.echo(f"nothing is published before its review: rex analyse review --run {result.run}")
    typer.echo(f"the code ran {result.seconds:.1f} s")
    if result.failure is not None:
        _fail(f"{result.failure}; every output is withheld")


RunId = Annotated[str, typer.Option(help="the run's id (`rex analyse run` prints it)")]
OutputNumber = Annotated[int, typer.Option(help="the output's number, as the review gives it")]


Step = TypeVar("Step")


def _signed_off(step: Callable[[], Step]) -> Step:
    """A sign-off step inside a Prefect API; its refusal or failure as one line."""
    from flows.analysis.run import REFUSALS, AnalysisFailed

    try:
        with _prefect_api():
            return step()
    except (*REFUSALS, AnalysisFailed) as error:
        _fail(str(error) if isinstance(error, AnalysisFailed) else f"refused: {error}")
        raise  # _fail exits; for the type checker


@analyse_app.command("review")
def analyse_review(run: RunId) -> None:
    """Show the review of a run's outputs: each output by number, what the checks made of it
    and why, the cells they changed, the sha256 and file a reviewer reads, the decisions so
    far, and the code as its difference from the last reviewed version (also written to
    review.md in the run's folder). Changes nothing but that file."""
    paths = _paths(writes=True)
    from flows.analysis import signoff

    path = _signed_off(lambda: signoff.review(paths, run, SPECS_DIR))
    typer.echo(path.read_text())
    typer.echo(f"written to {_shown(paths, str(path))}")


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
    paths = _paths(writes=True)
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
    paths = _paths(writes=True)
    from flows.analysis import signoff

    released = _signed_off(lambda: signoff.release(paths, run, SPECS_DIR))
    typer.echo(f"published outputs {', '.join(map(str, released.released))}: {released.folder}")
    for number, why in released.held.items():
        typer.echo(f"output {number} held back: {why}")


@app.command()
def serve() -> None:
    """Serve the yearly and retention deployments (needs a running Prefect server)."""
    paths = _paths()
    import os

    from prefect import serve as prefect_serve

    from flows.schedule.deployments import deployments

    if not os.environ.get("PREFECT_API_URL"):
        _fail(
            "schedules fire only against a running Prefect server: start one with "
            f"`PREFECT_HOME={paths.data / '.prefect'} .venv/bin/prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    prefect_serve(*deployments())


def _demo_store(sources: Path) -> dict | None:
    """What the demo's source store says of itself (None: there is none yet); a folder that holds
    files but no store.json is refused, since rex takes such a store for real data."""
    from synthetic.generate import synthetic_store

    if not sources.exists() or (sources.is_dir() and not any(sources.iterdir())):
        return None
    description = synthetic_store(sources)
    if description is None:
        _fail(
            f"{sources} holds no store.json saying it is synthetic, so rex takes it for real data "
            "and will not replace it: move it away, or set REX_DATA_DIR to another data folder"
        )
    return description


DEMO_ANALYSIS = SPECS_DIR.parent / "notebooks" / "barometer_onprem.py"


def _demo_analysis(paths: Paths) -> str:
    """The barometer run on the whole on-premise population (`rex analyse run`), once per code
    and workspace, and its review written; lines saying what came out and how its reviewers
    sign it off. Inside a Prefect API (`_prefect_api`)."""
    import json

    from flows.analysis import signoff
    from flows.analysis.output_checking import WITHHELD
    from flows.analysis.run import REFUSALS, RUN_RECORD, AnalysisFailed, analysis_run, earlier_run

    folder = earlier_run(paths, DEMO_SPEC, DEMO_AS_OF, DEMO_ANALYSIS)
    try:
        if folder is None:
            result = analysis_run(DEMO_SPEC, DEMO_AS_OF, DEMO_ANALYSIS, paths)
            folder, ran = result.run_folder, f"{result.seconds:.0f} s"
        else:
            ran = "unchanged since its last run"
        record = json.loads((folder / RUN_RECORD).read_text())
        review = signoff.review(paths, record["run"], SPECS_DIR)
    except (*REFUSALS, AnalysisFailed) as error:
        _fail(f"the barometer's analysis run: {error}")
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


@app.command()
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

    paths = _paths(writes=True)
    from flows.extract.export import REFUSALS, onprem_build, sample_export, with_engine
    from flows.release.validate import prepare_in_background
    from flows.stores import keys
    from synthetic.generate import generate

    engine = _engine()
    console = Console(stderr=True)
    started = time.perf_counter()
    _launch_prefect_api()  # it starts while the store is generated
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
    try:
        with _prefect_api():
            with _extract_progress("sample export of 18/088"):
                sample = with_engine(sample_export, engine)(
                    DEMO_SPEC, DEMO_AS_OF, paths, paths.sources, engine
                )
            with _extract_progress("on-premise build of 18/088"):
                onprem = with_engine(onprem_build, engine)(
                    DEMO_SPEC, DEMO_AS_OF, paths, paths.sources, engine
                )
            analysed = _demo_analysis(paths)
    except REFUSALS as error:
        _refused(error)
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
    typer.echo(analysed)
    typer.echo(
        f"key fingerprint {sample.manifest['key_fingerprint']}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    typer.echo(str(sample.folder))


if __name__ == "__main__":
    app()
