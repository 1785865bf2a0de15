"""A person signs off: the sign-off rule on inline decisions (and a property of it), then the
review, the decisions and the release of an analysis run's outputs, end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from flows.analysis import signoff
from flows.analysis.run import AnalysisRefused, analysis_run
from flows.schedule.review import check
from flows.stores import audit_read
from specs.modes import AnalysisRuns
from specs.signoff import Decision, decision_refusal, decisions, sign_off
from tests.conftest import WORLD_AS_OF
from tests.reviewers import FIRST, REASON, REVIEWER_ROLE, SECOND, THIRD, accounts, run_paths

__all__ = ["accounts", "run_paths"]  # fixtures

RULES = AnalysisRuns(reviewer_roles=(REVIEWER_ROLE,), approvals=2)
AUTHOR = "researcher"
SHA = "a" * 64


def _decision(seq, actor, approve=True, output=1, sha256=SHA, roles=(REVIEWER_ROLE,)):
    return Decision(seq, actor, roles, approve, output, sha256, "")


# --- the rule ----------------------------------------------------------------------------------


def test_two_different_reviewers_approving_the_checked_bytes_release_an_output():
    logged = [_decision(1, FIRST), _decision(2, SECOND)]
    assert sign_off(1, SHA, logged, RULES, AUTHOR).released
    assert sign_off(1, SHA, logged, RULES, AUTHOR).approved_in == (1, 2)


@pytest.mark.parametrize(
    ("logged", "missing"),
    [
        ([_decision(1, FIRST), _decision(2, FIRST)], 1),  # the same person twice
        ([_decision(1, FIRST), _decision(2, AUTHOR)], 1),  # the author
        ([_decision(1, FIRST), _decision(2, "clerk", roles=("clerk",))], 1),  # no reviewer role
        ([_decision(1, FIRST), _decision(2, SECOND, sha256="b" * 64)], 1),  # other bytes
        ([_decision(1, FIRST), _decision(2, SECOND, output=2)], 1),  # another output
        ([], 2),
    ],
)
def test_approvals_that_do_not_count(logged, missing):
    standing = sign_off(1, SHA, logged, RULES, AUTHOR)
    assert not standing.released and standing.missing == missing
    assert standing.why_not() == f"awaiting {missing} more approval(s)"


def test_a_rejection_stops_an_output_until_its_reviewer_approves_it_again():
    logged = [_decision(1, FIRST), _decision(2, SECOND), _decision(3, THIRD, approve=False)]
    standing = sign_off(1, SHA, logged, RULES, AUTHOR)
    assert not standing.released and standing.why_not() == "rejected by 1 reviewer(s)"
    assert sign_off(1, SHA, [*logged, _decision(4, THIRD)], RULES, AUTHOR).released
    # a rejection by someone whose decision does not count does not stop it either
    assert sign_off(1, SHA, [*logged[:2], _decision(3, AUTHOR, False)], RULES, AUTHOR).released


def test_who_may_decide_and_when_a_written_reason_is_needed():
    def refusal(actor, approve=True, reason="", needed=False, roles=(REVIEWER_ROLE,)):
        return decision_refusal(actor, roles, AUTHOR, approve, reason, needed, RULES, "18/088")

    assert refusal(FIRST) is None
    assert "holds none of the roles" in refusal("clerk", roles=("clerk",))
    assert "roster" in refusal("clerk", roles=())
    assert "ran this code" in refusal(AUTHOR)
    assert "written reason" in refusal(FIRST, approve=False)
    assert "written reason" in refusal(FIRST, reason="ok", needed=True)
    assert refusal(FIRST, approve=False, reason=REASON) is None
    assert refusal(FIRST, reason=REASON, needed=True) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([FIRST, SECOND, THIRD, AUTHOR]),
            st.booleans(),
            st.sampled_from([SHA, "b" * 64]),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.integers(1, 3),
)
def test_a_released_output_has_as_many_current_approvals_by_others_as_the_spec_asks(
    drawn, approvals
):
    rules = AnalysisRuns(reviewer_roles=(REVIEWER_ROLE,), approvals=approvals)
    logged = [
        _decision(seq, actor, approve, sha256=sha, roles=(REVIEWER_ROLE,) if role else ())
        for seq, (actor, approve, sha, role) in enumerate(drawn, start=1)
    ]
    latest = {d.actor: d for d in logged}  # each person's last word
    counted = [d for d in latest.values() if d.actor != AUTHOR and d.roles]
    approving = {d.actor for d in counted if d.approve and d.sha256 == SHA}
    rejecting = {d.actor for d in counted if not d.approve}
    released = sign_off(1, SHA, logged, rules, AUTHOR).released
    assert released == (len(approving) >= approvals and not rejecting)


# --- end to end --------------------------------------------------------------------------------

# a table rex computes, a table the code writes itself (unchecked), pseudonyms (person-level)
MIXED = """
import os
from pathlib import Path

import polars as pl

from researcher import outputs

workspace = Path(os.environ["REX_RELEASE"])
out = Path(os.environ["REX_OUTPUT"])
quarter = pl.scan_parquet(workspace / "quarter.parquet")
outputs.save_table(outputs.count_table(quarter, ["sex"]), "persons_by_sex")
pl.DataFrame({"group": ["all"], "share": [0.5]}).write_csv(out / "own_table.csv")
ids = pl.read_parquet(workspace / "persons.parquet")["person_id"].head(20)
(out / "listed.txt").write_text("\\n".join(ids))
"""


@pytest.fixture
def mixed_run(world, run_paths, tmp_path):
    code = tmp_path / "analysis.py"
    code.write_text(textwrap.dedent(MIXED))
    return analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)


def _numbers(result) -> dict[str, int]:
    return {c.name: c.number for c in result.checks}


def _sha256(result, number: int) -> str:
    """The sha256 of rex's bytes of an output it computed."""
    (check,) = [c for c in result.checks if c.number == number]
    return hashlib.sha256(check.released or b"").hexdigest()


def test_nothing_leaves_before_two_reviewers_other_than_the_author_approve_it(
    world, mixed_run, run_paths, accounts
):
    specs = world["spec"].parent
    table = _numbers(mixed_run)["persons_by_sex.csv"]
    with pytest.raises(AnalysisRefused, match="no output of run .* may be published now"):
        accounts.release(mixed_run.run, specs)
    # the author holds the reviewer role too, and still may not approve their own outputs
    author = accounts.me
    with pytest.raises(AnalysisRefused, match="ran this code"):
        accounts.approve(mixed_run.run, [table], specs, author)
    accounts.approve(mixed_run.run, [table], specs, FIRST)
    with pytest.raises(AnalysisRefused, match="awaiting 1 more approval"):
        accounts.release(mixed_run.run, specs)
    accounts.approve(mixed_run.run, [table], specs, FIRST)  # the same person again
    with pytest.raises(AnalysisRefused, match="awaiting 1 more approval"):
        accounts.release(mixed_run.run, specs)
    accounts.approve(mixed_run.run, [table], specs, SECOND)
    released = accounts.release(mixed_run.run, specs)
    assert released.released == (table,)
    assert sorted(p.name for p in released.folder.iterdir()) == [
        "checking_report.json",
        "checking_report.md",
        "manifest.json",
        f"output-{table:03d}.csv",
    ]
    # a run's output leaves once: a second release has nothing to publish
    with pytest.raises(AnalysisRefused, match="may be published now"):
        accounts.release(mixed_run.run, specs)
    entries = audit_read.read(run_paths.audit_log)
    decided = decisions(entries, mixed_run.run)
    assert [(d.actor, d.approve, d.output) for d in decided] == [
        (FIRST, True, table),
        (FIRST, True, table),
        (SECOND, True, table),
    ]
    assert {d.sha256 for d in decided} == {_sha256(mixed_run, table)}
    refusals = [e for e in entries if e["event"] == "refusal"]
    assert len(refusals) == 5 and all(e["run"] == mixed_run.run for e in refusals)
    assert audit_read.verify(run_paths.audit_log) == []
    # the periodic review finds the release signed off, and says so
    (release,) = [e for e in entries if e["event"] == "release"]
    finding = check(release, entries, specs, run_paths.audit_log)
    assert finding.ok, finding.violations
    assert f"analysis outputs {table} of run {mixed_run.run} released after" in finding.notes[0]
    # ... and finds a release whose approvals are not in the log before it
    unsigned = [e for e in entries if e["event"] not in ("approval", "rejection")]
    finding = check(release, unsigned, specs, run_paths.audit_log)
    assert finding.violations == (
        f"output {table} of run {mixed_run.run} was released without its sign-off "
        "(awaiting 2 more approval(s))",
    )


def test_a_withheld_output_is_approved_only_with_a_reason_and_person_level_output_never(
    world, mixed_run, run_paths, accounts
):
    specs = world["spec"].parent
    numbers = _numbers(mixed_run)
    own, listed = numbers["own_table.csv"], numbers["listed.txt"]
    accounts.become(FIRST)
    with pytest.raises(AnalysisRefused, match="written reason"):
        signoff.decide(run_paths, mixed_run.run, own, True, "fine", specs)
    with pytest.raises(AnalysisRefused, match="person-level output, which is never released"):
        signoff.decide(run_paths, mixed_run.run, listed, True, REASON, specs)
    accounts.back()
    accounts.approve(mixed_run.run, [own], specs)
    released = accounts.release(mixed_run.run, specs)
    assert released.released == (own,)
    assert (released.folder / f"output-{own:03d}.csv").read_bytes() == (
        mixed_run.run_folder / "outputs" / "own_table.csv"
    ).read_bytes()
    assert released.held[listed] == "person-level output is never released"
    assert not (mixed_run.run_folder / "checked" / f"output-{listed:03d}.txt").exists()


def test_a_rejection_holds_an_output_back(world, mixed_run, run_paths, accounts):
    specs = world["spec"].parent
    table = _numbers(mixed_run)["persons_by_sex.csv"]
    accounts.approve(mixed_run.run, [table], specs)
    accounts.become(THIRD)
    with pytest.raises(AnalysisRefused, match="written reason"):
        signoff.decide(run_paths, mixed_run.run, table, False, "", specs)
    standing = signoff.decide(
        run_paths, mixed_run.run, table, False, "the rows by sex tell a small group", specs
    )
    accounts.back()
    assert standing.why_not() == "rejected by 1 reviewer(s)"
    with pytest.raises(AnalysisRefused, match=f"output {table}: rejected by 1 reviewer"):
        accounts.release(mixed_run.run, specs)


def test_a_file_changed_after_its_approval_is_not_released(world, mixed_run, run_paths, accounts):
    specs = world["spec"].parent
    table = _numbers(mixed_run)["persons_by_sex.csv"]
    accounts.approve(mixed_run.run, [table], specs)
    kept = mixed_run.run_folder / "checked" / f"output-{table:03d}.csv"
    os.chmod(kept, 0o644)
    kept.write_text("sex,persons\nM,1\n")
    with pytest.raises(AnalysisRefused, match="changed or is gone since it was checked"):
        accounts.release(mixed_run.run, specs)
    accounts.become(THIRD)
    with pytest.raises(AnalysisRefused, match="not the file that was checked"):
        signoff.decide(run_paths, mixed_run.run, table, True, REASON, specs)
    accounts.back()
    review = signoff.review(run_paths, mixed_run.run, specs).read_text()
    assert "CHANGED OR GONE since its check" in review


def test_the_review_shows_each_output_its_standing_and_the_code_changed_since_the_last_review(
    world, run_paths, accounts, tmp_path
):
    specs = world["spec"].parent
    code = tmp_path / "analysis.py"
    code.write_text(textwrap.dedent(MIXED))
    first = analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    review = signoff.review(run_paths, first.run, specs).read_text()
    assert "No earlier code of project" in review and "new." in review
    assert "| 0 of 2 approvals |" in review and "never (person-level)" in review
    # the code's names for its outputs, outside the code itself
    outcomes = review.split("## Code")[0]
    assert "listed.txt" not in outcomes and "own_table" not in outcomes
    table = _numbers(first)["persons_by_sex.csv"]
    accounts.approve(first.run, [table], specs)
    assert "| 2 of 2 approvals |" in signoff.review(run_paths, first.run, specs).read_text()
    code.write_text(textwrap.dedent(MIXED) + 'print("one more line")\n')
    second = analysis_run(world["spec"], WORLD_AS_OF, code, run_paths)
    review = signoff.review(run_paths, second.run, specs).read_text()
    assert f"Changes since run {first.run}, the last reviewed" in review
    assert '+print("one more line")' in review
    assert review.count("\n+") == 2  # the diff's header and the one line added


def test_the_sign_off_commands_refuse_in_one_line_and_release_what_was_approved(
    world, mixed_run, run_paths, accounts, monkeypatch
):
    from flows.cli import app

    monkeypatch.setattr("flows.cli.analyse.SPECS_DIR", world["spec"].parent)
    monkeypatch.setenv("REX_DATA_DIR", str(run_paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(run_paths.key_store))
    table = str(_numbers(mixed_run)["persons_by_sex.csv"])
    shown = CliRunner().invoke(app, ["analyse", "review", "--run", mixed_run.run])
    assert shown.exit_code == 0, shown.output
    assert "0 of 2 approvals" in shown.output
    own = CliRunner().invoke(app, ["analyse", "approve", "--run", mixed_run.run, "--output", table])
    assert own.exit_code == 2 and own.output.count("\n") == 1, own.output
    assert "ran this code" in own.output
    for reviewer in (FIRST, SECOND):
        accounts.become(reviewer)
        approved = CliRunner().invoke(
            app, ["analyse", "approve", "--run", mixed_run.run, "--output", table]
        )
        assert approved.exit_code == 0, approved.output
    assert "ready for release" in approved.output
    released = CliRunner().invoke(app, ["analyse", "release", "--run", mixed_run.run])
    accounts.back()
    assert released.exit_code == 0, released.output
    assert f"published outputs {table}:" in released.output
    assert "held back: person-level output is never released" in released.output


def test_a_release_is_reviewed_as_the_deliberation_stood_on_its_as_of_date(
    world, mixed_run, run_paths, accounts
):
    """The release's own entry carries what the periodic review needs: the run, the outputs and
    the sha256 of each, its actor's roles."""
    specs = world["spec"].parent
    table = _numbers(mixed_run)["persons_by_sex.csv"]
    accounts.approve(mixed_run.run, [table], specs)
    accounts.release(mixed_run.run, specs)
    entry = audit_read.read(run_paths.audit_log)[-1]
    assert entry["event"] == "release" and entry["analysis_release"]
    assert entry["actor"] == FIRST and REVIEWER_ROLE in entry["roles"]
    assert entry["released_sha256"] == {str(table): _sha256(mixed_run, table)}
    assert dt.date.fromisoformat(entry["as_of"]) == WORLD_AS_OF
