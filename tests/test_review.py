"""The review of logged disclosures (16/046): authorised, by a listed operator, requested first."""

from __future__ import annotations

import datetime as dt
import getpass
import shutil

import pytest
import yaml

from flows.runtime.settings import SPECS_DIR
from flows.schedule.review import review
from flows.stores import audit, audit_files
from specs.load import spec_digest


@pytest.fixture
def specs_dir(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    shutil.copy(SPECS_DIR / "18-088.yaml", folder / "18-088.yaml")
    return folder


def _disclose(log, specs_dir, run, as_of="2020-06-30", mode="sample", request=True, **extra):
    spec = specs_dir / "18-088.yaml"
    context = {"run": run, "spec": spec.name, "mode": mode, "as_of": as_of}
    if request:
        audit.append(log, "request", **context)
    fields = {"spec_sha256": spec_digest(spec), "deliberation": "18/088"} | extra
    return audit.append(log, "release", **context, **fields)


def _violations(log, specs_dir, as_of=dt.date(2021, 12, 31)):
    total, findings = review(log, specs_dir, sample=100, as_of=as_of, seed=1)
    return total, {f.seq: f.violations for f in findings}


def test_authorised_requested_disclosure_passes(tmp_path, specs_dir):
    log = audit_files.Log(tmp_path / "audit.jsonl", tmp_path / "keys")
    entry = _disclose(log, specs_dir, "r1")
    assert _violations(log, specs_dir) == (1, {entry["seq"]: ()})


def test_disclosure_without_a_prior_request_is_a_violation(tmp_path, specs_dir):
    log = audit_files.Log(tmp_path / "audit.jsonl", tmp_path / "keys")
    entry = _disclose(log, specs_dir, "r1", request=False)
    audit.append(log, "request", run="r1")  # a request logged after the fact does not count
    _, found = _violations(log, specs_dir)
    assert found[entry["seq"]] == ("no request for this run was logged before it",)


def test_disclosure_outside_the_window_or_after_the_deadline_is_a_violation(tmp_path, specs_dir):
    log = audit_files.Log(tmp_path / "audit.jsonl", tmp_path / "keys")
    late = _disclose(log, specs_dir, "r1", as_of="2021-06-30", mode="sample")
    early = _disclose(log, specs_dir, "r2", as_of="2018-01-02", mode="onprem")
    _, found = _violations(log, specs_dir)
    # the runs' own refusals, word for word: the review applies their rule
    assert found[late["seq"]] == (
        "the sample data of deliberation 18/088 must be deleted by 2020-12-31; no sample run is "
        "allowed on 2021-06-30",
    )
    assert found[early["seq"]] == (
        "deliberation 18/088 allows runs in 2018-07-03 .. 2021-12-31; 2018-01-02 lies outside "
        "that window",
    )


def test_disclosure_by_someone_not_listed_as_operator_is_a_violation(tmp_path, specs_dir):
    spec = specs_dir / "18-088.yaml"
    document = yaml.safe_load(spec.read_text())
    document["operators"] = ["dwh-operator"]
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    log = audit_files.Log(tmp_path / "audit.jsonl", tmp_path / "keys")
    entry = _disclose(log, specs_dir, "r1")
    _, found = _violations(log, specs_dir)
    assert found[entry["seq"]] == (
        f"{getpass.getuser()!r} is not an operator of deliberation 18/088; its operators are: "
        "dwh-operator",
    )


def test_a_spec_changed_after_the_run_leaves_coverage_unproven(tmp_path, specs_dir):
    log = audit_files.Log(tmp_path / "audit.jsonl", tmp_path / "keys")
    entry = _disclose(log, specs_dir, "r1")
    spec = specs_dir / "18-088.yaml"
    spec.write_text(spec.read_text() + "\n# amended\n")
    _, found = _violations(log, specs_dir)
    assert found[entry["seq"]] == ("the spec has changed since the run: its coverage is unproven",)


def test_review_draws_only_disclosures_up_to_its_date_and_at_most_the_sample(tmp_path, specs_dir):
    log = audit_files.Log(tmp_path / "audit.jsonl", tmp_path / "keys")
    for n in range(6):
        _disclose(log, specs_dir, f"r{n}", as_of=f"2020-0{n + 1}-15")
    total, findings = review(log, specs_dir, sample=2, as_of=dt.date(2020, 4, 30), seed=3)
    assert total == 4
    assert len(findings) == 2
    assert all(f.as_of <= "2020-04-30" for f in findings)


def test_review_of_a_damaged_log_reports_the_damage_instead_of_crashing(
    tmp_path, specs_dir, monkeypatch
):
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.runtime.settings import Paths

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("flows.cli.audit.SPECS_DIR", specs_dir)
    log = Paths.from_environment().audit_log
    entry = _disclose(log, specs_dir, "r1")
    _disclose(log, specs_dir, "r2")
    lines = log.read_text().splitlines()
    lines[2] = '{"seq": 3, "event": "req'  # an unparseable line in the middle
    log.path.write_text("\n".join(lines) + "\n")
    assert _violations(log, specs_dir) == (2, {entry["seq"]: (), 4: (_NO_REQUEST,)})
    result = CliRunner().invoke(app, ["audit", "review", "--as-of", "2021-12-31", "--seed", "1"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "warning: the audit log is damaged" in result.output
    assert "audit.jsonl: line 3: not an audit entry" in result.output
    assert "covers the entries that could be read" in result.output


_NO_REQUEST = "no request for this run was logged before it"
