"""On-premise analysis runs: the researchers' code on the whole population, and only anonymous
results come out (18/088 point 12).

A run reads as the extracts do: authorise (the spec's on-premise mode must allow analysis runs,
and the operator be one of the spec's), run the code in a child process against the workspace
(flows.analysis.child), check every file it wrote (flows.analysis.output_checking), and keep in
the run's folder under data/analysis what the checks made of each output (rex's bytes, by
number), the checking report and the persons of every cell that passed (the ledger). Nothing
leaves here: the outputs wait for their reviewers (flows.analysis.signoff), who approve or reject
each, and only what they approved is published.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.analysis import child, sandbox
from flows.analysis.output_checking import (
    RELEASED_CHANGED,
    WITHHELD,
    FileCheck,
    Persons,
    Workspace,
    check_outputs,
    sha256_of,
)
from flows.extract.authorise import (
    authorise,
    manifest_header,
    operator_context,
    release_folder,
    spec_context,
)
from flows.release.files import json_text, sha256_file
from flows.release.manifest import Manifest
from flows.runtime.outcome import outcome_logged, withheld
from flows.runtime.settings import Paths
from flows.stores import audit, audit_files
from specs.codebook import output_checks_markdown
from specs.load import load_spec
from specs.model import Spec
from specs.modes import AnalysisRuns, ModeName
from specs.refusal import Refusal, RunFailed
from transforms import ledger
from transforms.protect import PERSON_ID

RUN_RECORD = "run.json"
OUTPUTS = "outputs"
# the bytes of each output that may leave, by number (rex's own of an output it computed, rex's
# copy of a file the code wrote), in the run's folder: what reviewers read and approve
CHECKED = "checked"
# the persons of every cell the run let pass, by cell (transforms.ledger), in the run's folder
LEDGER = "ledger.parquet"
REPORT_JSON = "checking_report.json"
REPORT_MARKDOWN = "checking_report.md"
# the table of persons every workspace holds, whose pseudonyms no output may carry
PERSONS_TABLE = "persons.parquet"
# the column of the panels that holds a person's exact birth date, which no output may carry
BIRTH_DATE = "birth_date"


class AnalysisRefused(Refusal, RuntimeError):
    """An analysis run, a decision on its outputs or their release is not allowed; the message
    says why."""


class AnalysisFailed(RunFailed, RuntimeError):
    """A run stopped on an unexpected error; nothing was published."""


def write_run_record(record: dict[str, Any], run_folder: Path) -> None:
    """An analysis run's record (run.json), all or nothing (retention reads it)."""
    audit_files.write_atomically(run_folder / RUN_RECORD, json_text(record).encode())


@dataclass(frozen=True)
class AnalysisResult:
    run: str
    run_folder: Path
    checks: list[FileCheck]
    failure: str | None
    seconds: float


def outputs_folder(paths: Paths, spec: Spec, as_of: dt.date, run: str) -> Path:
    """Where a run's released outputs go: beside the spec's releases, named after the run."""
    name = f"{spec.deliberation.replace('/', '-')}_outputs_{as_of.isoformat()}_run-{run}"
    return paths.releases / spec.project / name


def analysis_rules(spec: Spec) -> AnalysisRuns:
    mode = spec.modes.get(ModeName.ONPREM)
    if mode is None or mode.analysis is None:
        raise AnalysisRefused(
            f"deliberation {spec.deliberation} allows no analysis runs on its on-premise "
            "workspace (its onprem mode has no 'analysis')"
        )
    return mode.analysis


def workspace_manifest(workspace: Path) -> Manifest:
    manifest = workspace / "manifest.json"
    if not manifest.is_file():
        raise AnalysisRefused(
            f"no on-premise workspace at {workspace}: build it first with `rex export onprem`"
        )
    return Manifest.read(manifest)


@task(cache_policy=NO_CACHE)
@withheld
def run_code_task(
    code: Path, workspace: Path, run_folder: Path, limits: child.Limits
) -> child.ChildOutcome:
    return child.run_code(code, workspace, run_folder, run_folder / OUTPUTS, limits)


@task(cache_policy=NO_CACHE)
@withheld
def check_outputs_task(
    run_folder: Path, workspace: Path, rules: AnalysisRuns, runs: Path
) -> list[FileCheck]:
    """Check the run's outputs against the workspace and its ledger; keep the bytes of each
    output a reviewer may approve (rex's own of a computed output, rex's copy of a written one,
    never person-level output), and the persons of the cells it let pass, in the run's folder."""
    panels = {p.name: p for p in sorted(workspace.glob("*.parquet"))}
    checks, members = check_outputs(
        run_folder / OUTPUTS,
        Workspace(panels, workspace_persons(workspace)),
        rules.output_checks,
        released_cells(runs, workspace.name),
    )
    kept = run_folder / CHECKED
    kept.mkdir(exist_ok=True)
    for check in checks:
        if check.person_level:
            continue
        if check.computed and check.released is not None:
            audit_files.write_atomically(kept / check.released_name, check.released)
        elif not check.computed and (run_folder / OUTPUTS / check.name).is_file():
            audit_files.write_atomically(
                kept / check.released_name, (run_folder / OUTPUTS / check.name).read_bytes()
            )
    buffer = io.BytesIO()
    members.write_parquet(buffer)
    audit_files.write_atomically(run_folder / LEDGER, buffer.getvalue())
    return checks


def released_cells(runs: Path, workspace: str) -> pl.DataFrame:
    """The ledger of a workspace: the persons of every cell that an earlier run on it let
    pass, by cell (ids prefixed with their run's)."""
    frames = []
    for record_path in sorted(runs.glob(f"*/{RUN_RECORD}")):
        ledger_path = record_path.parent / LEDGER
        if not ledger_path.is_file():
            continue
        if json.loads(record_path.read_text()).get("workspace") != workspace:
            continue
        run = record_path.parent.name
        frames.append(
            pl.read_parquet(ledger_path).with_columns(
                pl.format(f"{run}:{{}}", pl.col("cell")).alias("cell")
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=ledger.SCHEMA)


def workspace_persons(workspace: Path) -> Persons:
    """The pseudonyms and the exact birth dates of the workspace's persons, which no output
    may carry."""
    ids = pl.read_parquet(workspace / PERSONS_TABLE, columns=[PERSON_ID])[PERSON_ID]
    panels = [
        p for p in sorted(workspace.glob("*.parquet")) if BIRTH_DATE in pl.read_parquet_schema(p)
    ]
    if not panels:
        return Persons(ids)
    born = pl.scan_parquet(panels).select(pl.col(BIRTH_DATE).unique()).collect()
    return Persons(ids, born[BIRTH_DATE])


def outputs_record(checks: list[FileCheck], outputs: Path) -> list[dict[str, Any]]:
    """Each output's outcome with the sha256 of what may leave (rex's bytes of a computed
    output, rex's copy of a written one), which decisions name and a release checks, whether it
    is person-level, and the code's name for it (this record stays in the run's folder)."""
    return [
        c.as_dict()
        | {"name": c.name, "sha256": sha256_of(c, outputs), "person_level": c.person_level}
        for c in checks
    ]


def checked_file(run_folder: Path, outcome: dict[str, Any]) -> Path:
    """Where the run's folder keeps the bytes of an output (one of the run record's outcomes)
    that reviewers read: by its number, never by the code's name."""
    return run_folder / CHECKED / f"output-{outcome['output']:03d}{Path(outcome['name']).suffix}"


def report_markdown(header: dict[str, Any], outcomes: list[dict[str, Any]]) -> str:
    """The checking report, for people: each output, its outcome and why."""
    lines = [
        f"# Checking report: deliberation {header['deliberation']}, run {header['run']}",
        "",
        f"Code `{header['code']['file']}` (sha256 {header['code']['sha256']}), run as of "
        f"{header['as_of']} by {header['actor']} on the workspace {header['workspace']}.",
        "",
    ]
    if header.get("failure"):
        lines += [f"The run failed: {header['failure']}; every output is withheld.", ""]
    if header.get("not_taken"):
        kinds = "; ".join(f"{n} {kind}" for kind, n in sorted(header["not_taken"].items()))
        lines += [f"Entries of the output folder not taken, by kind: {kinds}.", ""]
    lines += ["| output | kind | outcome | reason |", "|---|---|---|---|"]
    lines += [f"| {o['output']} | {o['kind']} | {o['outcome']} | {o['reason']} |" for o in outcomes]
    changed = [o for o in outcomes if o["cells"] and o["outcome"] == RELEASED_CHANGED]
    if changed:
        lines += ["", "## Cells", "", "| output | cell outcome | cells |", "|---|---|---|"]
        lines += [
            f"| {o['output']} | {cell} | {n:,} |" for o in changed for cell, n in o["cells"].items()
        ]
    lines += ["", output_checks_markdown(header["output_checks"])]
    return "\n".join(lines)


@flow(name="analysis_run", log_prints=False)
def analysis_run(
    spec_path: Path, as_of: dt.date, code: Path, paths: Paths, today: dt.date | None = None
) -> AnalysisResult:
    """Run a researcher's code on the spec's on-premise workspace and check its outputs, which
    then wait for their reviewers (flows.analysis.signoff); every outcome is in the audit log."""
    run = uuid.uuid4().hex[:16]
    context: dict[str, Any] = {
        "run": run,
        "spec": spec_path.name,
        "mode": ModeName.ONPREM.value,
        "as_of": as_of.isoformat(),
        "analysis": True,
    }
    audit.append(paths.audit_log, "request", **context)
    with outcome_logged(paths.audit_log, context, _failed):
        if not code.is_file():
            raise AnalysisRefused(f"{code}: no such file (expected a .py script or a .ipynb)")
        if code.suffix not in (".py", ".ipynb"):
            raise AnalysisRefused(f"{code}: expected a Python script (.py) or a notebook (.ipynb)")
        sandbox.require()
        code_sha256 = sha256_file(code)
        context["code"] = {"file": code.name, "sha256": code_sha256}
        spec = load_spec(spec_path)
        context |= spec_context(spec, spec_path)
        operator, staff, checked = operator_context(paths)
        context |= checked
        rules = analysis_rules(spec)
        workspace = release_folder(paths, spec, ModeName.ONPREM, as_of)
        manifest = workspace_manifest(workspace)
        # a test run's workspace was built on a synthetic store (its build refuses any other),
        # which is all the in-force rule asks; logged, so that the review applies it again
        synthetic_store = manifest.test_run
        context["synthetic_store"] = synthetic_store
        mode = authorise(
            spec,
            ModeName.ONPREM,
            as_of,
            operator,
            synthetic_store,
            staff,
            today=today or dt.date.today(),
        )
        context["workspace"] = workspace.name
        context["workspace_manifest_sha256"] = sha256_file(workspace / "manifest.json")
        run_folder = paths.analysis_runs / spec.project / run
        run_folder.mkdir(parents=True)
        header: dict[str, Any] = {
            **manifest_header(spec, spec_path, ModeName.ONPREM),
            "kind": "analysis outputs",
            "run": run,
            "actor": operator,
            "as_of": as_of.isoformat(),
            "code": context["code"],
            "workspace": workspace.name,
            "workspace_manifest_sha256": context["workspace_manifest_sha256"],
            "output_checks": rules.output_checks.model_dump(),
            "delete_by": mode.delete_by and mode.delete_by.isoformat(),
            "our_copy_delete_by": mode.delete_by and mode.delete_by.isoformat(),
        }
        # the record first, so that retention finds (and deletes by the workspace's deadline)
        # a run that stops before its end, whatever its code left in the folder
        write_run_record({**header, "outputs": []}, run_folder)
        # rex's copy is what runs (mounted read-only) and what the reviewers read
        kept_code = run_folder / f"code{code.suffix}"
        shutil.copyfile(code, kept_code)
        os.chmod(kept_code, 0o444)
        if sha256_file(kept_code) != code_sha256:
            raise AnalysisRefused(f"{code}: the file changed while it was being read")
        limits = child.Limits(
            seconds=max(1, round(rules.time_limit_minutes * 60)),
            memory_bytes=int(rules.memory_limit_gib * child.GIB),
            processes=rules.process_limit,
            output_bytes=int(rules.output_limit_mib * (1 << 20)),
            output_files=rules.output_file_limit,
        )
        ran = run_code_task(kept_code, workspace, run_folder, limits)
        checks = check_outputs_task(run_folder, workspace, rules, run_folder.parent)
        if ran.failure is not None:
            # person-level output stays marked as such: no reviewer may ever approve it
            checks = [
                c
                if c.person_level
                else FileCheck(
                    c.name,
                    c.kind,
                    WITHHELD,
                    f"the run failed: {ran.failure}",
                    number=c.number,
                    computed=c.computed,
                )
                for c in checks
            ]
        not_taken = {kind: ran.not_taken.count(kind) for kind in set(ran.not_taken)}
        header |= {"seconds": round(ran.seconds, 1), "failure": ran.failure}
        header |= {"not_taken": not_taken}
        outcomes = outputs_record(checks, run_folder / OUTPUTS)
        write_run_record({**header, "outputs": outcomes}, run_folder)
        (run_folder / REPORT_MARKDOWN).write_text(report_markdown(header, outcomes))
        # nothing leaves on the checks alone: the outputs wait for their reviewers
        audit.append(
            paths.audit_log,
            "checked" if ran.failure is None else "failure",
            **context,
            **({"reason": ran.failure} if ran.failure else {}),
            passed=[c.number for c in checks if c.outcome != WITHHELD],
            withheld={str(c.number): c.reason for c in checks if c.outcome == WITHHELD},
        )
        return AnalysisResult(run, run_folder, checks, ran.failure, ran.seconds)


def _failed(kind: str, said: str | None) -> AnalysisFailed:
    # a file-system error's words are in the log; the run's own message stays its kind
    return AnalysisFailed(
        f"the run stopped on {kind}; its details are withheld because they may quote data"
    )


def find_run(paths: Paths, run: str) -> Path:
    """The folder of a run, by its id."""
    found = sorted(paths.analysis_runs.glob(f"*/{run}/{RUN_RECORD}")) if run.isalnum() else []
    if not found:
        raise AnalysisRefused(f"no analysis run {run!r} under {paths.analysis_runs}")
    return found[0].parent


def earlier_run(paths: Paths, spec_path: Path, as_of: dt.date, code: Path) -> Path | None:
    """The folder of an earlier run of the same code on the same workspace that ended (None:
    none), so that a demo run again reuses it instead of checking the same outputs twice."""
    spec = load_spec(spec_path)
    workspace = release_folder(paths, spec, ModeName.ONPREM, as_of) / "manifest.json"
    if not workspace.is_file() or not code.is_file():
        return None
    wanted = (sha256_file(code), sha256_file(workspace))
    for record_path in sorted((paths.analysis_runs / spec.project).glob(f"*/{RUN_RECORD}")):
        record = json.loads(record_path.read_text())
        found = (record.get("code", {}).get("sha256"), record.get("workspace_manifest_sha256"))
        if found == wanted and record.get("outputs") and not record.get("failure"):
            return record_path.parent
    return None
