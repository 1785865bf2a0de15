"""A person signs off: the review of an analysis run's outputs, the reviewers' decisions, and
the release of what they approved (specs.signoff is the rule).

Nothing leaves on the automatic checks alone. `review` writes, into the run's folder, what a
reviewer reads: per output its number, what the checks made of it and why, the cells they
changed, the sha256 of the bytes that would leave and where the run's folder keeps them, the
decisions logged so far; and the code, as its difference from the last version of this
project's code that was reviewed. `decide` logs one reviewer's approval or rejection of one
output (the sha256 it saw, the reason); `release` publishes, like a release (a staging folder,
a manifest with every file's sha256, the checking report, the audit entry first, one rename),
each output whose approvals are complete and whose bytes are still those that were checked and
approved, after scanning them again for identifiers on rex's own copy. Person-level output is
never approved nor released, by anybody.

Outputs are named by number and sha256 in the review, the log and the terminal; the code's
names stay in the run record, for whoever opens the run's folder.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow

from flows.analysis.output_checking import WITHHELD, identifiers_in
from flows.analysis.run import (
    REPORT_JSON,
    REPORT_MARKDOWN,
    RUN_RECORD,
    AnalysisFailed,
    AnalysisRefused,
    analysis_rules,
    checked_file,
    find_run,
    outputs_folder,
    report_markdown,
    workspace_persons,
)
from flows.extract.authorise import operator_context, release_folder, spec_context
from flows.release.files import WITNESS, sha256_file, write_json
from flows.release.manifest import Manifest
from flows.release.publish import publish, staging_folder
from flows.runtime.outcome import outcome_logged
from flows.runtime.settings import Paths
from flows.stores import audit, audit_files, audit_read
from flows.stores.roster import StaffMember
from specs.load import load_spec
from specs.model import Spec
from specs.modes import AnalysisRuns, ModeName
from specs.signoff import (
    APPROVAL,
    REJECTION,
    SignOff,
    decision_refusal,
    decisions,
    sign_off,
)

REVIEW = "review.md"
# the header fields of a run record that its published outputs' manifest repeats
HEADER_FIELDS = (
    "rex_version",
    "deliberation",
    "title",
    "project",
    "recipient",
    "purpose",
    "spec",
    "mode",
    "run",
    "actor",
    "as_of",
    "code",
    "workspace",
    "workspace_manifest_sha256",
    "output_checks",
    "delete_by",
    "our_copy_delete_by",
)


@dataclass(frozen=True)
class Run:
    """A run as its folder records it, with the rules of its spec."""

    folder: Path
    record: dict[str, Any]
    spec: Spec
    spec_path: Path
    rules: AnalysisRuns

    @property
    def id(self) -> str:
        return str(self.record["run"])

    @property
    def author(self) -> str:
        """Who ran the code, whose outputs others review."""
        return str(self.record["actor"])

    @property
    def as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.record["as_of"])

    def outcome(self, output: int) -> dict[str, Any]:
        found = next((o for o in self.record["outputs"] if o.get("output") == output), None)
        if found is None:
            raise AnalysisRefused(f"run {self.id} has no output {output}")
        return found

    def unchanged(self, outcome: dict[str, Any]) -> bool:
        """Whether the run's folder still holds the bytes of the output that were checked."""
        path = checked_file(self.folder, outcome)
        return path.is_file() and outcome.get("sha256") == sha256_file(path)


def load_run(paths: Paths, run: str, specs_dir: Path) -> Run:
    folder = find_run(paths, run)
    record = json.loads((folder / RUN_RECORD).read_text())
    spec_path = specs_dir / record["spec"]["file"]
    spec = load_spec(spec_path)
    return Run(folder, record, spec, spec_path, analysis_rules(spec))


def _loaded(
    paths: Paths, run: str, specs_dir: Path, context: dict[str, Any]
) -> tuple[Run, str, StaffMember]:
    """The run, who acts on it and their roster entry; what the log's entries say of them is
    added to `context`."""
    found = load_run(paths, run, specs_dir)
    context |= {"spec": found.spec_path.name, **spec_context(found.spec, found.spec_path)}
    context["as_of"] = found.record["as_of"]
    operator, staff, checked = operator_context(paths)
    context |= checked
    return found, operator, staff


def _standing(run: Run, entries: list[dict[str, Any]]) -> dict[int, SignOff]:
    logged = decisions(entries, run.id)
    return {
        o["output"]: sign_off(o["output"], o["sha256"], logged, run.rules, run.author)
        for o in run.record["outputs"]
    }


def _released_before(entries: list[dict[str, Any]], run: str) -> set[int]:
    """The outputs of `run` that a release already published."""
    return {
        int(n)
        for e in entries
        if e.get("event") == "release" and e.get("run") == run and e.get("analysis_release")
        for n in e.get("released", ())
    }


# --- the review --------------------------------------------------------------------------------


def review(paths: Paths, run: str, specs_dir: Path) -> Path:
    """Write the review of a run's outputs into its folder (review.md), as the log stands now;
    its path."""
    found = load_run(paths, run, specs_dir)
    entries = audit_read.read(paths.audit_log)
    text = review_markdown(found, entries, _code_diff(paths, found, entries))
    path = found.folder / REVIEW
    audit_files.write_atomically(path, text.encode())
    return path


def review_markdown(run: Run, entries: list[dict[str, Any]], code: list[str]) -> str:
    """The review a reviewer reads: every output by number, and the code's `code` lines."""
    record, rules = run.record, run.rules
    standing = _standing(run, entries)
    released = _released_before(entries, run.id)
    logged = decisions(entries, run.id)
    lines = [
        f"# Review of run {run.id}: deliberation {record['deliberation']}",
        "",
        f"Code `{record['code']['file']}` (sha256 {record['code']['sha256']}), run as of "
        f"{record['as_of']} by {run.author} on the workspace {record['workspace']}.",
        "",
        f"Each output leaves only with the approval of {rules.approvals} different reviewer(s) "
        f"holding a role of {', '.join(rules.reviewer_roles)} (never {run.author}, who ran the "
        "code), each for the sha256 below. An output the checks withheld is approved only with "
        "a written reason; person-level output never. Decide with `rex analyse approve` or "
        f"`rex analyse reject --run {run.id} --output N`; publish with `rex analyse release "
        f"--run {run.id}`.",
        "",
    ]
    if record.get("failure"):
        lines += [f"The run failed: {record['failure']}; every output is withheld.", ""]
    lines += [
        "| output | kind | checks | reason | sha256 | sign-off |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in record["outputs"]:
        number = outcome["output"]
        lines.append(
            f"| {number} | {outcome['kind']} | {outcome['outcome']} | {outcome['reason']} | "
            f"{str(outcome.get('sha256'))[:12]} | "
            f"{_sign_off_text(outcome, standing[number], rules, number in released)} |"
        )
    changed = [o for o in record["outputs"] if o["cells"]]
    if changed:
        lines += ["", "## Cells the checks changed", "", "| output | cell outcome | cells |"]
        lines += ["|---|---|---|"]
        lines += [
            f"| {o['output']} | {c} | {n:,} |" for o in changed for c, n in o["cells"].items()
        ]
    lines += ["", "## Files to read", ""]
    for outcome in record["outputs"]:
        path = checked_file(run.folder, outcome)
        if outcome.get("person_level"):
            lines.append(f"- output {outcome['output']}: person-level, not kept for review")
        elif not run.unchanged(outcome):
            lines.append(f"- output {outcome['output']}: {path} CHANGED OR GONE since its check")
        else:
            lines.append(f"- output {outcome['output']}: {path}")
    if logged:
        lines += ["", "## Decisions", "", "| entry | output | reviewer | decision | reason |"]
        lines += ["|---|---|---|---|---|"]
        lines += [
            f"| {d.seq} | {d.output} | {d.actor} | "
            f"{'approved' if d.approve else 'rejected'} {d.sha256[:12]} | {d.reason} |"
            for d in logged
        ]
    lines += ["", "## Code", "", *code, ""]
    return "\n".join(lines)


def _sign_off_text(
    outcome: dict[str, Any], standing: SignOff, rules: AnalysisRuns, out: bool
) -> str:
    if outcome.get("person_level"):
        return "never (person-level)"
    if out:
        return "released"
    if standing.rejected_by:
        return standing.why_not()
    return f"{len(standing.approved_in)} of {rules.approvals} approvals"


def _code_diff(paths: Paths, run: Run, entries: list[dict[str, Any]]) -> list[str]:
    """The run's code as its difference from the code of the last run of the same project that
    a reviewer decided on (the whole code when there is none)."""
    code = sorted(run.folder.glob("code.*"))
    text = code[0].read_text(errors="replace").splitlines() if code else []
    decided = [
        e for e in entries if e.get("event") in (APPROVAL, REJECTION) and e.get("run") != run.id
    ]
    for entry in reversed(decided):
        earlier = run.folder.parent / str(entry["run"])
        earlier_code = sorted(earlier.glob("code.*")) if str(entry["run"]).isalnum() else []
        if earlier_code:
            diff = difflib.unified_diff(
                earlier_code[0].read_text(errors="replace").splitlines(),
                text,
                f"run {entry['run']} (last reviewed)",
                f"run {run.id}",
                lineterm="",
            )
            lines = list(diff)
            if not lines:
                return [f"The same code as run {entry['run']}, the last reviewed."]
            return [f"Changes since run {entry['run']}, the last reviewed:", "", "```diff"] + [
                *lines,
                "```",
            ]
    return [
        f"No earlier code of project {run.spec.project} was reviewed: all {len(text)} lines are "
        "new.",
        "",
        "```python",
        *text,
        "```",
    ]


# --- decisions ---------------------------------------------------------------------------------


@flow(name="output_decision", log_prints=False)
def decide(
    paths: Paths, run: str, output: int, approve: bool, reason: str, specs_dir: Path
) -> SignOff:
    """Log one reviewer's approval (or rejection) of one output of a run, for the bytes that
    were checked; where the output now stands."""
    context: dict[str, Any] = {"run": run, "mode": ModeName.ONPREM.value, "output": output}
    with outcome_logged(paths.audit_log, context, _failed):
        found, operator, staff = _loaded(paths, run, specs_dir, context)
        outcome = found.outcome(output)
        if outcome.get("person_level") and approve:
            raise AnalysisRefused(
                f"output {output} is person-level output, which is never released: "
                f"{outcome['reason']}"
            )
        refusal = decision_refusal(
            operator,
            staff.roles,
            found.author,
            approve,
            reason,
            outcome["outcome"] == WITHHELD,
            found.rules,
            found.spec.deliberation,
        )
        if refusal is not None:
            raise AnalysisRefused(refusal)
        if approve and not found.unchanged(outcome):
            raise AnalysisRefused(
                f"output {output} is not the file that was checked (it changed or is gone since)"
            )
        if _released_before(audit_read.read(paths.audit_log), run) & {output}:
            raise AnalysisRefused(f"output {output} of run {run} is released already")
        audit.append(
            paths.audit_log,
            APPROVAL if approve else REJECTION,
            **context,
            sha256=outcome["sha256"],
            reason=reason,
        )
        return _standing(found, audit_read.read(paths.audit_log))[output]


# --- the release -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Released:
    folder: Path
    released: tuple[int, ...]
    held: dict[int, str]


def releasable(
    run: Run, entries: list[dict[str, Any]], scan: Callable[[Path], str]
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The outcomes of the run's outputs that may be published now, and why each other is held
    (an output already released is neither)."""
    standing = _standing(run, entries)
    released = _released_before(entries, run.id)
    chosen, held = [], {}
    for outcome in run.record["outputs"]:
        number = outcome["output"]
        if number in released:
            continue
        if outcome.get("person_level"):
            held[number] = "person-level output is never released"
        elif not standing[number].released:
            held[number] = standing[number].why_not()
        elif not run.unchanged(outcome):
            held[number] = "it changed or is gone since it was checked and approved"
        elif found := scan(checked_file(run.folder, outcome)):
            held[number] = f"person-level output ({found})"
        else:
            chosen.append(outcome)
    return chosen, held


@flow(name="release_reviewed_outputs", log_prints=False)
def release(paths: Paths, run: str, specs_dir: Path) -> Released:
    """Publish every output of a run that its reviewers approved and that no release published
    yet; the outputs held back, and why."""
    context: dict[str, Any] = {"run": run, "mode": ModeName.ONPREM.value, "analysis_release": True}
    audit.append(paths.audit_log, "request", **context)
    with outcome_logged(paths.audit_log, context, _failed):
        found, operator, staff = _loaded(paths, run, specs_dir, context)
        if not set(staff.roles) & set(found.rules.reviewer_roles):
            raise AnalysisRefused(
                f"{operator!r} holds none of the roles that release the outputs of deliberation "
                f"{found.spec.deliberation} ({', '.join(found.rules.reviewer_roles)}; roles are "
                "held in the staff roster)"
            )
        persons = workspace_persons(release_folder(paths, found.spec, ModeName.ONPREM, found.as_of))
        entries = audit_read.read(paths.audit_log)
        chosen, held = releasable(found, entries, lambda path: identifiers_in(path, persons))
        if not chosen:
            why = "; ".join(f"output {n}: {reason}" for n, reason in held.items())
            raise AnalysisRefused(f"no output of run {run} may be published now ({why or 'none'})")
        standing = _standing(found, entries)
        approved_in = {str(o["output"]): list(standing[o["output"]].approved_in) for o in chosen}
        header = {k: found.record[k] for k in HEADER_FIELDS if k in found.record} | {
            "kind": "analysis outputs, reviewed",
            "approvals": found.rules.approvals,
            "approved_in_entries": approved_in,
            WITNESS: audit_read.witness(paths.audit_log),
        }

        def write(staging: Path) -> None:
            for outcome in chosen:
                source = checked_file(found.folder, outcome)
                shutil.copyfile(source, staging / source.name)
            # the code's name for each stays in the run record, never leaves
            outcomes = [{k: v for k, v in o.items() if k != "name"} for o in chosen]
            write_json({**header, "outputs": outcomes}, staging / REPORT_JSON)
            (staging / REPORT_MARKDOWN).write_text(report_markdown(header, outcomes))

        target = _target(outputs_folder(paths, found.spec, found.as_of, run))
        staging, files, manifest_sha256 = staged(target, write, header)
        numbers = tuple(o["output"] for o in chosen)
        publish(
            staging,
            target,
            lambda status: audit.append(
                paths.audit_log,
                "release",
                **context,
                folder=str(target),
                files=sorted(files),
                manifest_sha256=manifest_sha256,
                released=list(numbers),
                released_sha256={str(o["output"]): o["sha256"] for o in chosen},
                approved_in_entries=approved_in,
                held={str(n): reason for n, reason in held.items()},
            ),
        )
        return Released(target, numbers, held)


def _target(first: Path) -> Path:
    """The folder of a run's first release, or of its next one beside it."""
    target, count = first, 1
    while target.exists():
        count += 1
        target = first.with_name(f"{first.name}_release-{count}")
    return target


def staged(
    target: Path, write: Callable[[Path], object], header: dict[str, Any]
) -> tuple[Path, dict[str, dict[str, str]], str]:
    """A staging folder beside `target` holding what `write` puts there and a manifest (the
    header and each file's sha256): the folder, its files, the manifest's sha256. A write that
    fails removes the folder: a half-written one is never published, nor left for retention."""
    staging = staging_folder(target)
    try:
        write(staging)
        files = {path.name: {"sha256": sha256_file(path)} for path in sorted(staging.iterdir())}
        write_json(Manifest.of({**header, "files": files}).document(), staging / "manifest.json")
        return staging, files, sha256_file(staging / "manifest.json")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _failed(kind: str, said: str | None) -> AnalysisFailed:
    # a file-system error's words are in the log; the run's own message stays its kind
    return AnalysisFailed(
        f"stopped on {kind}; its details are withheld because they may quote data"
    )
