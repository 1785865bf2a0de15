"""Retention: deadlines, withdrawn recipients, key shredding, resumed deletions, all logged."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from flows import audit, keys
from flows.retention import apply, retention_plan, tombstones
from flows.settings import SPECS_DIR
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


def test_plan_changes_nothing(held):
    paths, sample, onprem = held
    steps = retention_plan(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert len(steps) == 4
    assert sample.exists() and onprem.exists() and keys.has_key(paths.key_store, "dulbea-barometer")
    assert not paths.audit_log.exists()


def test_apply_after_every_deadline_deletes_shreds_and_logs_each_step(held):
    paths, sample, onprem = held
    outcomes = apply(paths, SPECS_DIR, ONPREM_DEADLINE + DAY)
    assert all(o.done for o in outcomes)
    assert not sample.exists() and not onprem.exists()
    assert not (paths.key_store / "dulbea-barometer.key").exists()
    events = [(e["event"], e.get("target", e.get("project"))) for e in audit.read(paths.audit_log)]
    assert events == [
        ("deletion", str(onprem)),
        ("attestation_due", str(sample)),
        ("deletion", str(sample)),
        ("key_shredded", "dulbea-barometer"),
    ]
    assert audit.verify_chain(paths.audit_log) == []
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
    real_rmtree = shutil.rmtree

    def crash(path, *args, **kwargs):
        (path / "month.parquet").unlink()  # part of the folder is gone, then the crash
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("flows.retention.shutil.rmtree", crash)
    outcomes = apply(paths, SPECS_DIR, SAMPLE_DEADLINE + DAY)
    assert [(o.step.action, o.done) for o in outcomes] == [
        (Action.ATTEST, True),
        (Action.DELETE, False),
    ]
    assert [e["event"] for e in audit.read(paths.audit_log)] == [
        "attestation_due",
        "deletion_failed",
    ]
    assert len(tombstones(paths)) == 1 and onprem.exists()

    monkeypatch.setattr("flows.retention.shutil.rmtree", real_rmtree)
    outcomes = apply(paths, SPECS_DIR, SAMPLE_DEADLINE + DAY)
    assert tombstones(paths) == [] and not sample.exists() and onprem.exists()
    last = audit.read(paths.audit_log)[-1]
    assert last["event"] == "deletion" and last["target"] == str(sample)
    assert outcomes == []  # the release is gone, and its attestation was asked for already


def test_a_key_whose_project_could_not_be_fully_deleted_is_kept(held, monkeypatch):
    paths, _, _ = held

    def crash(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("flows.retention.shutil.rmtree", crash)
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
