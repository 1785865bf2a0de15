"""The extract flows: the researcher sample export, the on-premise build and the control export.

Each reads as extract, transform, validate, load: authorise the run (flows.extract.authorise),
read the key and the sources, select the population (and, for the sample, draw it), build the
panels, protect them, validate every panel (flows.extract.build), then publish the release in
one step and log it. Any refusal is logged and leaves nothing behind (flows.extract.errors)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow

from flows.extract import disclosure
from flows.extract.build import ExtractResult, build_release, publish_task
from flows.extract.plan import plan_run
from flows.extract.request import Request, admit, logged_request
from flows.extract.requested import (
    consultation_request,
    consultation_tag,
    requested_persons,
)
from flows.release.manifest import Manifest
from flows.release.publish import discard, staging_folder
from flows.runtime.outcome import file_system_reason
from flows.runtime.settings import Engine, Paths
from flows.stores import audit, audit_files, consultations
from flows.stores.keys import fingerprint
from specs.model import Spec
from specs.modes import ModeName
from transforms.modes import pseudonym_key
from transforms.pseudonymise import (
    PERSON,
    pseudonym_map,
    pseudonym_set_digest,
)


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
    request = Request(
        spec_path,
        mode_name,
        as_of,
        paths,
        sources_dir,
        case_reference=case_reference,
        consultation=consultation,
        precondition=precondition,
    )
    # The release is logged before it is moved into place (flows.release.publish.publish), so
    # that no release is ever visible without its entry, even when the run is killed in between.
    logged: list[dict[str, Any]] = []

    def unfinished() -> str | None:
        # the release was logged, then could not be moved into place
        if not logged:
            return None
        return f"the {logged[0]['event']} logged as entry {logged[0]['seq']} was not made"

    with logged_request(request, unfinished) as context:
        admitted = admit(request, context)
        spec, mode, operator = admitted.spec, admitted.mode, admitted.operator
        chosen, key, consulted_key = admitted.consultation, admitted.key, admitted.consulted_key
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
        plan = plan_run(spec_path, spec, mode_name, mode, as_of, paths, tag, consultation)
        target, layout = plan.target, dict(plan.layout)
        new_folder = not target.parent.exists()

        def record(status: str, manifest: Manifest, manifest_sha256: str) -> None:
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
                    persons=manifest.persons,
                    pseudonym_set_sha256=manifest.pseudonym_set_sha256,
                    variables={name: [c.name for c in columns] for name, columns in layout.items()},
                    folder=str(target),
                    files=sorted(manifest.files),
                    # what `rex verify` checks the manifest on disk against (the chain keeps
                    # it honest)
                    manifest_sha256=manifest_sha256,
                    key_fingerprint=manifest.key_fingerprint,
                    source_checks=[f for f in manifest.source_checks if f["records"]],
                )
            except audit_files.AuditLogError:
                if consulted:
                    consultations.discard_detail(paths.audit_log, consulted["consultation"])
                raise
            logged.append(entry)

        staging = staging_folder(target)
        try:
            built = build_release(
                staging,
                sources_dir,
                plan,
                key,
                listed,
                engine or Engine(),
                pseudonyms_key=mode_pseudonyms_key,
                asked=asked,
                consultation_key=consulted_key,
            )
            header = plan.manifest_header() | {
                "key_fingerprint": fingerprint(key),
                "persons": built.persons,
                "pseudonym_set_sha256": built.pseudonym_set_sha256,
                "source_checks": [f.as_dict() for f in built.findings],
                "derivation_audit": built.derivation_audit,
                "disclosure_risk": built.disclosure_risk or disclosure.not_measured(mode_name),
            }
            if mode.analysis is not None:  # the rules its analysis runs' outputs must pass
                header["output_checks"] = mode.analysis.output_checks.model_dump()
            result = publish_task(built, plan, header, staging, record, paths.audit_log)
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
