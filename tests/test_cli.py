"""The command line: help everywhere, quick, and clear refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.runtime.settings import REPO_ROOT, Paths
from tests.conftest import rex_in_a_fresh_process


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["synth"],
        ["spec", "check"],
        ["keys", "create"],
        ["export", "sample"],
        ["export", "onprem"],
        ["export", "control"],
        ["demo"],
        ["verify"],
        ["audit", "verify"],
        ["audit", "review"],
        ["audit", "new-segment"],
        ["retention", "plan"],
        ["retention", "apply"],
        ["yearly", "run"],
        ["serve"],
    ],
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_help_does_not_import_the_heavy_libraries():
    code = (
        "import sys; from flows.cli import app; "
        "heavy = [m for m in ('prefect', 'great_expectations', 'duckdb', 'polars') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def test_keys_create_refuses_a_second_key(tmp_path, monkeypatch):
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    first = runner.invoke(app, ["keys", "create", "demo-project"])
    assert first.exit_code == 0 and "fingerprint" in first.output
    second = runner.invoke(app, ["keys", "create", "demo-project"])
    assert second.exit_code == 2 and "already has a key" in second.output


def test_audit_verify_says_intact_or_names_the_changed_line(tmp_path, monkeypatch):
    from flows.stores import audit

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    log = Paths.from_environment().audit_log
    for n in range(3):
        audit.append(log, "release", persons=n)
    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0 and "intact, 3 entries" in intact.output
    lines = log.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "line 2: entry 2 is missing before this line (deleted)" in broken.output


def test_retention_plan_lists_the_steps_and_changes_nothing(tmp_path, monkeypatch):
    import datetime as dt

    from flows.runtime.settings import Paths
    from tests.test_retention import _release

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    paths = Paths.from_environment()
    folder = _release(paths, "releases", "sample", dt.date(2020, 12, 31))
    result = CliRunner().invoke(app, ["retention", "plan", "--as-of", "2021-01-01"])
    assert result.exit_code == 0, result.output
    assert "2 steps; nothing was changed" in result.output
    assert folder.exists() and not paths.audit_log.path.exists()


def test_serve_without_a_prefect_server_says_how_to_start_one(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and "prefect server start" in result.output


def test_a_corrupt_head_or_torn_line_is_one_line_naming_the_file(tmp_path, monkeypatch):
    from flows.stores import audit, audit_files

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    log = Paths.from_environment().audit_log
    for n in range(3):
        audit.append(log, "release", persons=n)
    audit_files.head_path(log.path).write_text("not json")
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == f"{log}: line 3: head file audit.jsonl.head is not JSON"


def test_exports_refuse_a_damaged_log_until_a_fresh_segment_records_the_damage(
    tmp_path, monkeypatch
):
    from flows.stores import audit, audit_files

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    log = Paths.from_environment().audit_log
    for n in range(3):
        audit.append(log, "release", persons=n)
    log.path.write_bytes(log.path.read_bytes()[:-30])  # the last entry torn
    with pytest.raises(audit_files.AuditLogDamaged, match="line 3: the last line is torn"):
        audit.append(log, "request", run="r1")
    runner = CliRunner()
    opened = runner.invoke(app, ["audit", "new-segment"])
    assert opened.exit_code == 0 and "audit.2.jsonl: opened" in opened.output
    assert audit.append(log, "request", run="r1")["seq"] == 2  # after the opening entry
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 1
    assert "audit.jsonl: line 3: the last line is torn" in verified.output
    assert runner.invoke(app, ["audit", "new-segment"]).exit_code == 2  # the new one is intact


@pytest.mark.parametrize(
    "command",
    [
        ["export", "sample", "--as-of", "2020-06-30"],
        ["demo"],
        [
            "yearly",
            "run",
            "--spec",
            str(REPO_ROOT / "specs" / "18-088.yaml"),
            "--as-of",
            "2020-06-30",
        ],
    ],
)
def test_every_extract_command_reads_the_slice_settings(tmp_path, monkeypatch, command):
    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    monkeypatch.setenv("REX_SLICE_PERSONS", "0")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "persons per slice: 0; expected at least 1" in result.output
    assert not (tmp_path / "data" / "synthetic").exists()  # refused before any work


def test_audit_verify_notes_the_entries_written_before_the_log_was_keyed(tmp_path, monkeypatch):
    import hashlib
    import json

    from flows.stores import audit, audit_files

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    log = Paths.from_environment().audit_log
    log.path.parent.mkdir(parents=True)
    lines, prev = [], audit_files.GENESIS
    for n in range(2):  # as rex wrote them before logs were keyed: plain sha256 links
        lines.append(json.dumps({"seq": n + 1, "event": "release", "prev": prev}, sort_keys=True))
        prev = hashlib.sha256(lines[-1].encode()).hexdigest()
    log.path.write_text("\n".join(lines) + "\n")
    head = {"seq": 2, "digest": prev, "size": log.path.stat().st_size}
    audit_files.head_path(log.path).write_text(json.dumps(head))
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{log}: note: entries 1-2 of audit.jsonl are unkeyed" in result.output
    assert "intact, 2 entries" in result.output
    audit.append(log, "release")
    log.key_file.unlink()  # the key of a keyed log gone: a problem, not a fresh start
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "line 3: entry 3 is keyed" in result.output


@pytest.mark.parametrize("given", ["30/06/2020", "2020-13-01", "20200630", "2020-06-30T12:00"])
def test_an_as_of_day_that_is_not_yyyy_mm_dd_is_refused_before_anything_runs(
    tmp_path, monkeypatch, given
):
    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["export", "sample", "--as-of", given])
    assert result.exit_code == 2
    assert "expected a day as YYYY-MM-DD" in result.output
    assert not (tmp_path / "audit").exists()  # refused by the command line: nothing logged


def test_the_as_of_day_reaches_the_run_as_a_date():
    import datetime as dt

    from flows.cli.common import as_of_day, day_of

    assert day_of("2020-06-30") == dt.date(2020, 6, 30)
    assert type(day_of("2020-06-30")) is dt.date
    assert as_of_day(None) == dt.date.today()


def test_a_refused_export_is_refused_and_logged_before_prefect_is_reached(tmp_path):
    # No project key: refused on what needs no source, before Prefect's API is waited for. The
    # API configured here answers nobody: a run that reached Prefect would fail on it instead.
    command = ["export", "sample", "--as-of", "2020-06-30", "--sources", str(tmp_path / "store")]
    unreachable = "http://127.0.0.1:9/api"
    run = rex_in_a_fresh_process(
        tmp_path / "data", tmp_path / "keys", *command, PREFECT_API_URL=unreachable
    )
    assert run.returncode == 2, run.stderr
    said = run.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("error: refused: no key for project"), said
    log = (tmp_path / "data" / "audit" / "audit.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in log]
    assert [entry["event"] for entry in entries] == ["request", "refusal"]
    assert entries[0]["run"] == entries[1]["run"]
    assert said[0] == f"error: refused: {entries[1]['reason']}"
