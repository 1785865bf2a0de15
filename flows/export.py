"""The two extract flows: the researcher sample export and the on-premise build.

Both read as extract, transform, validate, load: authorise the run, read the key and the sources,
select the population (and, for the sample, draw it), build the panels, protect them, validate
every panel, then publish the release in one step and log it. Any refusal is logged and leaves
nothing behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import audit
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
from flows.settings import Paths
from flows.sources import SourceError, open_sources
from flows.validate import Outcome, ValidationFailed, validate_panel
from specs.catalog import PANELS, Granularity
from specs.checks import panel_checks
from specs.codebook import codebook, codebook_markdown
from specs.load import SpecError, load_spec, spec_digest
from specs.model import Mode, ModeName, Spec
from specs.release import ReleasedColumn, released_panels
from transforms import calendar, panels
from transforms.protect import protect_panel
from transforms.pseudonymise import PERSON, PseudonymCollision, pseudonym_map
from transforms.sample import PopulationTooSmall, draw_sample


class AuthorisationError(RuntimeError):
    """The spec does not allow this run on this date."""


class ExtractFailed(RuntimeError):
    """A run stopped on an unexpected error; nothing was published."""


REFUSALS = (
    AuthorisationError,
    KeyStoreError,
    SourceError,
    SpecError,
    ValidationFailed,
    PopulationTooSmall,
    PseudonymCollision,
    ReleaseExists,
    ExtractFailed,
)

# Panels in which every person of the extract has rows (alive during the period).
PANELS_WITH_EVERY_PERSON = frozenset({"month", "quarter"})


@dataclass(frozen=True)
class ExtractResult:
    status: str  # "published" or "unchanged"
    folder: Path
    manifest: dict[str, Any]


def release_folder(paths: Paths, spec: Spec, mode: ModeName, as_of: dt.date) -> Path:
    base = paths.onprem if mode is ModeName.ONPREM else paths.releases
    name = f"{spec.deliberation.replace('/', '-')}_{mode.value}_{as_of.isoformat()}"
    return base / spec.project / name


def authorise(spec: Spec, mode_name: ModeName, as_of: dt.date) -> Mode:
    """The mode, if the spec allows a run of it on `as_of`; otherwise AuthorisationError."""
    mode = spec.modes.get(mode_name)
    if mode is None:
        raise AuthorisationError(
            f"deliberation {spec.deliberation} does not authorise the {mode_name.value} mode"
        )
    if not spec.valid.contains(as_of):
        raise AuthorisationError(
            f"deliberation {spec.deliberation} allows runs from {spec.valid.from_} until "
            f"{spec.valid.until}; {as_of} lies outside that window"
        )
    if as_of > mode.delete_by:
        raise AuthorisationError(
            f"the {mode_name.value} data of deliberation {spec.deliberation} must be deleted by "
            f"{mode.delete_by}; no {mode_name.value} run is allowed on {as_of}"
        )
    return mode


def period_values(spec: Spec) -> dict[Granularity, list]:
    return {
        Granularity.MONTH: calendar.months(spec.period)["month"].to_list(),
        Granularity.QUARTER: calendar.quarters(spec.period)["quarter"].to_list(),
        Granularity.YEAR: calendar.years(spec.period)["year"].to_list(),
    }


@task(cache_policy=NO_CACHE, retries=0)
def select_population_task(sources: dict[str, duckdb.DuckDBPyRelation], spec: Spec) -> pl.DataFrame:
    relation = panels.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(spec.period),
        spec.population.rule,
    )
    return relation.pl().sort("insz")


@task(cache_policy=NO_CACHE)
def draw_sample_task(population: pl.DataFrame, key: bytes, persons: int) -> pl.DataFrame:
    return draw_sample(population, key, persons)


@task(cache_policy=NO_CACHE)
def build_panels_task(
    sources: dict[str, duckdb.DuckDBPyRelation], population: pl.DataFrame, spec: Spec
) -> dict[str, pl.DataFrame]:
    """The exact panels the spec asks for, restricted to the population."""
    population_relation = sources["register.persons"].query(
        "persons",
        "select insz, birth_date, death_date from persons semi join population using (insz)",
    )
    names = {name: spec.variables_of_panel(name) for name in PANELS}
    return panels.build_panels(population_relation, spec.period, sources, names)


@task(cache_policy=NO_CACHE)
def protect_task(
    exact: dict[str, pl.DataFrame], population: pl.DataFrame, spec: Spec, mode: Mode, key: bytes
) -> dict[str, pl.DataFrame]:
    persons = pseudonym_map(population["insz"], key, PERSON)
    return {
        name: protect_panel(name, frame, spec, mode, key, persons) for name, frame in exact.items()
    }


@task(cache_policy=NO_CACHE)
def validate_task(
    protected: dict[str, pl.DataFrame],
    layout: dict[str, list[ReleasedColumn]],
    mode: Mode,
) -> dict[str, list[Outcome]]:
    return {
        name: validate_panel(
            name,
            frame,
            panel_checks(layout[name], mode.persons, name in PANELS_WITH_EVERY_PERSON),
        )
        for name, frame in protected.items()
    }


@task(cache_policy=NO_CACHE)
def publish_task(
    protected: dict[str, pl.DataFrame],
    layout: dict[str, list[ReleasedColumn]],
    outcomes: dict[str, list[Outcome]],
    header: dict[str, Any],
    target: Path,
) -> ExtractResult:
    staging = staging_folder(target)
    try:
        files: dict[str, dict[str, Any]] = {}
        for name, frame in protected.items():
            path = staging / f"{name}.parquet"
            write_parquet(frame, path)
            files[path.name] = {
                "rows": frame.height,
                "persons": frame["person_id"].n_unique(),
                "sha256": sha256_file(path),
            }
        book = codebook(layout)
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
    except BaseException:
        discard(staging)
        raise
    status = publish(staging, target)
    return ExtractResult(status, target, manifest)


def run_extract(
    spec_path: Path, mode_name: ModeName, as_of: dt.date, paths: Paths, sources_dir: Path
) -> ExtractResult:
    """One extract run from spec to published release; every outcome is in the audit log."""
    context: dict[str, Any] = {
        "spec": spec_path.name,
        "mode": mode_name.value,
        "as_of": as_of.isoformat(),
    }
    try:
        spec = load_spec(spec_path)
        context |= {
            "deliberation": spec.deliberation,
            "recipient": spec.recipient,
            "purpose": spec.purpose,
        }
        mode = authorise(spec, mode_name, as_of)
        key = load_key(paths.key_store, spec.project)
        con = duckdb.connect()
        sources = open_sources(con, sources_dir)
        population = select_population_task(sources, spec)
        if mode.persons is not None:
            population = draw_sample_task(population, key, mode.persons)
        exact = build_panels_task(sources, population, spec)
        protected = protect_task(exact, population, spec, mode, key)
        layout = released_panels(spec, mode, period_values(spec))
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
            "as_of": as_of.isoformat(),
            "delete_by": mode.delete_by.isoformat(),
            "key_fingerprint": fingerprint(key),
            "period": {"from": spec.period.from_, "until": spec.period.until},
            "persons": population.height,
        }
        result = publish_task(
            protected, layout, outcomes, header, release_folder(paths, spec, mode_name, as_of)
        )
    except REFUSALS as error:
        audit.append(paths.audit_log, "refusal", **context, reason=str(error))
        raise
    except Exception as error:
        # The message of an unexpected error could quote source data (an identifier in a
        # conversion error, say): neither the log nor the caller gets more than its kind.
        audit.append(paths.audit_log, "failure", **context, reason=type(error).__name__)
        raise ExtractFailed(
            f"the {mode_name.value} run of {spec_path.name} failed with {type(error).__name__}; "
            "its details are withheld because they may quote source data"
        ) from None
    audit.append(
        paths.audit_log,
        "release" if result.status == "published" else "rerun",
        **context,
        persons=result.manifest["persons"],
        folder=str(result.folder),
        files=sorted(result.manifest["files"]),
        key_fingerprint=result.manifest["key_fingerprint"],
    )
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
