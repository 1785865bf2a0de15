"""Building a release: the population, the sample, the slices of persons built, protected and
validated, written in order, then published in one step."""

from __future__ import annotations

import shutil
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from flows.extract import disclosure, sample_mark, slices
from flows.extract.plan import RunPlan
from flows.extract.requested import ConsultationRequest
from flows.extract.source_volume import refuse_empty_population, refuse_thin_sources
from flows.extract.tasks import (
    check_sources_task,
    disclosure_risk_task,
    draw_sample_task,
    extract_slice_task,
    materialise_task,
    own_pairs_task,
    person_ids_task,
    select_population_task,
    slices_in_flight,
)
from flows.release import dossier, formats
from flows.release.files import WITNESS, sha256_file, write_json
from flows.release.manifest import Manifest
from flows.release.parquet_writer import RowGroupWriter
from flows.release.publish import publish
from flows.release.validate import (
    Outcome,
    SliceValidation,
    combined,
    distinct_count_outcomes,
    per_slice,
    prepare_in_background,
    refuse_failures,
    validate_panel,
    waiting_for_validation,
)
from flows.runtime.outcome import withheld
from flows.runtime.progress import Progress, report
from flows.runtime.settings import Engine
from flows.stores import audit_files, audit_read, consultations
from flows.stores.sources import open_sources
from specs.catalog import PANELS
from specs.checks import panel_checks
from specs.codebook import codebook, codebook_markdown, output_checks_markdown
from specs.model import Spec
from specs.modes import ModeKind, ModeName
from specs.release import ReleasedColumn
from transforms import derivation_audit, panel_reads, panels, source_checks
from transforms.disclosure_risk import refuse_above_threshold
from transforms.protect import PERSON_ID
from transforms.pseudonymise import (
    pseudonym_set_digest,
)
from transforms.requested import messages_asked_for
from transforms.scramble import permutation
from transforms.summaries import combine as summarise_parts

T = TypeVar("T")


# Panels in which every person of the extract has rows (alive during the period).
PANELS_WITH_EVERY_PERSON = frozenset({"month", "quarter"})


# The run's own folder inside the staging folder (its database and DuckDB's spill), removed
# before the release is published; a run that stops leaves it to retention with the staging.
WORK_FOLDER = ".work"


@dataclass(frozen=True)
class ExtractResult:
    status: str  # "published" or "unchanged"
    folder: Path
    manifest: Manifest


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
    plan: RunPlan,
    key: bytes,
    listed: pl.DataFrame | None,
    engine: Engine,
    pseudonyms_key: bytes | None = None,
    asked: ConsultationRequest | None = None,
    consultation_key: bytes | None = None,
) -> BuiltRelease:
    """Select, build, protect, validate and write the release of `plan` into `staging`, a
    slice of persons at a time; ValidationFailed (after every slice, so that the counts are the
    release's) if any panel fails its suite. `key`: the project key (it draws the sample);
    `pseudonyms_key`: the mode's (transforms.modes), which makes the pseudonyms;
    `consultation_key`: for a consultation, the key of the consulted persons' digests."""
    spec, mode, layout = plan.spec, plan.mode, dict(plan.layout)
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
            sample = mode.kind is ModeKind.SAMPLE
            if sample and mode.persons is not None:
                population = draw_sample_task(population, draw_key, mode.persons)
            person_ids = person_ids_task(population, mode, key)
            slice_persons = engine.persons_per_slice(sample=sample)
            assignment = slices.assign_slices(person_ids, slice_persons)
            names = {
                name: tuple(spec.variables_of_panel(name))
                for name in PANELS
                if spec.variables_of_panel(name)
            }
            tables = tuple(sorted(panel_reads.source_tables(names)))
            if disclosure.applies(mode):
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
                both = panel_reads.source_columns(names, disclosure.measured_panels(spec, mode))
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
                materialise_task(con, sources, spec, panel_reads.source_columns(names), assignment)
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
                derived=plan.derived,
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
        waiting_bytes=waiting_for_validation(sample=jobs[0].mode.kind is ModeKind.SAMPLE),
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
    plan: RunPlan,
    header: dict[str, Any],
    staging: Path,
    record: Callable[[str, Manifest, str], None],
    log: audit_files.Log,
) -> ExtractResult:
    """Write the codebook and the manifest (`header`: the plan's statements and the run's
    figures) beside the panels the slices wrote, and move the release into `plan.target`;
    `record(status, manifest, manifest_sha256)` logs it first (see
    flows.release.publish.publish). The manifest states the audit log's head as it is then
    (`audit_head`): a copy outside the log that `rex audit verify --against` checks it by."""
    files, layout, target = dict(built.files), dict(plan.layout), plan.target
    title = f"deliberation {plan.spec.deliberation}, {plan.mode_name.value}"
    if plan.mode_name is ModeName.SAMPLE:  # the researchers' formats, beside Parquet
        for name in formats.write_formats(staging, layout, title, plan.as_of):
            files[name] = {"sha256": sha256_file(staging / name)}
    book = codebook(layout, {**header["summaries"], sample_mark.TABLE: sample_mark.DESCRIPTION})
    write_json(book, staging / "codebook.json")
    book_text = codebook_markdown(title, book, header.get("population"))
    if "output_checks" in header:
        book_text += "\n" + output_checks_markdown(header["output_checks"])
    (staging / "codebook.md").write_text(book_text)
    for name in ("codebook.json", "codebook.md"):
        files[name] = {"sha256": sha256_file(staging / name)}
    validation = {
        name: [o.__dict__ for o in panel_outcomes]
        for name, panel_outcomes in built.outcomes.items()
    }
    # the dossier quotes the manifest but its list of files, which then lists the dossier
    quoted = Manifest.of({**header, "files": files, "validation": validation})
    for name in dossier.write_dossier(staging, quoted, book):
        files[name] = {"sha256": sha256_file(staging / name)}
    # after the dossier, which quotes the manifest: the head is when it was made, not what
    manifest = Manifest.of(
        {**header, "files": files, "validation": validation, WITNESS: audit_read.witness(log)}
    )
    write_json(manifest.document(), staging / "manifest.json")
    made = sha256_file(staging / "manifest.json")

    def logged(outcome: str) -> None:
        # an identical rerun keeps the release there, whose manifest states its own head
        kept = outcome == "unchanged"
        record(outcome, manifest, sha256_file(target / "manifest.json") if kept else made)

    status = publish(staging, target, logged)
    return ExtractResult(status, target, manifest)
