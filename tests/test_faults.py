"""Fault injection: every write rex makes is interrupted once (issue 9).

The writes: the source store (synthetic.generate), a release's staging folder, its manifest, the
rename that publishes it, an audit line, an audit head, and a retention tombstone. Each is
interrupted by an error injected at that point (a full disk, a read-only file system), and the
source store and the audit log also by a real `kill -9` of a child process. After each: the next
run succeeds, nothing published is partial, the log verifies, and what lies beside the target is
untouched.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.release.files import sha256_file
from flows.runtime.settings import REPO_ROOT, Paths
from flows.stores import audit, audit_files, audit_key, audit_read
from tests.conftest import spec_variant

PERSONS = 800
SAMPLE = 40
AS_OF = dt.date(2020, 6, 30)
PROJECT = "faults"


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from synthetic.generate import generate

    folder = tmp_path_factory.mktemp("faults") / "sources"
    generate(PERSONS, 11, folder)
    return folder


@pytest.fixture(scope="module")
def master_key(tmp_path_factory):
    """One key for every run of the module: same key, same release, validated once (below)."""
    from flows.stores.keys import create_key

    store = tmp_path_factory.mktemp("faults-keys") / "keys"
    create_key(store, PROJECT)
    return store


@pytest.fixture(scope="module")
def validated_once():
    """Outcomes of great-expectations per (panel, content, checks): every run here releases the
    same panels, and validation, the costly step, is not what these tests interrupt."""
    return {}


@pytest.fixture
def project(tmp_path, store, master_key, validated_once, prefect_harness):
    """A data folder with a key, a spec, and an older release beside the target (never touched)."""
    from flows.extract import build

    real_validate = build.validate_panel

    def validate_panel(name, frame, checks):
        key = (name, frame.hash_rows().sum(), frame.height, repr(checks))
        if key not in validated_once:
            validated_once[key] = real_validate(name, frame, checks)
        return validated_once[key]

    paths = Paths(data=tmp_path / "data", key_store=tmp_path / "keys")
    shutil.copytree(master_key, paths.key_store)  # modes kept: owner-only, as load_key requires
    spec = spec_variant(tmp_path, PROJECT, SAMPLE)
    neighbour = paths.releases / PROJECT / "18-088_sample_2019-06-30"
    neighbour.mkdir(parents=True)
    (neighbour / "month.parquet").write_bytes(b"an earlier release")
    # a patch of its own, which the tests' monkeypatch.undo() (lifting their faults) keeps
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "validate_panel", validate_panel)
        yield paths, spec, neighbour


def _run(paths, spec, store):
    from flows.extract.export import sample_export

    return sample_export(spec, AS_OF, paths, store)


def _target(paths) -> Path:
    return paths.releases / PROJECT / f"18-088_sample_{AS_OF.isoformat()}"


def _events(paths) -> list[str]:
    return [e["event"] for e in audit_read.read(paths.audit_log)]


def _assert_recovers(paths, spec, store, neighbour) -> None:
    """Nothing partial is published or left behind, the log verifies, the neighbour is as it
    was, and the next run publishes a whole release, logged."""
    target = _target(paths)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []
    assert audit_read.verify_chain(paths.audit_log) == []
    assert (neighbour / "month.parquet").read_bytes() == b"an earlier release"
    result = _run(paths, spec, store)
    assert result.status == "published"
    manifest = json.loads((target / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert sha256_file(target / name) == entry["sha256"]
    assert _events(paths)[-1] == "release"
    assert audit_read.verify_chain(paths.audit_log) == []


# --- a release: staging, manifest, publish -----------------------------------------------------


def test_a_full_disk_while_staging_a_panel_publishes_nothing_and_the_next_run_does(
    project, store, monkeypatch
):
    from flows.extract.errors import ExtractFailed

    paths, spec, neighbour = project

    from flows.release.parquet_writer import RowGroupWriter

    real_write = RowGroupWriter.write

    def half_then_full(writer, table):
        real_write(writer, table)  # the first rows reach the file, then the disk is full
        _full_disk()

    monkeypatch.setattr(RowGroupWriter, "write", half_then_full)
    with pytest.raises(ExtractFailed, match="stopped on OSError: No space left on device"):
        _run(paths, spec, store)
    monkeypatch.undo()
    assert _events(paths) == ["request", "failure"]
    _assert_recovers(paths, spec, store, neighbour)


def test_a_full_disk_while_writing_the_manifest_publishes_nothing(project, store, monkeypatch):
    from flows.extract.errors import ExtractFailed
    from flows.release import files

    paths, spec, neighbour = project
    real = files.write_json

    def manifest_fails(document, path):
        if path.name == "manifest.json":
            path.write_text('{"half": ')
            _full_disk()
        real(document, path)

    monkeypatch.setattr("flows.extract.build.write_json", manifest_fails)
    with pytest.raises(ExtractFailed):
        _run(paths, spec, store)
    monkeypatch.undo()
    assert _events(paths) == ["request", "failure"]
    _assert_recovers(paths, spec, store, neighbour)


@pytest.mark.parametrize("where", ["stata", "csv", "dossier"])
def test_a_full_disk_while_writing_the_stata_or_csv_files_or_the_dossier_publishes_nothing(
    project, store, monkeypatch, where
):
    """The CSV files are written in a thread of their own: a full disk there fails the run
    all the same."""
    from flows.extract.errors import ExtractFailed
    from flows.release import dossier, formats

    paths, spec, neighbour = project
    module, name = {
        "stata": (formats, "write_stata"),
        "csv": (formats, "write_csv"),
        "dossier": (dossier, "write_dossier"),
    }[where]
    real = getattr(module, name)

    def half_then_full(*args, **kwargs):
        real(*args, **kwargs)  # a whole file reaches the staging folder, then the disk is full
        _full_disk()

    monkeypatch.setattr(module, name, half_then_full)
    with pytest.raises(ExtractFailed, match="stopped on OSError: No space left on device"):
        _run(paths, spec, store)
    monkeypatch.undo()
    assert _events(paths) == ["request", "failure"]
    _assert_recovers(paths, spec, store, neighbour)


def test_a_publish_rename_that_fails_after_the_release_was_logged_says_so(
    project, store, monkeypatch
):
    from flows.extract.errors import ExtractFailed

    paths, spec, neighbour = project
    real = pathlib.Path.rename

    def rename(self, target):
        if Path(target) == _target(paths):
            _full_disk()
        return real(self, target)

    monkeypatch.setattr(pathlib.Path, "rename", rename)
    with pytest.raises(ExtractFailed):
        _run(paths, spec, store)
    monkeypatch.undo()
    entries = audit_read.read(paths.audit_log)
    assert [e["event"] for e in entries] == ["request", "release", "failure"]
    assert f"the release logged as entry {entries[1]['seq']} was not made" in entries[2]["reason"]
    _assert_recovers(paths, spec, store, neighbour)


# --- the audit log: a line, a head, a kill ------------------------------------------------------


def _fail_audit_write_of(monkeypatch, event: str, where: str) -> None:
    """Make the append of `event` fail at `where`: the line's sync, or the head's rename."""
    real_append = audit._append_to
    failing = {"now": False}

    def append_to(log, segment, name, fields):
        failing["now"] = name == event
        try:
            return real_append(log, segment, name, fields)
        finally:
            failing["now"] = False

    def when_failing(real):
        def call(*args, **kwargs):
            if failing["now"]:
                _full_disk() if where == "line" else _read_only()
            return real(*args, **kwargs)

        return call

    def _read_only():
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(audit, "_append_to", append_to)
    if where == "line":
        monkeypatch.setattr(audit.os, "fsync", when_failing(os.fsync))
    else:
        monkeypatch.setattr(audit.os, "replace", when_failing(os.replace))


def test_a_release_whose_audit_line_cannot_be_written_is_not_published(project, store, monkeypatch):
    paths, spec, neighbour = project
    _fail_audit_write_of(monkeypatch, "release", "line")
    with pytest.raises(audit_files.AuditWriteFailed, match="the disk is full"):
        _run(paths, spec, store)
    monkeypatch.undo()
    assert _events(paths) == ["request"]  # the release line was rolled back, nothing published
    _assert_recovers(paths, spec, store, neighbour)


def test_a_request_whose_audit_head_cannot_be_written_stops_the_run_first(
    project, store, monkeypatch
):
    paths, spec, neighbour = project
    _fail_audit_write_of(monkeypatch, "request", "head")
    with pytest.raises(audit_files.AuditWriteFailed, match="the file system is read-only"):
        _run(paths, spec, store)
    monkeypatch.undo()
    assert _events(paths) == []
    _assert_recovers(paths, spec, store, neighbour)


def test_an_export_that_cannot_log_ends_with_one_line_not_a_traceback(project, store, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    paths, spec, _ = project
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    _fail_audit_write_of(monkeypatch, "release", "line")
    result = CliRunner().invoke(
        app,
        ["export", "sample", "--spec", str(spec), "--as-of", "2020-06-30", "--sources", str(store)],
    )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "audit.jsonl could not be written (the disk is full)" in lines[0]
    assert not _target(paths).exists()


APPENDER = """
import sys
from pathlib import Path
from flows.stores import audit, audit_files, audit_key, audit_read
log = audit_files.Log(Path(sys.argv[1]), Path(sys.argv[2]))
while True:
    audit.append(log, "release", persons=1, padding="x" * 2000)
"""


def test_an_appender_killed_at_any_moment_leaves_a_log_the_next_append_repairs(tmp_path):
    log = audit_files.Log(tmp_path / "audit" / "audit.jsonl", tmp_path / "keys")
    for delay in (0.6, 0.9, 1.3):
        child = subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(log.path), str(log.key_store)], cwd=REPO_ROOT
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        # at most an append that never committed, which the next append rolls back
        assert all(p.uncommitted for p in audit_read.verify(log))
        entry = audit.append(log, "request", run="after the kill")
        assert audit_read.verify_chain(log) == []
        assert entry["seq"] == len(audit_read.read(log))


# --- the source store ----------------------------------------------------------------------------


def test_a_store_interrupted_while_written_leaves_nothing_and_the_next_one_is_whole(
    tmp_path, store, monkeypatch
):
    from synthetic import generate as module

    out = tmp_path / "stores" / "sources"
    out.parent.mkdir()
    (out.parent / "beside.txt").write_text("not the store's")
    real = module.RowGroupWriter.write
    calls = {"n": 0}

    def write(self, table):
        calls["n"] += 1
        if calls["n"] == 3:
            _full_disk()
        return real(self, table)

    monkeypatch.setattr(module.RowGroupWriter, "write", write)
    with pytest.raises(OSError):
        module.generate(PERSONS, 11, out)
    monkeypatch.undo()
    assert sorted(p.name for p in out.parent.iterdir()) == ["beside.txt"]
    module.generate(PERSONS, 11, out)
    assert _tree_digest(out) == _tree_digest(store)
    assert (out.parent / "beside.txt").read_text() == "not the store's"


GENERATOR = """
import sys
from pathlib import Path
from synthetic.generate import generate
generate(int(sys.argv[2]), 11, Path(sys.argv[1]))
"""


def test_a_store_generator_killed_leaves_no_partial_store(tmp_path, store):
    from synthetic.generate import generate

    out = tmp_path / "stores" / "sources"
    out.parent.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", GENERATOR, str(out), str(PERSONS)], cwd=REPO_ROOT
    )
    deadline = time.monotonic() + 30
    while not any(out.parent.glob(".sources.*")) and time.monotonic() < deadline:
        time.sleep(0.02)  # the staging folder exists: the writes have begun
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not out.exists() or _tree_digest(out) == _tree_digest(store)  # none, or whole
    leftovers = [p for p in out.parent.iterdir() if p.name != "sources"]
    assert all(p.name.startswith(".sources.") for p in leftovers)  # hidden, never taken as one
    generate(PERSONS, 11, out)
    assert _tree_digest(out) == _tree_digest(store)


# --- retention: a tombstone --------------------------------------------------------------------


def test_a_deletion_interrupted_at_its_tombstone_loses_nothing_and_is_finished(tmp_path):
    from flows.runtime.settings import SPECS_DIR
    from flows.schedule.retention import TOMBSTONE, apply, tombstones
    from tests.test_retention import _release

    paths = Paths(data=tmp_path / "data", key_store=tmp_path / "keys")
    due = _release(paths, "releases", "sample", dt.date(2020, 12, 31))
    kept = _release(paths, "onprem", "onprem", dt.date(2021, 12, 31))
    before = _tree_digest(kept)
    real = pathlib.Path.rename

    def rename(self, target):
        if Path(target).name.startswith(TOMBSTONE):
            _full_disk()
        return real(self, target)

    pathlib.Path.rename = rename  # type: ignore[method-assign]
    try:
        outcomes = apply(paths, SPECS_DIR, dt.date(2021, 1, 1))
    finally:
        pathlib.Path.rename = real  # type: ignore[method-assign]
    assert [o.done for o in outcomes] == [True, False]  # attestation asked, deletion failed
    assert _tree_digest(due) and _tree_digest(kept) == before  # nothing lost half-way
    assert _events(paths) == ["attestation_due", "deletion_failed"]
    outcomes = apply(paths, SPECS_DIR, dt.date(2021, 1, 1))
    assert [(o.step.action.value, o.step.target, o.done) for o in outcomes] == [
        ("attest", str(due), True),  # asked for already
        ("delete", str(due), True),
    ]
    assert not due.exists() and tombstones(paths) == [] and _tree_digest(kept) == before
    assert audit_read.verify_chain(paths.audit_log) == []


def test_a_key_interrupted_while_written_leaves_no_key_file(tmp_path, monkeypatch):
    from flows.stores import keys

    store = tmp_path / "keys"
    monkeypatch.setattr(keys.os, "fsync", _full_disk)
    with pytest.raises(OSError):
        keys.create_key(store, "interrupted")
    assert list(store.iterdir()) == []  # neither a torn key nor its temporary file
    monkeypatch.undo()
    printed = keys.create_key(store, "interrupted")
    assert keys.fingerprint(keys.load_key(store, "interrupted")) == printed


def test_a_key_whose_creation_cannot_be_logged_is_not_kept(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.stores import keys

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    real_append = audit.append

    def refuse_key_created(log, event, **fields):
        if event == "key_created":
            raise audit_files.AuditWriteFailed(
                log, OSError(errno.ENOSPC, "No space left on device")
            )
        return real_append(log, event, **fields)

    monkeypatch.setattr(audit, "append", refuse_key_created)
    result = CliRunner().invoke(app, ["keys", "create", "unlogged"])
    assert result.exit_code == 2
    assert "the disk is full" in result.output
    assert "Traceback" not in result.output
    assert not keys.has_key(tmp_path / "keys", "unlogged")


# --- the audit log's key -----------------------------------------------------------------------


def test_a_full_disk_while_the_audit_key_is_written_leaves_no_key_and_appends_nothing(tmp_path):
    log = audit_files.Log(tmp_path / "audit" / "audit.jsonl", tmp_path / "keys")
    real_fsync = os.fsync

    def key_sync_fails(descriptor):
        if ".audit-" in os.readlink(f"/proc/self/fd/{descriptor}"):  # the key's temporary file
            _full_disk()
        real_fsync(descriptor)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit.os, "fsync", key_sync_fails)
        with pytest.raises(
            audit_files.AuditKeyUnusable, match=r"cannot be made \(the disk is full\)"
        ):
            audit.append(log, "request", run="r1")
    assert list(log.key_store.iterdir()) == []  # neither a torn key nor its temporary file
    assert audit_read.read(log) == []
    entry = audit.append(log, "request", run="r1")
    assert entry["seq"] == 1 and entry["chain"] == audit_files.KEYED
    assert audit_read.verify_chain(log) == []


KEY_MAKER = """
import sys
from pathlib import Path
from flows.stores import audit, audit_files, audit_key, audit_read
root, store = Path(sys.argv[1]), Path(sys.argv[2])
n = 0
while True:
    n += 1
    audit.append(audit_files.Log(root / f"log{n}" / "audit.jsonl", store), "request", run="r1")
"""


def test_an_append_killed_while_it_makes_the_audit_key_leaves_a_whole_key_or_none(tmp_path):
    root, store = tmp_path / "logs", tmp_path / "keys"
    child = subprocess.Popen(
        [sys.executable, "-c", KEY_MAKER, str(root), str(store)], cwd=REPO_ROOT
    )
    time.sleep(2.0)  # every append of the child makes a key: a kill lands amid one or between
    child.send_signal(signal.SIGKILL)
    child.wait()
    logs = [audit_files.Log(folder / "audit.jsonl", store) for folder in sorted(root.iterdir())]
    assert logs
    # hidden temporary files at most, never taken for a key
    assert all(p.name.startswith(".audit-") for p in store.iterdir() if p.suffix == ".tmp")
    for log in logs:
        if log.key_file.exists():
            assert audit_key.load_audit_key(log) is not None  # whole
        # a key made for an entry not committed yet is said, then written by the next append
        assert all(p.uncommitted for p in audit_read.verify(log))
        audit.append(log, "request", run="after the kill")
        assert audit_read.verify_chain(log) == []
