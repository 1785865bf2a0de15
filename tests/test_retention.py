"""Retention: deadlines, withdrawn recipients, key shredding, resumed deletions, all logged."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from flows.release.manifest import ManifestUnreadable
from flows.runtime.settings import SPECS_DIR
from flows.schedule import retention
from flows.schedule.retention import apply, retention_plan, tombstones
from flows.stores import audit, audit_read, keys
from transforms.retention import Action, Holding, Step, plan

SAMPLE_DEADLINE = dt.date(2020, 12, 31)
ONPREM_DEADLINE = dt.date(2021, 12, 31)
DAY = dt.timedelta(days=1)


def _holding(mode, delete_by, ours=True, recipient="DULBEA", project="p"):
    return Holding(project, "18/088", mode, recipient, delete_by, f"/{mode}", ours)


# --- the rule, on inline holdings ------------------------------------------------------------


def test_nothing_goes_on_the_day_of_the_deadline():
    held = [_holding("sample", SAMPLE_DEADLINE), _holding("sample", SAMPLE_DEADLINE, ours=False)]
    assert plan(held, {"p": ONPREM_DEADLINE}, {}, ["p"], SAMPLE_DEADLINE) == []


def test_the_day_after_the_deadline_our_copy_is_deleted_and_the_recipients_attested():
    held = [_holding("sample", SAMPLE_DEADLINE), _holding("sample", SAMPLE_DEADLINE, ours=False)]
    reason = "18/088 sample data, to be deleted by 2020-12-31"
    assert plan(held, {"p": ONPREM_DEADLINE}, {}, ["p"], SAMPLE_DEADLINE + DAY) == [
        Step(Action.ATTEST, "p", "/sample", reason),
        Step(Action.DELETE, "p", "/sample", reason),
    ]


def test_the_key_is_shredded_only_after_the_last_deadline_of_its_project():
    held = [_holding("onprem", ONPREM_DEADLINE)]
    on_deadline = plan(held, {"p": ONPREM_DEADLINE}, {}, ["p"], ONPREM_DEADLINE)
    after = plan(held, {"p": ONPREM_DEADLINE}, {}, ["p"], ONPREM_DEADLINE + DAY)
    assert on_deadline == []
    assert [s.action for s in after] == [Action.DELETE, Action.SHRED_KEY]


def test_a_spec_that_may_still_produce_data_keeps_the_key():
    later = dt.date(2030, 1, 1)
    steps = plan([_holding("onprem", ONPREM_DEADLINE)], {"p": later}, {}, ["p"], later)
    assert [s.action for s in steps] == [Action.DELETE]


def test_a_key_no_spec_knows_is_left_alone():
    assert plan([], {}, {}, ["unknown-project"], dt.date(2099, 1, 1)) == []


def test_a_withdrawn_recipients_copies_are_due_at_once_but_ours_keep_their_deadline():
    held = [
        _holding("sample", SAMPLE_DEADLINE, recipient="HIVA"),
        _holding("sample", SAMPLE_DEADLINE, ours=False, recipient="HIVA"),
    ]
    revoked = {"HIVA": dt.date(2018, 7, 3)}
    assert plan(held, {"p": ONPREM_DEADLINE}, revoked, [], dt.date(2018, 7, 2)) == []
    steps = plan(held, {"p": ONPREM_DEADLINE}, revoked, [], dt.date(2018, 7, 3))
    assert [(s.action, s.reason) for s in steps] == [
        (
            Action.ATTEST,
            "18/088 sample data held by HIVA, whose authorisation was withdrawn on 2018-07-03",
        )
    ]


# --- the flow, on folders on disk -------------------------------------------------------------


def _release(paths, kind, mode, delete_by, project="dulbea-barometer", recipient="DULBEA"):
    folder = getattr(paths, kind) / project / f"18-088_{mode}_2020-06-30"
    folder.mkdir(parents=True)
    (folder / "month.parquet").write_bytes(b"panel")
    manifest = {
        "project": project,
        "deliberation": "18/088",
        "mode": mode,
        "recipient": recipient,
        "delete_by": delete_by.isoformat(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def held(paths):
    keys.create_key(paths.key_store, "dulbea-barometer")
    sample = _release(paths, "releases", "sample", SAMPLE_DEADLINE)
    onprem = _release(paths, "onprem", "onprem", ONPREM_DEADLINE)
    return paths, sample, onprem


def test_a_manifest_edited_by_hand_stops_retention_naming_it_and_deletes_nothing(held):
    paths, sample, onprem = held
    edited = json.loads((sample / "manifest.json").read_text()) | {"delete_by": "never"}
    (sample / "manifest.json").write_text(json.dumps(edited))
    with pytest.raises(ManifestUnreadable) as refused:
        retention_plan(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert str(sample / "manifest.json") in str(refused.value)
    assert "delete_by" in str(refused.value) and "never" not in str(refused.value)
    assert sample.exists() and onprem.exists()


def test_plan_changes_nothing(held):
    paths, sample, onprem = held
    steps = retention_plan(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert len(steps) == 4
    assert sample.exists() and onprem.exists() and keys.has_key(paths.key_store, "dulbea-barometer")
    assert not paths.audit_log.path.exists()


def test_apply_after_every_deadline_deletes_shreds_and_logs_each_step(held):
    paths, sample, onprem = held
    outcomes = apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert all(o.done for o in outcomes)
    assert not sample.exists() and not onprem.exists()
    assert not (paths.key_store / "dulbea-barometer.key").exists()
    events = [
        (e["event"], e.get("target", e.get("project"))) for e in audit_read.read(paths.audit_log)
    ]
    assert events == [
        ("deletion", str(onprem)),
        ("attestation_due", str(sample)),
        ("deletion", str(sample)),
        ("key_shredded", "dulbea-barometer"),
    ]
    assert audit_read.verify_chain(paths.audit_log) == []
    assert apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY) == []  # nothing left to do


def test_a_shredded_key_stops_every_later_run_with_a_clear_message(held):
    paths, _, _ = held
    apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    with pytest.raises(keys.KeyStoreError, match="was shredded on 2022-01-01.*never be recomputed"):
        keys.load_key(paths.key_store, "dulbea-barometer")
    with pytest.raises(keys.KeyStoreError, match="was shredded"):
        keys.create_key(paths.key_store, "dulbea-barometer")


def test_a_deletion_stopped_half_way_is_not_reported_and_is_finished_next_time(held, monkeypatch):
    paths, sample, onprem = held

    real_empty = retention._empty

    def crash(path, *args, **kwargs):
        (path / "month.parquet").unlink()  # part of the folder is gone, then the crash
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("flows.schedule.retention._empty", crash)
    outcomes = apply(paths, SPECS_DIR, SAMPLE_DEADLINE + DAY)
    assert [(o.step.action, o.done) for o in outcomes] == [
        (Action.ATTEST, True),
        (Action.DELETE, False),
    ]
    assert [e["event"] for e in audit_read.read(paths.audit_log)] == [
        "attestation_due",
        "deletion_failed",
    ]
    assert len(tombstones(paths)) == 1 and onprem.exists()

    monkeypatch.setattr("flows.schedule.retention._empty", real_empty)
    outcomes = apply(paths, SPECS_DIR, SAMPLE_DEADLINE + DAY)
    assert tombstones(paths) == [] and not sample.exists() and onprem.exists()
    last = audit_read.read(paths.audit_log)[-1]
    assert last["event"] == "deletion" and last["target"] == str(sample)
    # the release is gone and its attestation was asked for already: what is left to report is
    # the deletion this run finished
    assert [(o.step.action, o.step.target, o.done, o.detail) for o in outcomes] == [
        (Action.DELETE, str(sample), True, "an earlier run had begun it")
    ]


def test_a_key_whose_project_could_not_be_fully_deleted_is_kept(held, monkeypatch):
    paths, _, _ = held

    def crash(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("flows.schedule.retention._empty", crash)
    outcomes = apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert outcomes[-1].step.action is Action.SHRED_KEY and not outcomes[-1].done
    assert keys.has_key(paths.key_store, "dulbea-barometer")


def test_intermediate_data_of_a_run_that_stopped_is_deleted_whatever_the_deadline(held):
    import os
    import time

    paths, sample, _ = held
    stale = sample.parent / f".{sample.name}.abc123"
    fresh = sample.parent / f".{sample.name}.def456"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "month.parquet").write_bytes(b"half")
    day_and_a_half_ago = time.time() - 36 * 3600
    os.utime(stale, (day_and_a_half_ago, day_and_a_half_ago))
    outcomes = apply(paths, SPECS_DIR, dt.date(2019, 1, 1))
    assert [(o.step.action, o.step.target, o.done) for o in outcomes] == [
        (Action.DELETE, str(stale), True)
    ]
    assert not stale.exists() and fresh.exists() and sample.exists()


# --- a damaged log, a log that cannot be written, a finished tombstone (issue 9, 6 and 13) -----


def _damaged_log(paths, entries=3, line=2):
    for n in range(entries):
        audit.append(paths.audit_log, "release", persons=n)
    lines = paths.audit_log.read_text().splitlines()
    lines[line - 1] = "garbage"
    paths.audit_log.path.write_text("\n".join(lines) + "\n")


def test_retention_deletes_what_is_due_despite_a_damaged_log_and_logs_in_a_fresh_segment(held):
    import hashlib

    paths, sample, onprem = held
    _damaged_log(paths)
    outcomes = apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert all(o.done for o in outcomes) and len(outcomes) == 4
    assert not sample.exists() and not onprem.exists()
    segment = paths.audit_log.path.with_name("audit.2.jsonl")
    opening, *logged = [json.loads(line) for line in segment.read_text().splitlines()]
    assert opening["event"] == "log_damaged"
    assert opening["damaged"] == {
        "file": "audit.jsonl",
        "sha256": hashlib.sha256(paths.audit_log.path.read_bytes()).hexdigest(),
        "problems": ["line 2: not an audit entry (the line was edited)"],
    }
    assert [e["event"] for e in logged] == [
        "deletion",
        "attestation_due",
        "deletion",
        "key_shredded",
    ]
    # the damage stays reported; the fresh segment verifies
    assert audit_read.verify_chain(paths.audit_log) == [
        "line 2: not an audit entry (the line was edited)"
    ]
    assert apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY) == []
    assert not paths.audit_log.path.with_name("audit.3.jsonl").exists()  # recorded once


def test_a_damaged_segment_changed_after_it_was_recorded_is_reported(held):
    paths, _, _ = held
    _damaged_log(paths)
    apply(paths, SPECS_DIR, SAMPLE_DEADLINE + DAY)
    paths.audit_log.path.write_text(paths.audit_log.read_text().replace("garbage", "repaired?"))
    assert (
        "audit.2.jsonl line 1: audit.jsonl was changed after this segment recorded its damage"
        in (audit_read.verify_chain(paths.audit_log))
    )


def test_a_deletion_the_log_cannot_take_is_done_and_logged_by_the_next_run(held, monkeypatch):
    import errno

    paths, sample, onprem = held
    audit.append(paths.audit_log, "key_created", project="dulbea-barometer")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("flows.stores.audit.os.fsync", full)
    outcomes = apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert not sample.exists() and not onprem.exists()  # the data went on time
    assert not any(o.done for o in outcomes)
    assert "the disk is full" in outcomes[0].detail and outcomes[0].detail.startswith("deleted; ")
    assert keys.has_key(paths.key_store, "dulbea-barometer")  # never shredded unlogged
    assert len(tombstones(paths)) == 2  # empty: the markers of deletions still to be logged
    assert audit_read.verify_chain(paths.audit_log) == []

    monkeypatch.undo()
    outcomes = apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert tombstones(paths) == [] and all(o.done for o in outcomes)
    events = [(e["event"], e.get("target")) for e in audit_read.read(paths.audit_log)][1:]
    assert ("deletion", str(sample)) in events and ("deletion", str(onprem)) in events
    assert events[-1][0] == "key_shredded"
    assert audit_read.verify_chain(paths.audit_log) == []


def test_retention_apply_that_finishes_a_tombstone_says_it_did(held, monkeypatch, prefect_harness):
    from typer.testing import CliRunner

    from flows.cli import app

    paths, sample, _ = held
    tombstone = sample.with_name(retention.TOMBSTONE + sample.name)
    sample.rename(tombstone)
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    result = CliRunner().invoke(
        app, ["retention", "apply", "--as-of", "2019-01-01"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "1 steps done, 0 failed" in result.output
    assert "an earlier run had begun it" in result.output
    assert not tombstone.exists()


def test_retention_apply_on_a_damaged_log_warns_and_exits_non_zero(
    held, monkeypatch, prefect_harness
):
    from typer.testing import CliRunner

    from flows.cli import app

    paths, sample, _ = held
    _damaged_log(paths)
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    runner = CliRunner()
    result = runner.invoke(app, ["retention", "apply", "--as-of", "2021-01-01"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "2 steps done, 0 failed" in result.output and not sample.exists()
    assert "audit.jsonl: line 2: not an audit entry" in result.output
    assert "fresh segment" in result.output and "audit.2.jsonl" in result.output
    again = runner.invoke(app, ["retention", "apply", "--as-of", "2021-01-01"])
    assert again.exit_code == 0 and "audit.jsonl: line 2: not an audit entry" in again.output
