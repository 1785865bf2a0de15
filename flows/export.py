"""The two extract flows: the researcher sample export and the on-premise build.

Both read as extract, transform, validate, load: authorise the run, read the key and the sources,
select the population (and, for the sample, draw it), build the panels, protect them, validate
every panel, then publish the release in one step and log it. Any refusal is logged and leaves
nothing behind.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import duckdb
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import audit
from flows.access import RosterError, StaffMember, load_roster, login, roster_digest
from flows.keys import KeyStoreError, fingerprint, load_key
from flows.release import (
    ReleaseExists,
    discard,
    publish,
    sha256_file,
    staging_folder,
    write_json,
    write_parquet,
)
from flows.requests import RequestError, read_person_list
from flows.settings import Paths
from flows.source_volume import refuse_empty_population, refuse_thin_sources
from flows.sources import SourceError, open_sources, store_is_synthetic
from flows.validate import Outcome, ValidationFailed, validate_panel
from specs.catalog import PANELS, Granularity
from specs.checks import panel_checks
from specs.codebook import codebook, codebook_markdown
from specs.load import SpecError, load_spec, spec_digest
from specs.model import Mode, ModeName, PopulationRule, Spec
from specs.release import ReleasedColumn, released_panels, released_summaries
from transforms import calendar, panels, source_checks
from transforms.protect import protect_panel
from transforms.pseudonymise import (
    PERSON,
    PseudonymCollision,
    pseudonym_map,
    pseudonym_set_digest,
)
from transforms.requested import within_requested_periods
from transforms.sample import PopulationTooSmall, draw_sample
from transforms.source_checks import SourceDefects
from transforms.summaries import summarise

P = ParamSpec("P")
R = TypeVar("R")


class AuthorisationError(RuntimeError):
    """The spec does not allow this run on this date."""


class ExtractFailed(RuntimeError):
    """A run stopped on an unexpected error; nothing was published."""


REFUSALS = (
    AuthorisationError,
    RosterError,
    RequestError,
    KeyStoreError,
    SourceError,
    SourceDefects,
    SpecError,
    ValidationFailed,
    PopulationTooSmall,
    PseudonymCollision,
    ReleaseExists,
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


# Panels in which every person of the extract has rows (alive during the period).
PANELS_WITH_EVERY_PERSON = frozenset({"month", "quarter"})


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
    if today is not None and as_of > today:
        raise AuthorisationError(
            f"a run cannot be made as of {as_of}, after today ({today}): its rules and its "
            "deadline would count from a day that has not come"
        )
    staff = staff or StaffMember()
    signed = staff.declaration_signed is not None and staff.declaration_signed <= as_of
    refusal = spec.operator_refusal(operator, staff.roles, signed)
    if refusal is not None:
        raise AuthorisationError(refusal)
    mode = spec.modes.get(mode_name)
    if mode is None:
        raise AuthorisationError(
            f"deliberation {spec.deliberation} does not authorise the {mode_name.value} mode"
        )
    if not spec.valid.contains(as_of):
        raise AuthorisationError(
            f"deliberation {spec.deliberation} allows runs in {spec.valid.describe()}; {as_of} "
            "lies outside that window"
        )
    deadline = mode.deadline(as_of)
    if deadline is not None and as_of > deadline:
        raise AuthorisationError(
            f"the {mode_name.value} data of deliberation {spec.deliberation} must be deleted by "
            f"{deadline}; no {mode_name.value} run is allowed on {as_of}"
        )
    if spec.in_force is not None and not spec.in_force.in_force(as_of):
        since = spec.in_force.since
        status = f"takes effect on {since}" if since else "has not taken effect"
        if not synthetic_store:
            raise AuthorisationError(
                f"deliberation {spec.deliberation} is not in force on {as_of} (its regulation "
                f"{status}): only synthetic test data may be processed, and this source store "
                "is not synthetic"
            )
        if as_of > spec.in_force.test_data_delete_by:
            raise AuthorisationError(
                f"test runs of deliberation {spec.deliberation} ended on "
                f"{spec.in_force.test_data_delete_by}; its regulation {status}"
            )
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
    relation = panels.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(spec.period),
        spec.population.rule,
        calendar.bounds(spec.population_window),
        sources["dmfa.occupations"],
        spec.population.employers,
        listed,
    )
    return relation.pl().sort("insz")


@task(cache_policy=NO_CACHE)
@withheld
def draw_sample_task(population: pl.DataFrame, key: bytes, persons: int) -> pl.DataFrame:
    return draw_sample(population, key, persons)


@task(cache_policy=NO_CACHE)
@withheld
def build_panels_task(
    sources: dict[str, duckdb.DuckDBPyRelation],
    population: pl.DataFrame,
    spec: Spec,
    listed: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The exact panels the spec asks for, restricted to the population (and, for listed
    persons, to the months asked about for each)."""
    population_relation = sources["register.persons"].query(
        "persons",
        "select insz, birth_date, death_date from persons semi join population using (insz)",
    )
    names = {name: spec.variables_of_panel(name) for name in PANELS}
    employers = spec.population.employers
    if employers is not None and employers.their_lines_only:
        lines = panels.employer_lines(sources["dmfa.occupations"], employers)
        sources = {**sources, "dmfa.occupations": lines}
    built = panels.build_panels(population_relation, spec.period, sources, names)
    if listed is None:
        return built
    return {name: within_requested_periods(frame, name, listed) for name, frame in built.items()}


@task(cache_policy=NO_CACHE)
@withheld
def protect_task(
    exact: dict[str, pl.DataFrame], population: pl.DataFrame, spec: Spec, mode: Mode, key: bytes
) -> dict[str, pl.DataFrame]:
    persons = pseudonym_map(population["insz"], key, PERSON)
    return {
        name: protect_panel(name, frame, spec, mode, key, persons) for name, frame in exact.items()
    }


@task(cache_policy=NO_CACHE)
@withheld
def validate_task(
    protected: dict[str, pl.DataFrame],
    layout: dict[str, list[ReleasedColumn]],
    mode: Mode,
) -> dict[str, list[Outcome]]:
    return {
        name: validate_panel(
            name,
            frame,
            panel_checks(
                layout[name],
                mode.persons if name in PANELS else None,  # a summary holds no person_id
                name in PANELS_WITH_EVERY_PERSON,
            ),
        )
        for name, frame in protected.items()
    }


@task(cache_policy=NO_CACHE)
@withheld
def publish_task(
    protected: dict[str, pl.DataFrame],
    layout: dict[str, list[ReleasedColumn]],
    outcomes: dict[str, list[Outcome]],
    header: dict[str, Any],
    target: Path,
    record: Callable[[str, dict[str, Any], str], None],
) -> ExtractResult:
    """Write the release beside its target and move it into place; `record(status, manifest,
    manifest_sha256)` logs it first (see flows.release.publish)."""
    staging = staging_folder(target)
    try:
        files: dict[str, dict[str, Any]] = {}
        for name, frame in protected.items():
            path = staging / f"{name}.parquet"
            write_parquet(frame, path)
            files[path.name] = {
                "rows": frame.height,
                "persons": frame["person_id"].n_unique() if "person_id" in frame.columns else None,
                "sha256": sha256_file(path),
            }
        book = codebook(layout, header["summaries"])
        write_json(book, staging / "codebook.json")
        (staging / "codebook.md").write_text(
            codebook_markdown(f"deliberation {header['deliberation']}, {header['mode']}", book)
        )
        for name in ("codebook.json", "codebook.md"):
            files[name] = {"sha256": sha256_file(staging / name)}
        manifest = {
            **header,
            "files": files,
            "validation": {
                name: [o.__dict__ for o in panel_outcomes]
                for name, panel_outcomes in outcomes.items()
            },
        }
        write_json(manifest, staging / "manifest.json")
        manifest_sha256 = sha256_file(staging / "manifest.json")
    except OSError as error:
        discard(staging)
        if file_system_reason(error) and error.filename is None:
            # Arrow and Python's writes do not say which file: the release is where it stopped.
            raise OSError(error.errno, os.strerror(error.errno), str(target)) from None
        raise
    except BaseException:
        discard(staging)
        raise
    status = publish(staging, target, lambda outcome: record(outcome, manifest, manifest_sha256))
    return ExtractResult(status, target, manifest)


def requested_persons(spec: Spec, persons_file: Path | None) -> pl.DataFrame | None:
    """The listed persons, where the spec's population is the recipient's list."""
    listing = spec.population.rule is PopulationRule.LISTED_PERSONS
    if listing and persons_file is None:
        raise AuthorisationError(
            f"the population of deliberation {spec.deliberation} is the persons its recipient "
            "lists: give the list of the request (one INSZ per line)"
        )
    if not listing and persons_file is not None:
        raise AuthorisationError(
            f"the population of deliberation {spec.deliberation} is {spec.population.rule.value}, "
            "not a list of persons: a list given with the run is refused"
        )
    return None if persons_file is None else read_person_list(persons_file)


def person_set_digest(protected: dict[str, pl.DataFrame], mode: Mode, key: bytes) -> str:
    """The digest of the persons a release is about, over their pseudonyms: an identified
    release's INSZs are pseudonymised first, so the log never holds a hash of plain INSZs (which
    a dictionary of birth dates and counters would reverse)."""
    ids = pl.concat([f["person_id"] for f in protected.values() if "person_id" in f.columns])
    if mode.identified:
        ids = pseudonym_map(ids, key, PERSON)["pseudonym"]
    return pseudonym_set_digest(ids)


def run_extract(
    spec_path: Path,
    mode_name: ModeName,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    precondition: Callable[[Spec], None] | None = None,
    persons_file: Path | None = None,
) -> ExtractResult:
    """One extract run from spec to published release; every outcome is in the audit log.

    `precondition` lets a flow add a rule of its own (it raises AuthorisationError), checked
    after the spec's and logged like them. `persons_file`: the recipient's list of the persons
    it asks about, for a spec whose population is `listed_persons` (and for no other).
    """
    context: dict[str, Any] = {
        "run": uuid.uuid4().hex[:16],
        "spec": spec_path.name,
        "mode": mode_name.value,
        "as_of": as_of.isoformat(),
    }
    # The request comes first, so that every disclosure can be traced back to one (16/046).
    audit.append(paths.audit_log, "request", **context)
    # The release is logged before it is moved into place (flows.release.publish), so that no
    # release is ever visible without its entry, even when the run is killed in between.
    logged: list[dict[str, Any]] = []
    try:
        spec = delivered_spec(load_spec(spec_path), as_of)
        context |= {
            "spec_sha256": spec_digest(spec_path),
            "deliberation": spec.deliberation,
            "recipient": spec.recipient,
            "purpose": spec.purpose,
        }
        operator = login()
        staff = load_roster(paths.roster).member(operator)
        # What the access rule was checked against, so that a review can check it again.
        context |= {
            "roster_sha256": roster_digest(paths.roster),
            "roles": list(staff.roles),
            "declaration_signed": staff.declaration_signed and staff.declaration_signed.isoformat(),
        }
        mode = authorise(
            spec,
            mode_name,
            as_of,
            operator,
            store_is_synthetic(sources_dir),
            staff,
            today=dt.date.today(),
        )
        if precondition is not None:
            precondition(spec)
        listed = requested_persons(spec, persons_file)
        if listed is not None:
            context["persons_requested"] = listed.height  # how many, never who
        key = load_key(paths.key_store, spec.project)
        tag = None
        if listed is not None:
            tag = pseudonym_set_digest(pseudonym_map(listed["insz"], key, PERSON)["pseudonym"])[:12]
            context["request"] = tag
        con = duckdb.connect()
        sources = open_sources(con, sources_dir)
        refuse_thin_sources(sources, sources_dir, spec)  # before an empty table looks clean
        sources, findings = check_sources_task(sources)
        source_checks.refuse_uncleanable(findings)  # a refusal, not a failed task
        population = select_population_task(sources, spec, listed)
        refuse_empty_population(population, spec)
        if mode.persons is not None:
            population = draw_sample_task(population, key, mode.persons)
        exact = build_panels_task(sources, population, spec, listed)
        protected = protect_task(exact, population, spec, mode, key)
        del exact  # the exact panels are not needed past this point: free them before validation
        our_copy = spec.modes[mode_name].our_copy_deadline(as_of, mode.delete_by)
        layout = released_panels(spec, mode, period_values(spec))
        # the summaries are made from the panels as released: global steps, like the sample
        protected |= {
            name: summarise(protected[summary.panel], summary)
            for name, summary in spec.summaries.items()
        }
        layout |= released_summaries(spec, layout)
        outcomes = validate_task(protected, layout, mode)
        header = {
            "rex_version": version("rex"),
            "deliberation": spec.deliberation,
            "title": spec.title,
            "project": spec.project,
            "recipient": spec.recipient,
            "purpose": spec.purpose,
            "spec": {"file": spec_path.name, "sha256": spec_digest(spec_path)},
            "mode": mode_name.value,
            "protections": mode.protect.model_dump(),
            "summaries": {name: s.description for name, s in spec.summaries.items()},
            "as_of": as_of.isoformat(),
            "identified": mode.identified,
            "delete_by": mode.delete_by and mode.delete_by.isoformat(),
            "our_copy_delete_by": our_copy and our_copy.isoformat(),
            "kept": "until delete_by" if mode.delete_by else "for the whole career",
            "test_run": is_test_run(spec, as_of),
            "key_fingerprint": fingerprint(key),
            "period": {"from": spec.period.from_, "until": spec.period.until},
            "persons": population.height,
            "pseudonym_set_sha256": person_set_digest(protected, mode, key),
            "source_checks": [f.as_dict() for f in findings],
        }
        target = release_folder(paths, spec, mode_name, as_of, tag)

        def record(status: str, manifest: dict[str, Any], manifest_sha256: str) -> None:
            logged.append(
                audit.append(
                    paths.audit_log,
                    "release" if status == "published" else "rerun",
                    **context,
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
            )

        result = publish_task(protected, layout, outcomes, header, target, record)
    except audit.AuditLogError:
        # The log cannot take the outcome either: stop with its own message (nothing was
        # published, see flows.release.publish), and do not try to log into it again.
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
    spec_path: Path, as_of: dt.date, paths: Paths, sources_dir: Path
) -> ExtractResult:
    """The protected researcher sample of a spec, published under data/releases."""
    return run_extract(spec_path, ModeName.SAMPLE, as_of, paths, sources_dir)


@flow(name="onprem_build", log_prints=False)
def onprem_build(spec_path: Path, as_of: dt.date, paths: Paths, sources_dir: Path) -> ExtractResult:
    """The whole population with exact values, into the on-premise workspace."""
    return run_extract(spec_path, ModeName.ONPREM, as_of, paths, sources_dir)


@flow(name="control_export", log_prints=False)
def control_export(
    spec_path: Path,
    as_of: dt.date,
    paths: Paths,
    sources_dir: Path,
    persons_file: Path | None = None,
) -> ExtractResult:
    """Identified data for control purposes, where the deliberation grants it; under
    data/releases, as it leaves the building. `persons_file`: the recipient's list of the
    persons it asks about, where the spec's population is that list."""
    return run_extract(
        spec_path, ModeName.CONTROL, as_of, paths, sources_dir, persons_file=persons_file
    )
