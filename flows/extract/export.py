"""The two extract flows: the researcher sample export and the on-premise build.

Both read as extract, transform, validate, load: authorise the run, read the key and the sources,
select the population (and, for the sample, draw it), build the panels, protect them, validate
every panel, then publish the release in one step and log it. Any refusal is logged and leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import duckdb
import polars as pl
from prefect import Flow, Task, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.extract import disclosure, sample_mark, slices
from flows.extract.source_volume import refuse_empty_population, refuse_thin_sources
from flows.release import dossier, formats
from flows.release.files import WITNESS, sha256_file, write_json
from flows.release.parquet_writer import RowGroupWriter
from flows.release.publish import ReleaseExists, discard, publish, staging_folder
from flows.release.validate import (
    Outcome,
    SliceValidation,
    ValidationFailed,
    combined,
    distinct_count_outcomes,
    per_slice,
    prepare_in_background,
    refuse_failures,
    validate_panel,
    waiting_for_validation,
)
from flows.runtime.progress import Progress, report
from flows.runtime.settings import DEFAULT_PARALLEL_SLICES, Engine, Paths
from flows.stores import audit, consultations
from flows.stores.keys import KeyStoreError, fingerprint, load_key
from flows.stores.requests import RequestError, read_consultation_request, read_person_list
from flows.stores.roster import RosterError, StaffMember, load_roster, login, roster_digest
from flows.stores.sources import SourceError, open_sources, store_is_synthetic
from specs.authorisation import run_refusals
from specs.catalog import PANELS, VARIABLES, Granularity
from specs.checks import panel_checks
from specs.codebook import codebook, codebook_markdown, output_checks_markdown
from specs.load import SpecError, load_spec, spec_digest
from specs.model import Consultation, Mode, ModeName, RequestKind, Spec
from specs.release import ReleasedColumn, released_panels, released_summaries
from transforms import calendar, derivation_audit, panels, source_checks
from transforms.derivation_audit import DerivationRefused
from transforms.disclosure_risk import DisclosureRiskTooHigh, refuse_above_threshold
from transforms.employers import employer_lines
from transforms.modes import pseudonym_key, pseudonyms_statement
from transforms.protect import PERSON_ID
from transforms.pseudonymise import (
    PERSON,
    PseudonymCollision,
    pseudonym_map,
    pseudonym_set_digest,
)
from transforms.requested import messages_asked_for
from transforms.sample import PopulationTooSmall, draw_sample
from transforms.scramble import permutation
from transforms.source_checks import SourceDefects
from transforms.summaries import combine as summarise_parts

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class AuthorisationError(RuntimeError):
    """The spec does not allow this run on this date."""


class ExtractFailed(RuntimeError):
    """A run stopped on an unexpected error; nothing was published."""


REFUSALS = (
    AuthorisationError,
    consultations.CaseError,
    RosterError,
    RequestError,
    KeyStoreError,
    SourceError,
    SourceDefects,
    SpecError,
    ValidationFailed,
    DerivationRefused,
    PopulationTooSmall,
    PseudonymCollision,
    ReleaseExists,
    DisclosureRiskTooHigh,
    ExtractFailed,
    # A log that cannot take an entry stops the run with its own one-line message (file, reason).
    audit.AuditLogError,
)


# Errors of the file system itself (full disk, quota, read-only or forbidden folder): their
# reason is the operating system's and the file a path rex chose, so they quote no data and are
# said; a library's own wording of them (which may add detail) is replaced by the system's.
FILE_SYSTEM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES})


def file_system_reason(error: BaseException) -> str | None:
    """What a file-system error says, e.g. 'No space left on device (writing /x/y)'; None for
    any other error, whose message stays withheld."""
    if not isinstance(error, OSError) or error.errno not in FILE_SYSTEM_ERRNOS:
        return None
    where = f" (writing {error.filename})" if isinstance(error.filename, str | Path) else ""
    return f"{os.strerror(error.errno)}{where}"


class StepFailed(RuntimeError):
    """A step stopped on an unexpected error, whose message is withheld (see `withheld`), or on
    a file-system error, which is said (`file_system_reason`)."""

    def __init__(self, step: str, kind: str, said: str | None = None):
        self.kind = kind
        self.said = said
        super().__init__(
            f"{kind} in {step}: {said}"
            if said
            else f"{kind} in {step}; its details are withheld because they may quote source data"
        )


def withheld(step: Callable[P, R]) -> Callable[P, R]:
    """The step, raising its refusals as they are and any other error as StepFailed.

    Prefect keeps a failed task's exception message in its database (the task's state) and an
    unexpected error's message can quote source data (an identifier in a conversion error), so
    no such message may leave a task. The refusals' messages are ours and name no value.
    """

    @functools.wraps(step)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return step(*args, **kwargs)
        except REFUSALS:
            raise
        except Exception as error:
            said = file_system_reason(error)
            raise StepFailed(step.__name__, type(error).__name__, said) from None

    return run


def spec_context(spec: Spec, spec_path: Path) -> dict[str, Any]:
    """What a run's log entries say of its authorisation: the spec's version and its parties."""
    return {
        "spec_sha256": spec_digest(spec_path),
        "deliberation": spec.deliberation,
        "recipient": spec.recipient,
        "purpose": spec.purpose,
    }


def manifest_header(spec: Spec, spec_path: Path, mode_name: ModeName) -> dict[str, Any]:
    """The first lines of a manifest: what made it, under which spec, for whom, in which mode."""
    return {
        "rex_version": version("rex"),
        "deliberation": spec.deliberation,
        "title": spec.title,
        "project": spec.project,
        "recipient": spec.recipient,
        "purpose": spec.purpose,
        "spec": {"file": spec_path.name, "sha256": spec_digest(spec_path)},
        "mode": mode_name.value,
    }


def operator_context(paths: Paths) -> tuple[str, StaffMember, dict[str, Any]]:
    """Who runs, their roster entry, and what the access rule is checked against (logged, so
    that a review can check it again)."""
    operator = login()
    staff = load_roster(paths.roster).member(operator)
    return (
        operator,
        staff,
        {
            "roster_sha256": roster_digest(paths.roster),
            "roles": list(staff.roles),
            "declaration_signed": staff.declaration_signed and staff.declaration_signed.isoformat(),
        },
    )


@contextlib.contextmanager
def outcome_logged(
    log: audit.Log,
    context: dict[str, Any],
    refusals: tuple[type[BaseException], ...],
    failed: Callable[[str], Exception],
) -> Iterator[None]:
    """Log what stops a run: a refusal with its message (ours, naming no value), any other
    error with its kind only, raised again as `failed(kind)` (its message may quote data). The
    entry takes `context` as it stands when the run stops. An audit log that cannot be written
    stops the run as it is."""
    try:
        yield
    except audit.AuditLogError:
        raise
    except refusals as error:
        audit.append(log, "refusal", **context, reason=str(error))
        raise
    except Exception as error:
        kind = error.kind if isinstance(error, StepFailed) else type(error).__name__
        audit.append(log, "failure", **context, reason=kind)
        raise failed(kind) from None


# Panels in which every person of the extract has rows (alive during the period).
PANELS_WITH_EVERY_PERSON = frozenset({"month", "quarter"})
# the pseudonym domain of an A052 message number, as the catalog declares it
A052_MESSAGE_DOMAIN = str(VARIABLES["a052_message_number"].pseudonym_domain)
# The run's own folder inside the staging folder (its database and DuckDB's spill), removed
# before the release is published; a run that stops leaves it to retention with the staging.
WORK_FOLDER = ".work"


@dataclass(frozen=True)
class ExtractResult:
    status: str  # "published" or "unchanged"
    folder: Path
    manifest: dict[str, Any]


def release_folder(
    paths: Paths, spec: Spec, mode: ModeName, as_of: dt.date, request: str | None = None
) -> Path:
    """Where a run's release goes; `request` tells apart the answers to several lists of
    persons on one day (a keyed digest of the list, so that the name reveals nobody)."""
    # Sample and control deliveries leave the building; the on-premise build stays in.
    base = paths.onprem if mode is ModeName.ONPREM else paths.releases
    name = f"{spec.deliberation.replace('/', '-')}_{mode.value}_{as_of.isoformat()}"
    if request is not None:
        name += f"_request-{request}"
    return base / spec.project / name


def authorise(
    spec: Spec,
    mode_name: ModeName,
    as_of: dt.date,
    operator: str,
    synthetic_store: bool,
    staff: StaffMember | None = None,
    today: dt.date | None = None,
) -> Mode:
    """The mode as this run gets it, if the spec allows `operator` (with the roles and declaration
    the roster records as `staff`) a run of it on `as_of` on this store; else AuthorisationError.

    The mode comes back with this run's deadline in `delete_by` (None: kept for the whole
    career); a test run, before the spec is in force, gets the test deadline.
    """
    staff = staff or StaffMember()
    reasons = run_refusals(
        spec,
        mode_name,
        as_of,
        operator,
        staff.roles,
        staff.declaration_signed,
        synthetic_store,
        made_on=today,
    )
    if reasons:
        raise AuthorisationError(reasons[0])
    mode = spec.modes[mode_name]
    deadline = spec.run_deadline(mode, as_of)
    return mode.model_copy(
        update={"delete_by": deadline, "keep_months": None, "keep_whole_career": deadline is None}
    )


def is_test_run(spec: Spec, as_of: dt.date) -> bool:
    """A run before the spec's regulation took effect: synthetic data, for tests only."""
    return spec.in_force is not None and not spec.in_force.in_force(as_of)


def delivered_spec(spec: Spec, as_of: dt.date) -> Spec:
    """The spec with the period a run as of `as_of` delivers (see specs.model.Delivery)."""
    try:
        return spec.as_delivered(as_of)
    except ValueError as error:
        raise AuthorisationError(f"deliberation {spec.deliberation}: {error}") from None


def period_values(spec: Spec) -> dict[Granularity, list]:
    return {
        Granularity.MONTH: calendar.months(spec.period)["month"].to_list(),
        Granularity.QUARTER: calendar.quarters(spec.period)["quarter"].to_list(),
        Granularity.YEAR: calendar.years(spec.period)["year"].to_list(),
    }


@task(cache_policy=NO_CACHE)
@withheld
def check_sources_task(
    sources: dict[str, duckdb.DuckDBPyRelation],
) -> tuple[dict[str, duckdb.DuckDBPyRelation], list[source_checks.Finding]]:
    """What the source checks found, and the sources cleaned by their rules (lazily: a run
    refused for what was found never reads the cleaned tables)."""
    findings = source_checks.find_defects(sources)
    return source_checks.clean_sources(sources, findings), findings


@task(cache_policy=NO_CACHE, retries=0)
@withheld
def select_population_task(
    sources: dict[str, duckdb.DuckDBPyRelation], spec: Spec, listed: pl.DataFrame | None = None
) -> pl.DataFrame:
    return panels.spec_population(sources, spec, listed).pl().sort("insz")


@task(cache_policy=NO_CACHE)
@withheld
def draw_sample_task(population: pl.DataFrame, key: bytes, persons: int) -> pl.DataFrame:
    return draw_sample(population, key, persons)


# The sample's disclosure-risk figures against the whole population (counts only).
disclosure_risk_task = task(name="disclosure_risk", cache_policy=NO_CACHE)(
    withheld(disclosure.measure)
)


@task(cache_policy=NO_CACHE)
@withheld
def person_ids_task(population: pl.DataFrame, mode: Mode, key: bytes) -> pl.DataFrame:
    """Each person of the extract (insz) with the id the release gives them (person_id: the
    pseudonym, or the INSZ in an identified release); refuses two persons with one pseudonym."""
    persons = pseudonym_map(population["insz"], key, PERSON)
    if mode.identified:
        return persons.select(insz="id", person_id="id")
    return persons.select(insz="id", person_id="pseudonym")


@task(cache_policy=NO_CACHE)
@withheld
def materialise_task(
    con: duckdb.DuckDBPyConnection,
    sources: dict[str, duckdb.DuckDBPyRelation],
    spec: Spec,
    columns: dict[str, tuple[str, ...]],
    assignment: pl.DataFrame,
) -> None:
    """The cleaned sources of the extract's persons, once, in the run's database: of each
    table, the columns the panels read (panels.source_columns)."""
    employers = spec.population.employer_lines_only
    if employers is not None:
        lines = employer_lines(sources["dmfa.occupations"], employers)
        sources = {**sources, "dmfa.occupations": lines}
    slices.materialise(con, sources, columns, assignment)


@task(cache_policy=NO_CACHE)
@withheld
def own_pairs_task(job: slices.SliceJob, key: bytes) -> dict[str, pl.DataFrame]:
    return slices.slice_own_pairs(job, key)


@task(cache_policy=NO_CACHE)
@withheld
def extract_slice_task(job: slices.SliceJob, key: bytes) -> slices.SliceResult:
    return slices.extract_slice(job, key)


def task_runner(engine: Engine) -> TaskRunner[Any]:
    """Where the slices' tasks run: this machine's threads, or the Dask cluster named."""
    if engine.cluster is None:
        return ThreadPoolTaskRunner(max_workers=slices_in_flight(engine))
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=engine.cluster)


def with_engine(extract: Flow[P, R], engine: Engine) -> Flow[P, R]:
    """The extract flow with its slices run as `engine` says (pass the engine to it too)."""
    return extract.with_options(task_runner=task_runner(engine))


def slices_in_flight(engine: Engine) -> int:
    """Slices built at once: the engine's number, or one per two cores here, or two per
    worker thread of the cluster (so that none waits while the client writes)."""
    if engine.parallel is not None:
        return engine.parallel
    if engine.cluster is None:
        return DEFAULT_PARALLEL_SLICES
    from distributed import Client

    with Client(engine.cluster, timeout=30) as client:
        return 2 * max(1, sum(client.nthreads().values()))


def in_order(
    step: Task[[slices.SliceJob, bytes], T], jobs: list[slices.SliceJob], key: bytes, engine: Engine
) -> Iterator[T]:
    """The step's result for each job, in the jobs' order, with at most `slices_in_flight` of
    them submitted ahead (so memory holds that many slices, whatever their number). The key
    goes to the task as an argument: held in memory, never written by Prefect or Dask."""
    window = slices_in_flight(engine)
    running: deque[PrefectFuture[T]] = deque()
    for job in jobs:
        running.append(step.submit(job, key))
        if len(running) >= window:
            yield running.popleft().result()
    while running:
        yield running.popleft().result()


def scrambled_pairs(
    jobs: list[slices.SliceJob], spec: Spec, key: bytes, engine: Engine
) -> dict[str, pl.DataFrame]:
    """Per panel with nationality columns, the pairs every person receives: each person's own
    pair from the slices, then one keyed permutation over all persons (a global step)."""
    report(Progress("nationalities of the persons"))
    own = list(in_order(own_pairs_task, jobs, key, engine))
    return {
        name: permutation(
            pl.concat([part[name] for part in own]),
            slices.nationality_columns(spec, name),
            key,
            PERSON_ID,
        )
        for name in own[0]
    }


@dataclass
class BuiltRelease:
    """What the slices gave: the files written, and the totals the manifest needs."""

    files: dict[str, dict[str, Any]]
    outcomes: dict[str, list[Outcome]]
    findings: list[source_checks.Finding]
    persons: int
    pseudonym_set_sha256: str
    derivation_audit: list[dict[str, Any]] = field(default_factory=list)
    disclosure_risk: dict[str, Any] | None = None  # a sample's figures (flows.extract.disclosure)
    # a consultation's persons, as keyed digests (flows.stores.consultations), never their INSZs
    consulted: pl.Series | None = None


def build_release(
    staging: Path,
    sources_dir: Path,
    spec: Spec,
    mode: Mode,
    key: bytes,
    listed: pl.DataFrame | None,
    layout: dict[str, list[ReleasedColumn]],
    engine: Engine,
    pseudonyms_key: bytes | None = None,
    asked: ConsultationRequest | None = None,
    consultation_key: bytes | None = None,
) -> BuiltRelease:
    """Select, build, protect, validate and write the release into `staging`, a slice of
    persons at a time; ValidationFailed (after every slice, so that the counts are the
    release's) if any panel fails its suite. `key`: the project key (it draws the sample);
    `pseudonyms_key`: the mode's (transforms.modes), which makes the pseudonyms;
    `consultation_key`: for a consultation, the key of the consulted persons' digests."""
    draw_key, key = key, key if pseudonyms_key is None else pseudonyms_key
    work = staging / WORK_FOLDER
    work.mkdir()
    prepare_in_background()
    try:
        database = work / slices.DATABASE
        con = slices.connect(database, engine)
        try:
            report(Progress("checking the sources"))
            opened = open_sources(con, sources_dir)
            refuse_thin_sources(opened, sources_dir, spec)  # before an empty table looks clean
            sources, findings = check_sources_task(opened)
            source_checks.refuse_uncleanable(findings)  # a refusal, not a failed task
            if asked is not None:  # a consultation gets the messages it asks for, no others
                sources[panels.MESSAGES] = messages_asked_for(
                    sources[panels.MESSAGES], asked.lines, asked.kind
                )
            population = select_population_task(sources, spec, listed)
            refuse_empty_population(population, spec)
            consulted = (
                None
                if consultation_key is None
                else consultations.person_digests(population["insz"], consultation_key)
            )
            risk = None
            everyone = population
            if mode.persons is not None:
                population = draw_sample_task(population, draw_key, mode.persons)
            person_ids = person_ids_task(population, mode, key)
            slice_persons = engine.persons_per_slice(sample=mode.persons is not None)
            assignment = slices.assign_slices(person_ids, slice_persons)
            names = {
                name: tuple(spec.variables_of_panel(name))
                for name in PANELS
                if spec.variables_of_panel(name)
            }
            tables = tuple(sorted(panels.source_tables(names)))
            if mode.persons is not None and disclosure.applies(mode):
                # the risk reads the whole population's rows: they are materialised once, with
                # the sample's (the others in no slice), instead of going through the source
                # checks again for every panel the risk builds
                report(Progress(f"sources of {everyone.height:,} persons"))
                measured = disclosure.source_columns(spec, mode)
                # the population's rows are read in chunks of the size of its slices, not the
                # sample's (the risk's cost per chunk is fixed in part)
                outside = disclosure.OUTSIDE_SLICE_SCALE * engine.persons_per_slice(sample=False)
                outsiders = slices.with_outsiders(assignment, everyone, outside)
                # the tables the risk reads hold everyone's rows (with the release's columns
                # too), the others the sample's only
                both = panels.source_columns(names, disclosure.measured_panels(spec, mode))
                release_only = {k: c for k, c in both.items() if k not in measured}
                materialise_task(con, sources, spec, release_only, assignment)
                everyones = {k: c for k, c in both.items() if k in measured}
                materialise_task(con, sources, spec, everyones, outsiders)
                report(Progress("disclosure risk against the population"))
                chunks = slices.each_slice_sources(con, tuple(sorted(measured)), outsiders)
                risk = disclosure_risk_task(con, chunks, spec, mode, everyone, population)
                refuse_above_threshold(risk, risk["max_unique_share"])
            else:
                report(Progress(f"sources of {population.height:,} persons"))
                materialise_task(con, sources, spec, panels.source_columns(names), assignment)
        finally:
            con.close()
        checks = {
            name: panel_checks(layout[name], mode.persons, name in PANELS_WITH_EVERY_PERSON)
            for name in names
        }
        split = {name: per_slice(panel) for name, panel in checks.items()}
        count = slices.slice_count(population.height, slice_persons)
        jobs = [
            slices.SliceJob(
                database=database,
                engine=engine,
                spec=spec,
                mode=mode,
                number=number,
                tables=tables,
                names=names,
                listed=None
                if listed is None
                else listed.join(
                    assignment.filter(pl.col(slices.SLICE) == number), on="insz", how="semi"
                ),
            )
            for number in range(count)
        ]
        if mode.protect.nationality == "scramble" and any(
            slices.nationality_columns(spec, name) for name in names
        ):
            pairs = scrambled_pairs(jobs, spec, key, engine)
            jobs = [
                replace(
                    job,
                    scrambled={
                        name: received.join(
                            assignment.filter(pl.col(slices.SLICE) == job.number),
                            on=PERSON_ID,
                            how="semi",
                        )
                        for name, received in pairs.items()
                    },
                )
                for job in jobs
            ]
        built = _write_slices(
            staging,
            jobs,
            key,
            spec,
            layout,
            split,
            findings,
            population.height,
            engine,
            slice_persons,
        )
        if sample_mark.TABLE in layout:
            entry, outcomes = sample_mark.write_mark(
                staging, spec, population, person_ids, draw_key, layout[sample_mark.TABLE]
            )
            built.files[f"{sample_mark.TABLE}.parquet"] = entry
            built.outcomes[sample_mark.TABLE] = outcomes
        return replace(built, disclosure_risk=risk, consulted=consulted)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_slices(
    staging: Path,
    jobs: list[slices.SliceJob],
    key: bytes,
    spec: Spec,
    layout: dict[str, list[ReleasedColumn]],
    split: dict[str, tuple[list, list]],
    findings: list[source_checks.Finding],
    persons: int,
    engine: Engine,
    slice_persons: int,
) -> BuiltRelease:
    """Run the slices, appending each to the panel files in order, then the summaries."""
    files = slices.PanelFiles(staging)
    validation = SliceValidation(
        {name: checks[0] for name, checks in split.items()},
        waiting_bytes=waiting_for_validation(sample=jobs[0].mode.persons is not None),
    )
    rows = dict.fromkeys(split, 0)
    distinct = dict.fromkeys(split, 0)
    pseudonyms: list[pl.Series] = []
    partials: dict[str, list[pl.DataFrame]] = {name: [] for name in spec.summaries}
    derivations: list[list[tuple[int, int]]] = []
    done = 0
    report(Progress("slices", 0, len(jobs), 0, persons))
    try:
        for result in in_order(extract_slice_task, jobs, key, engine):
            files.write_slice(result.tables)
            for name, table in result.tables.items():
                validation.add(name, table)
                rows[name] += result.rows[name]
                distinct[name] += result.distinct[name]
            pseudonyms.append(result.pseudonyms)
            derivations.append(result.derivations)
            for name, partial in result.partials.items():
                partials[name].append(partial)
            done += 1
            persons_done = min(done * slice_persons, persons)
            report(Progress("slices", done, len(jobs), persons_done, persons))
            del result
        files.close()
    except BaseException:
        files.discard()
        raise
    outcomes = validation.finish()
    merged = {
        name: combined(parts, distinct_count_outcomes(split[name][1], {PERSON_ID: distinct[name]}))
        for name, parts in outcomes.items()
    }
    for name, panel_outcomes in merged.items():
        refuse_failures(name, panel_outcomes)
    found = derivation_audit.attacks(spec, jobs[0].mode) if jobs else []
    derived = derivation_audit.findings(
        spec, found, derivation_audit.add_counts(derivations, len(found))
    )
    derivation_audit.refuse_unaccepted(derived)
    entries: dict[str, dict[str, Any]] = {
        f"{name}.parquet": {
            "rows": rows[name],
            "persons": distinct[name],
            "sha256": sha256_file(files.path(name)),
        }
        for name in split
    }
    # the summaries are made from the panels as released: global steps, like the sample
    for name, summary in spec.summaries.items():
        frame = summarise_parts(partials[name], summary)
        merged[name] = validate_panel(name, frame, panel_checks(layout[name], None, False))
        path = staging / f"{name}.parquet"
        writer = RowGroupWriter(path, frame.to_arrow().schema)
        writer.write(frame.to_arrow())
        writer.close()
        entries[path.name] = {"rows": frame.height, "persons": None, "sha256": sha256_file(path)}
    return BuiltRelease(
        files=entries,
        outcomes=merged,
        findings=findings,
        persons=persons,
        pseudonym_set_sha256=pseudonym_set_digest(pl.concat(pseudonyms)),
        derivation_audit=derived,
    )


@task(cache_policy=NO_CACHE)
@withheld
def publish_task(
    built: BuiltRelease,
    layout: dict[str, list[ReleasedColumn]],
    header: dict[str, Any],
    staging: Path,
    target: Path,
    record: Callable[[str, dict[str, Any], str], None],
    log: audit.Log,
) -> ExtractResult:
    """Write the codebook and the manifest beside the panels the slices wrote, and move the
    release into place; `record(status, manifest, manifest_sha256)` logs it first (see
    flows.release.publish.publish). The manifest states the audit log's head as it is then
    (`audit_head`): a copy outside the log that `rex audit verify --against` checks it by."""
    files = dict(built.files)
    if header["mode"] == ModeName.SAMPLE.value:  # the researchers' formats, beside Parquet
        title = f"deliberation {header['deliberation']}, {header['mode']}"
        as_of = dt.date.fromisoformat(header["as_of"])
        for name in formats.write_formats(staging, layout, title, as_of):
            files[name] = {"sha256": sha256_file(staging / name)}
    book = codebook(layout, {**header["summaries"], sample_mark.TABLE: sample_mark.DESCRIPTION})
    write_json(book, staging / "codebook.json")
    book_text = codebook_markdown(
        f"deliberation {header['deliberation']}, {header['mode']}",
        book,
        header.get("population"),
    )
    if "output_checks" in header:
        book_text += "\n" + output_checks_markdown(header["output_checks"])
    (staging / "codebook.md").write_text(book_text)
    for name in ("codebook.json", "codebook.md"):
        files[name] = {"sha256": sha256_file(staging / name)}
    manifest = {
        **header,
        "files": files,
        "validation": {
            name: [o.__dict__ for o in panel_outcomes]
            for name, panel_outcomes in built.outcomes.items()
        },
    }
    # the dossier quotes the manifest but its list of files, which then lists the dossier
    for name in dossier.write_dossier(staging, manifest, book):
        files[name] = {"sha256": sha256_file(staging / name)}
    # after the dossier, which quotes the manifest: the head is when it was made, not what
    manifest[WITNESS] = audit.witness(log)
    write_json(manifest, staging / "manifest.json")
    made = sha256_file(staging / "manifest.json")

    def logged(outcome: str) -> None:
        # an identical rerun keeps the release there, whose manifest states its own head
        kept = outcome == "unchanged"
        record(outcome, manifest, sha256_file(target / "manifest.json") if kept else made)

    status = publish(staging, target, logged)
    return ExtractResult(status, target, manifest)


def population_statement(spec: Spec) -> dict[str, str]:
    """The population in the deliberation's words and in words generated from the spec's
    expression, for the manifest and the codebook."""
    return {
        "description": spec.population.description,
        "in_words": spec.population_in_words(),
    }


def requested_persons(spec: Spec, persons_file: Path | None) -> pl.DataFrame | None:
    """The listed persons, where the spec's population is the recipient's list."""
    listing = spec.population.lists_persons
    if listing and persons_file is None:
        raise AuthorisationError(
            f"the population of deliberation {spec.deliberation} is the persons its recipient "
            "lists: give the list of the request (one INSZ per line)"
        )
    if not listing and persons_file is not None:
        raise AuthorisationError(
            f"the population of deliberation {spec.deliberation} is "
            f"{spec.population_in_words()}, not a list of persons: a list given with the run is "
            "refused"
        )
    return None if persons_file is None else read_person_list(persons_file)


@dataclass(frozen=True)
class ConsultationRequest:
    """What a consultation request asks with each person (04/037): `lines` of insz and a
    message_number or resumption_date, by `kind`."""

    kind: RequestKind
    lines: pl.DataFrame


def chosen_consultation(spec: Spec, name: str | None) -> Consultation | None:
    """The consultation a run names: required where the spec has consultations, refused where
    it has none or not that one."""
    if not spec.consultations:
        if name is not None:
            raise AuthorisationError(
                f"deliberation {spec.deliberation} names no consultations: a run of it cannot "
                f"ask for {name!r}"
            )
        return None
    known = ", ".join(spec.consultations)
    if name is None:
        raise AuthorisationError(
            f"deliberation {spec.deliberation} allows its consultations only ({known}): name "
            "the one the request asks for"
        )
    if name not in spec.consultations:
        raise AuthorisationError(
            f"deliberation {spec.deliberation} allows no consultation {name!r}; it allows {known}"
        )
    return spec.consultations[name]


def consultation_request(
    spec: Spec, consultation: Consultation, persons_file: Path | None
) -> ConsultationRequest | None:
    """The request's lines, where the consultation asks for more than the persons (None for
    the persons alone, which requested_persons reads)."""
    if consultation.request is RequestKind.PERSONS:
        return None
    if persons_file is None:
        raise AuthorisationError(
            f"the consultation {consultation.description!r} of deliberation "
            f"{spec.deliberation} needs the request's list: one INSZ and its "
            f"{consultation.request.value.replace('_', ' ')} per line"
        )
    return ConsultationRequest(
        consultation.request, read_consultation_request(persons_file, consultation.request)
    )


def consultation_tag(
    persons_tag: str, consultation: str, asked: ConsultationRequest | None, key: bytes
) -> str:
    """The request tag of a consultation: a digest of its name, its persons' tag and what it
    asks with each person, the persons and message numbers as keyed pseudonyms, so that two
    requests of a day about the same persons get folders of their own and no tag names anyone."""
    lines = pl.Series("line", [consultation, persons_tag])
    if asked is not None:
        person = pseudonym_map(asked.lines["insz"], key, PERSON).rename({"id": "insz"})
        asked_for = asked.lines.columns[1]
        value = pl.col(asked_for).cast(pl.String)
        keyed = asked.lines.join(person, on="insz", how="left")
        if asked.kind is RequestKind.MESSAGE_NUMBERS:
            numbers = pseudonym_map(asked.lines[asked_for], key, A052_MESSAGE_DOMAIN)
            keyed = keyed.join(
                numbers.rename({"id": asked_for, "pseudonym": "number"}), on=asked_for
            )
            value = pl.col("number")
        lines = pl.concat([lines, keyed.select(line=pl.col("pseudonym") + ";" + value)["line"]])
    return pseudonym_set_digest(lines)[:12]


def run_extract(
    spec_path: Path,
    mode_name: ModeName,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    precondition: Callable[[Spec], None] | None = None,
    persons_file: Path | None = None,
    engine: Engine | None = None,
    case_reference: str | None = None,
    consultation: str | None = None,
) -> ExtractResult:
    """One extract run from spec to published release; every outcome is in the audit log.

    `precondition` lets a flow add a rule of its own (it raises AuthorisationError), checked
    after the spec's and logged like them. `persons_file`: the recipient's list of the persons
    it asks about, for a spec whose population is `listed_persons` (and for no other).
    `engine`: the memory limit and persons per slice (the release does not depend on them).
    `case_reference`: the case that justifies a consultation (the control mode), without which
    it is refused (flows.stores.consultations); logged, in a detail record, with the request.
    `consultation`: the one the request asks for, where the spec names consultations (its
    variables only are delivered, and of the A052 messages those the request asks for).
    """
    context: dict[str, Any] = {
        "run": uuid.uuid4().hex[:16],
        "spec": spec_path.name,
        "mode": mode_name.value,
        "as_of": as_of.isoformat(),
    }
    # A consultation's case is logged with its request, before anything is consulted (16/046
    # point 9: tied to a case that existed, and was logged, before it).
    consulting = mode_name is ModeName.CONTROL
    case_refusal = consultations.case_problem(case_reference) if consulting else None
    if consulting and case_refusal is None and case_reference is not None:
        case = consultations.Detail(
            kind="case",
            run=context["run"],
            at=dt.datetime.now(dt.UTC),
            actor=login(),
            spec=spec_path.name,
            mode=mode_name.value,
            as_of=as_of,
            case_reference=case_reference,
        )
        try:
            context["case"] = consultations.write_detail(paths.audit_log, case)
        except OSError as error:
            raise audit.AuditWriteFailed(
                consultations.details_folder(paths.audit_log), error
            ) from None
    # The request comes first, so that every disclosure can be traced back to one (16/046).
    try:
        audit.append(paths.audit_log, "request", **context)
    except audit.AuditLogError:
        if "case" in context:
            consultations.discard_detail(paths.audit_log, context["case"])
        raise
    # The release is logged before it is moved into place (flows.release.publish.publish), so
    # that no release is ever visible without its entry, even when the run is killed in between.
    logged: list[dict[str, Any]] = []
    try:
        if case_refusal is not None:
            raise consultations.CaseError(case_refusal)
        if case_reference is not None and not consulting:
            raise AuthorisationError(
                f"a case reference goes with a consultation of named persons (the control mode), "
                f"not with a {mode_name.value} run"
            )
        spec = delivered_spec(load_spec(spec_path), as_of)
        context |= spec_context(spec, spec_path)
        operator, staff, checked = operator_context(paths)
        synthetic_store = store_is_synthetic(sources_dir)
        context |= checked | {"synthetic_store": synthetic_store}
        mode = authorise(
            spec,
            mode_name,
            as_of,
            operator,
            synthetic_store,
            staff,
            today=dt.date.today(),
        )
        if precondition is not None:
            precondition(spec)
        chosen = chosen_consultation(spec, consultation)
        asked = None
        if chosen is not None:
            context["consultation_kind"] = consultation  # 04/037: the look-up asked for
            spec = spec.for_consultation(str(consultation))
            asked = consultation_request(spec, chosen, persons_file)
        if asked is not None:
            context["lines_requested"] = asked.lines.height  # how many, never which
            listed: pl.DataFrame | None = (
                asked.lines.select("insz")
                .unique()
                .sort("insz")
                .with_columns(
                    from_month=pl.lit(None, pl.String), until_month=pl.lit(None, pl.String)
                )
            )
        else:
            listed = requested_persons(spec, persons_file)
        if listed is not None:
            context["persons_requested"] = listed.height  # how many, never who
        key = load_key(paths.key_store, spec.project)
        consulted_key = consultations.consultation_key(paths.key_store) if consulting else None
        # the mode's pseudonyms are its own (transforms.modes): the request tag and the logged
        # person set are digests of pseudonyms under the mode's key, as the release's are
        mode_pseudonyms_key = pseudonym_key(spec, mode_name, key)
        tag = None
        if listed is not None:
            listed_pseudonyms = pseudonym_map(listed["insz"], mode_pseudonyms_key, PERSON)
            tag = pseudonym_set_digest(listed_pseudonyms["pseudonym"])[:12]
            if consultation is not None:
                tag = consultation_tag(tag, consultation, asked, mode_pseudonyms_key)
            context["request"] = tag
        target = release_folder(paths, spec, mode_name, as_of, tag)
        our_copy = spec.modes[mode_name].our_copy_deadline(as_of, mode.delete_by)
        layout = released_panels(spec, mode, period_values(spec))
        layout |= released_summaries(spec, layout)
        layout |= sample_mark.mark_layout(spec, mode_name)
        new_folder = not target.parent.exists()

        def record(status: str, manifest: dict[str, Any], manifest_sha256: str) -> None:
            consulted: dict[str, Any] = {}
            if built.consulted is not None:
                # who was consulted, for which case: beside the log, chained by its digest
                consulted = {
                    "consultation": consultations.write_detail(
                        paths.audit_log,
                        consultations.Detail(
                            kind="consultation",
                            run=context["run"],
                            at=dt.datetime.now(dt.UTC),
                            actor=operator,
                            spec=spec_path.name,
                            mode=mode_name.value,
                            as_of=as_of,
                            case_reference=str(case_reference),
                            deliberation=spec.deliberation,
                            purpose=spec.purpose,
                            persons=tuple(built.consulted.to_list()),
                        ),
                    )
                }
            try:
                entry = audit.append(
                    paths.audit_log,
                    "release" if status == "published" else "rerun",
                    **context,
                    **consulted,
                    persons=manifest["persons"],
                    pseudonym_set_sha256=manifest["pseudonym_set_sha256"],
                    variables={name: [c.name for c in columns] for name, columns in layout.items()},
                    folder=str(target),
                    files=sorted(manifest["files"]),
                    # what `rex verify` checks the manifest on disk against (the chain keeps
                    # it honest)
                    manifest_sha256=manifest_sha256,
                    key_fingerprint=manifest["key_fingerprint"],
                    source_checks=[f for f in manifest["source_checks"] if f["records"]],
                )
            except audit.AuditLogError:
                if consulted:
                    consultations.discard_detail(paths.audit_log, consulted["consultation"])
                raise
            logged.append(entry)

        staging = staging_folder(target)
        try:
            built = build_release(
                staging,
                sources_dir,
                spec,
                mode,
                key,
                listed,
                layout,
                engine or Engine(),
                pseudonyms_key=mode_pseudonyms_key,
                asked=asked,
                consultation_key=consulted_key,
            )
            header = {
                **manifest_header(spec, spec_path, mode_name),
                "mode_description": mode.description,
                "protections": mode.protect.model_dump(),
                "summaries": {name: s.description for name, s in spec.summaries.items()},
                "consultation": consultation,
                "as_of": as_of.isoformat(),
                "identified": mode.identified,
                "delete_by": mode.delete_by and mode.delete_by.isoformat(),
                "our_copy_delete_by": our_copy and our_copy.isoformat(),
                "kept": "until delete_by" if mode.delete_by else "for the whole career",
                "test_run": is_test_run(spec, as_of),
                "key_fingerprint": fingerprint(key),
                "period": {"from": spec.period.from_, "until": spec.period.until},
                "population": population_statement(spec),
                "persons": built.persons,
                "pseudonym_set_sha256": built.pseudonym_set_sha256,
                "pseudonyms": pseudonyms_statement(spec, mode_name),
                "source_checks": [f.as_dict() for f in built.findings],
                "derivation_audit": built.derivation_audit,
                "disclosure_risk": built.disclosure_risk or disclosure.not_measured(mode_name),
            }
            if mode.analysis is not None:  # the rules its analysis runs' outputs must pass
                header["output_checks"] = mode.analysis.output_checks.model_dump()
            result = publish_task(built, layout, header, staging, target, record, paths.audit_log)
        except BaseException as error:
            discard(staging)
            if new_folder:  # the project's folder, made for this release: nothing in it now
                with contextlib.suppress(OSError):
                    target.parent.rmdir()
            if (
                isinstance(error, OSError)
                and file_system_reason(error)
                and error.filename is None
                and error.errno is not None
            ):
                # Arrow and Python's writes do not say which file: the release is where it
                # stopped.
                raise OSError(error.errno, os.strerror(error.errno), str(target)) from None
            raise
    except audit.AuditLogError:
        # The log cannot take the outcome either: stop with its own message (nothing was
        # published, see flows.release.publish.publish), and do not try to log into it again.
        raise
    except REFUSALS as error:
        audit.append(paths.audit_log, "refusal", **context, reason=str(error))
        raise
    except Exception as error:
        # The message of an unexpected error could quote source data (an identifier in a
        # conversion error, say): neither the log nor the caller gets more than its kind.
        if isinstance(error, StepFailed):
            kind, said = error.kind, error.said
        else:
            kind, said = type(error).__name__, file_system_reason(error)
        reason = f"{kind}: {said}" if said else kind
        if logged:  # the release was logged, then could not be moved into place
            reason += f"; the {logged[0]['event']} logged as entry {logged[0]['seq']} was not made"
        audit.append(paths.audit_log, "failure", **context, reason=reason)
        if said:
            raise ExtractFailed(
                f"the {mode_name.value} run of {spec_path.name} stopped on {kind}: {said}; "
                "nothing was published"
            ) from None
        raise ExtractFailed(
            f"the {mode_name.value} run of {spec_path.name} failed with {kind}; "
            "its details are withheld because they may quote source data"
        ) from None
    return result


@flow(name="sample_export", log_prints=False)
def sample_export(
    spec_path: Path,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    engine: Engine | None = None,
) -> ExtractResult:
    """The protected researcher sample of a spec, published under data/releases."""
    return run_extract(spec_path, ModeName.SAMPLE, as_of, paths, sources_dir, engine=engine)


@flow(name="onprem_build", log_prints=False)
def onprem_build(
    spec_path: Path,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    engine: Engine | None = None,
) -> ExtractResult:
    """The whole population with exact values, into the on-premise workspace."""
    return run_extract(spec_path, ModeName.ONPREM, as_of, paths, sources_dir, engine=engine)


@flow(name="control_export", log_prints=False)
def control_export(
    spec_path: Path,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    persons_file: Path | None = None,
    engine: Engine | None = None,
    case_reference: str | None = None,
    consultation: str | None = None,
) -> ExtractResult:
    """Identified data for control purposes, where the deliberation grants it; under
    data/releases, as it leaves the building. `persons_file`: the recipient's list of the
    persons it asks about, where the spec's population is that list. `case_reference`: the
    case that justifies this consultation (required; 16/046 point 9); `consultation`: the kind
    of look-up it asks for, where the spec names them (04/037)."""
    return run_extract(
        spec_path,
        ModeName.CONTROL,
        as_of,
        paths,
        sources_dir,
        persons_file=persons_file,
        engine=engine,
        case_reference=case_reference,
        consultation=consultation,
    )
