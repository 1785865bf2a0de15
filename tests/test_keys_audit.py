"""The key store and the audit log."""

from __future__ import annotations

import errno
import json
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import audit
from flows.keys import KeyStoreError, create_key, fingerprint, load_key


def test_created_key_is_owner_only_and_loads(tmp_path):
    store = tmp_path / "keys"
    printed = create_key(store, "demo")
    assert stat.S_IMODE((store / "demo.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert fingerprint(load_key(store, "demo")) == printed


def test_existing_key_is_never_replaced(tmp_path):
    create_key(tmp_path, "demo")
    before = (tmp_path / "demo.key").read_text()
    with pytest.raises(KeyStoreError, match="already has a key"):
        create_key(tmp_path, "demo")
    assert (tmp_path / "demo.key").read_text() == before


def test_missing_key_is_a_clear_error_that_says_how_to_create_it(tmp_path):
    with pytest.raises(KeyStoreError, match="no key for project 'demo'.*rex keys create demo"):
        load_key(tmp_path, "demo")


def test_key_readable_by_others_is_refused(tmp_path):
    create_key(tmp_path, "demo")
    (tmp_path / "demo.key").chmod(0o644)
    with pytest.raises(KeyStoreError, match="readable by others"):
        load_key(tmp_path, "demo")


def test_fingerprint_does_not_contain_the_key(tmp_path):
    create_key(tmp_path, "demo")
    key = load_key(tmp_path, "demo")
    assert key.hex()[:16] != fingerprint(key) and key.hex() not in fingerprint(key)


def _log_of(tmp_path, entries: int = 5):
    log = tmp_path / "audit.jsonl"
    for n in range(entries):
        audit.append(log, "release", persons=n)
    return log, log.read_text().splitlines()


def _rewrite(log, lines):
    log.write_text("\n".join(lines) + "\n")


def test_intact_audit_log_verifies(tmp_path):
    log, _ = _log_of(tmp_path)
    assert audit.verify_chain(log) == []


def test_edited_entry_is_found_at_its_line(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[1] = json.dumps(json.loads(lines[1]) | {"persons": 99}, sort_keys=True)
    _rewrite(log, lines)
    assert audit.verify_chain(log) == ["line 2: entry 2 was edited: entry 3 no longer matches it"]


def test_edited_last_entry_is_found_by_the_head(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[-1] = json.dumps(json.loads(lines[-1]) | {"persons": 99}, sort_keys=True)
    _rewrite(log, lines)
    assert audit.verify_chain(log) == ["line 5: entry 5 (the last one) was edited"]


def test_deleted_entry_is_found(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, lines[:2] + lines[3:])
    assert audit.verify_chain(log) == ["line 3: entry 3 is missing before this line (deleted)"]


def test_entries_cut_from_the_end_are_found(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, lines[:3])
    assert audit.verify_chain(log) == [
        "line 3: the log ends at entry 3 but 5 were written (entries deleted from the end)"
    ]


def test_inserted_entry_is_found(tmp_path):
    log, lines = _log_of(tmp_path)
    forged = json.loads(lines[2]) | {"persons": 1000}
    _rewrite(log, lines[:2] + [json.dumps(forged, sort_keys=True)] + lines[2:])
    assert audit.verify_chain(log) == [
        "line 4: entry 3 appears a second time (one of the two was inserted)"
    ]


def test_reordered_entries_are_found(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, [lines[0], lines[2], lines[1], *lines[3:]])
    assert audit.verify_chain(log) == [
        "line 2: entry 3 stands here (reordered)",
        "line 3: entry 2 stands here (reordered)",
    ]


def test_line_that_is_no_entry_is_found(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[1] = "garbage"
    _rewrite(log, lines)
    assert audit.verify_chain(log) == ["line 2: not an audit entry (the line was edited)"]


def test_audit_entry_says_who_when_and_what(tmp_path):
    entry = audit.append(tmp_path / "a.jsonl", "refusal", deliberation="18/088", reason="x")
    assert {"seq", "at", "actor", "event", "deliberation", "reason", "prev"} <= set(entry)


@given(
    change=st.sampled_from(["edit", "delete", "insert", "swap"]),
    entries=st.integers(min_value=2, max_value=8),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_any_single_change_to_the_log_is_detected(tmp_path_factory, change, entries, data):
    log, lines = _log_of(tmp_path_factory.mktemp("log"), entries)
    at = data.draw(st.integers(min_value=0, max_value=entries - 1))
    if change == "edit":
        lines[at] = json.dumps(json.loads(lines[at]) | {"persons": -1}, sort_keys=True)
    elif change == "delete":
        del lines[at]
    elif change == "insert":
        lines.insert(at, lines[data.draw(st.integers(min_value=0, max_value=entries - 1))])
    else:
        other = data.draw(st.integers(min_value=0, max_value=entries - 1).filter(lambda i: i != at))
        lines[at], lines[other] = lines[other], lines[at]
    _rewrite(log, lines)
    assert audit.verify_chain(log) != []


# --- appends chain from the head they trust, all or nothing (issue 9, points 3-5 and 7) -------


def test_append_after_entries_cut_from_the_end_is_refused_naming_the_file_and_line(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, lines[:3])
    with pytest.raises(audit.AuditLogDamaged) as refused:
        audit.append(log, "release", persons=9)
    assert str(log) in str(refused.value) and "line 3" in str(refused.value)
    assert "entries deleted from the end" in str(refused.value)
    assert log.read_text().splitlines() == lines[:3]  # nothing appended, nothing papered over
    assert audit.verify_chain(log) != []


def test_append_after_the_last_entry_was_edited_is_refused(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[-1] = json.dumps(json.loads(lines[-1]) | {"persons": 7}, sort_keys=True)
    _rewrite(log, lines)
    with pytest.raises(audit.AuditLogDamaged, match="line 5: entry 5 .*was edited"):
        audit.append(log, "release", persons=9)


def test_a_full_disk_during_the_line_leaves_the_log_and_head_as_they_were(tmp_path, monkeypatch):
    log, lines = _log_of(tmp_path)
    head = audit.head_path(log).read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("flows.audit.os.fsync", full)  # the line is written, its sync fails
    with pytest.raises(
        audit.AuditWriteFailed, match=r"audit.jsonl could not be written \(the disk"
    ):
        audit.append(log, "release", persons=9)
    monkeypatch.undo()
    assert log.read_text().splitlines() == lines and audit.head_path(log).read_bytes() == head
    assert audit.verify_chain(log) == []
    assert audit.append(log, "release", persons=10)["seq"] == 6


def test_an_unwritable_head_rolls_the_line_back_and_the_log_still_verifies(tmp_path, monkeypatch):
    log, lines = _log_of(tmp_path)

    def read_only(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("flows.audit.os.replace", read_only)
    with pytest.raises(audit.AuditWriteFailed, match="the file system is read-only"):
        audit.append(log, "release", persons=9)
    monkeypatch.undo()
    assert log.read_text().splitlines() == lines
    assert not audit.staging_path(audit.head_path(log)).exists()
    assert audit.verify_chain(log) == []


def test_an_append_killed_before_its_head_is_rolled_back_by_the_next_and_said_so(tmp_path):
    log, lines = _log_of(tmp_path)
    with open(log, "ab") as handle:
        handle.write(b'{"seq": 6, "event": "rel')  # torn: the process died mid-line
    assert audit.verify_chain(log) == [
        "line 6: 24 bytes after entry 5 were never committed (an append was interrupted; the next "
        "append rolls them back)"
    ]
    entry = audit.append(log, "release", persons=9)
    assert entry["seq"] == 6 and "24 bytes after entry 5" in entry["rolled_back"]
    assert audit.verify_chain(log) == []


def test_a_corrupt_head_is_named_in_one_sentence(tmp_path):
    log, _ = _log_of(tmp_path)
    audit.head_path(log).write_text("{not json")
    assert audit.verify_chain(log) == ["line 5: head file audit.jsonl.head is not JSON"]
    with pytest.raises(audit.AuditLogDamaged, match="audit.jsonl.head is not JSON"):
        audit.append(log, "release", persons=9)
    audit.head_path(log).write_text('{"digest": "x"}\n')
    assert audit.verify_chain(log) == ["line 5: head file audit.jsonl.head has no valid 'seq'"]


def test_a_torn_last_line_is_said_to_be_torn_not_entry_none(tmp_path):
    log, lines = _log_of(tmp_path)
    log.write_bytes(log.read_bytes()[:-20])  # the end of the last committed entry is lost
    problems = audit.verify_chain(log)
    assert problems == ["line 5: the last line is torn: an entry was not written whole"]
    with pytest.raises(audit.AuditLogDamaged, match="line 5: the last line is torn"):
        audit.append(log, "release", persons=9)
