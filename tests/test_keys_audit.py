"""The key store and the audit log."""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.stores import audit, audit_files, audit_read
from flows.stores.keys import KeyStoreError, create_key, fingerprint, load_key, projects_with_keys


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
    log = audit_files.Log(tmp_path / "audit" / "audit.jsonl", tmp_path / "keys")
    for n in range(entries):
        audit.append(log, "release", persons=n)
    return log, log.read_text().splitlines()


def _rewrite(log, lines):
    log.path.write_text("\n".join(lines) + "\n")


def test_intact_audit_log_verifies(tmp_path):
    log, _ = _log_of(tmp_path)
    assert audit_read.verify_chain(log) == []


def test_edited_entry_is_found_at_its_line(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[1] = json.dumps(json.loads(lines[1]) | {"persons": 99}, sort_keys=True)
    _rewrite(log, lines)
    assert audit_read.verify_chain(log) == [
        "line 2: entry 2 was edited: entry 3 no longer matches it"
    ]


def test_edited_last_entry_is_found_by_the_head(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[-1] = json.dumps(json.loads(lines[-1]) | {"persons": 99}, sort_keys=True)
    _rewrite(log, lines)
    assert audit_read.verify_chain(log) == ["line 5: entry 5 (the last one) was edited"]


def test_deleted_entry_is_found(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, lines[:2] + lines[3:])
    assert audit_read.verify_chain(log) == ["line 3: entry 3 is missing before this line (deleted)"]


def test_entries_cut_from_the_end_are_found(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, lines[:3])
    assert audit_read.verify_chain(log) == [
        "line 3: the log ends at entry 3 but 5 were written (entries deleted from the end)"
    ]


def test_inserted_entry_is_found(tmp_path):
    log, lines = _log_of(tmp_path)
    forged = json.loads(lines[2]) | {"persons": 1000}
    _rewrite(log, lines[:2] + [json.dumps(forged, sort_keys=True)] + lines[2:])
    assert audit_read.verify_chain(log) == [
        "line 4: entry 3 appears a second time (one of the two was inserted)"
    ]


def test_reordered_entries_are_found(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, [lines[0], lines[2], lines[1], *lines[3:]])
    assert audit_read.verify_chain(log) == [
        "line 2: entry 3 stands here (reordered)",
        "line 3: entry 2 stands here (reordered)",
    ]


def test_line_that_is_no_entry_is_found(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[1] = "garbage"
    _rewrite(log, lines)
    assert audit_read.verify_chain(log) == ["line 2: not an audit entry (the line was edited)"]


def test_audit_entry_says_who_when_and_what(tmp_path):
    log = audit_files.Log(tmp_path / "a.jsonl", tmp_path / "keys")
    entry = audit.append(log, "refusal", deliberation="18/088", reason="x")
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
    assert audit_read.verify_chain(log) != []


# --- appends chain from the head they trust, all or nothing (issue 9, points 3-5 and 7) -------


def test_append_after_entries_cut_from_the_end_is_refused_naming_the_file_and_line(tmp_path):
    log, lines = _log_of(tmp_path)
    _rewrite(log, lines[:3])
    with pytest.raises(audit_files.AuditLogDamaged) as refused:
        audit.append(log, "release", persons=9)
    assert str(log) in str(refused.value) and "line 3" in str(refused.value)
    assert "entries deleted from the end" in str(refused.value)
    assert log.read_text().splitlines() == lines[:3]  # nothing appended, nothing papered over
    assert audit_read.verify_chain(log) != []


def test_append_after_the_last_entry_was_edited_is_refused(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[-1] = json.dumps(json.loads(lines[-1]) | {"persons": 7}, sort_keys=True)
    _rewrite(log, lines)
    with pytest.raises(audit_files.AuditLogDamaged, match="line 5: entry 5 .*was edited"):
        audit.append(log, "release", persons=9)


def test_a_full_disk_during_the_line_leaves_the_log_and_head_as_they_were(tmp_path, monkeypatch):
    log, lines = _log_of(tmp_path)
    head = audit_files.head_path(log.path).read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("flows.stores.audit.os.fsync", full)  # the line is written, its sync fails
    with pytest.raises(
        audit_files.AuditWriteFailed, match=r"audit.jsonl could not be written \(the disk"
    ):
        audit.append(log, "release", persons=9)
    monkeypatch.undo()
    assert (
        log.read_text().splitlines() == lines
        and audit_files.head_path(log.path).read_bytes() == head
    )
    assert audit_read.verify_chain(log) == []
    assert audit.append(log, "release", persons=10)["seq"] == 6


def test_an_unwritable_head_rolls_the_line_back_and_the_log_still_verifies(tmp_path, monkeypatch):
    log, lines = _log_of(tmp_path)

    def read_only(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("flows.stores.audit.os.replace", read_only)
    with pytest.raises(audit_files.AuditWriteFailed, match="the file system is read-only"):
        audit.append(log, "release", persons=9)
    monkeypatch.undo()
    assert log.read_text().splitlines() == lines
    assert not audit_files.staging_path(audit_files.head_path(log.path)).exists()
    assert audit_read.verify_chain(log) == []


def test_an_append_killed_before_its_head_is_rolled_back_by_the_next_and_said_so(tmp_path):
    log, lines = _log_of(tmp_path)
    with open(log.path, "ab") as handle:
        handle.write(b'{"seq": 6, "event": "rel')  # torn: the process died mid-line
    assert audit_read.verify_chain(log) == [
        "line 6: 24 bytes after entry 5 were never committed (an append was interrupted; the next "
        "append rolls them back)"
    ]
    entry = audit.append(log, "release", persons=9)
    assert entry["seq"] == 6 and "24 bytes after entry 5" in entry["rolled_back"]
    assert audit_read.verify_chain(log) == []


def test_a_corrupt_head_is_named_in_one_sentence(tmp_path):
    log, _ = _log_of(tmp_path)
    audit_files.head_path(log.path).write_text("{not json")
    assert audit_read.verify_chain(log) == ["line 5: head file audit.jsonl.head is not JSON"]
    with pytest.raises(audit_files.AuditLogDamaged, match="audit.jsonl.head is not JSON"):
        audit.append(log, "release", persons=9)
    audit_files.head_path(log.path).write_text('{"digest": "x"}\n')
    assert audit_read.verify_chain(log) == ["line 5: head file audit.jsonl.head has no valid 'seq'"]


def test_a_torn_last_line_is_said_to_be_torn_not_entry_none(tmp_path):
    log, lines = _log_of(tmp_path)
    log.path.write_bytes(log.path.read_bytes()[:-20])  # the end of the last committed entry is lost
    problems = audit_read.verify_chain(log)
    assert problems == ["line 5: the last line is torn: an entry was not written whole"]
    with pytest.raises(audit_files.AuditLogDamaged, match="line 5: the last line is torn"):
        audit.append(log, "release", persons=9)


# --- a log that cannot be rewritten unseen: the keyed chain (issue 28) -------------------------


def _sha256(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def _rechained(lines: list[str], start: int = 0) -> tuple[list[str], str]:
    """The lines as one who can write the log but has no key would re-chain them: each entry
    from `start` on linked by the plain sha256 of the line before it (and no `chain` field)."""
    out = lines[:start]
    prev = _sha256(out[-1]) if out else audit_files.GENESIS
    for line in lines[start:]:
        entry = json.loads(line) | {"prev": prev}
        entry.pop("chain", None)
        out.append(json.dumps(entry, sort_keys=True))
        prev = _sha256(out[-1])
    return out, prev


def _rewrite_with_head(log, lines: list[str], digest: str) -> None:
    """Rewrite the log and a head that matches it, as the attacker would."""
    _rewrite(log, lines)
    head = {"seq": json.loads(lines[-1])["seq"], "digest": digest, "size": log.path.stat().st_size}
    audit_files.head_path(log.path).write_text(json.dumps(head) + "\n")


def _unkeyed_log(tmp_path, entries: int = 3):
    """A log written before logs were keyed: a plain sha256 chain, and no audit key."""
    log = audit_files.Log(tmp_path / "audit" / "audit.jsonl", tmp_path / "keys")
    log.path.parent.mkdir(parents=True)
    lines = [
        json.dumps({"seq": n + 1, "actor": "x", "event": "release", "persons": n}, sort_keys=True)
        for n in range(entries)
    ]
    lines, digest = _rechained(lines)
    _rewrite_with_head(log, lines, digest)
    return log, lines


def test_a_new_log_is_keyed_from_its_first_entry_by_a_key_of_its_own(tmp_path):
    log, lines = _log_of(tmp_path)
    recorded = json.loads(log.key_file.read_text())
    assert recorded["keyed_from"] == {"segment": "audit.jsonl", "seq": 1}
    assert stat.S_IMODE(log.key_file.stat().st_mode) == 0o600
    assert all(json.loads(line)["chain"] == audit_files.KEYED for line in lines)
    # no `.key`: retention shreds project keys, never the log's
    assert not log.key_file.name.endswith(".key") and projects_with_keys(log.key_store) == []
    other = audit_files.Log(tmp_path / "other" / "audit.jsonl", log.key_store)
    assert other.key_file != log.key_file


def test_a_log_rewritten_and_rechained_with_sha256_fails_verify_naming_the_line(tmp_path):
    log, lines = _log_of(tmp_path)
    lines[2] = json.dumps(json.loads(lines[2]) | {"persons": 99}, sort_keys=True)
    # entries 1 and 2 kept as they are, the edited third and the rest re-chained without the key
    forged, digest = _rechained(lines, start=3)
    forged[2] = lines[2]
    _rewrite_with_head(log, forged, digest)
    problems = audit_read.verify_chain(log)
    # the edited entry 3 is no longer what entry 4's keyed link says: the first forged link
    assert problems[0].startswith("line 4: entry 4 is linked by a plain sha256 where the log is")
    assert problems[-1].startswith("line 5: the head records a plain sha256 of entry 5")
    with pytest.raises(audit_files.AuditLogDamaged):
        audit.append(log, "release", persons=9)


def test_keyed_entries_downgraded_to_a_plain_sha256_chain_are_found(tmp_path):
    log, lines = _log_of(tmp_path)
    forged, digest = _rechained(lines, start=1)  # entry 1 kept, 2-5 re-linked by sha256
    _rewrite_with_head(log, forged, digest)
    problems = audit_read.verify_chain(log)
    assert problems[0] == (
        "line 2: entry 2 is linked by a plain sha256 where the log is keyed from entry 1 on: "
        "the chain was rebuilt without the audit key (downgraded)"
    )
    assert len(problems) == 5  # entries 2-5, and the head


def test_an_old_unkeyed_log_verifies_with_a_note_that_it_is_unkeyed(tmp_path):
    log, _ = _unkeyed_log(tmp_path)
    assert audit_read.verify_chain(log) == []
    assert audit_read.notes(log) == [
        "entries 1-3 of audit.jsonl are unkeyed (written before the log had an audit key): a "
        "plain hash chain, which anyone who can write the log could rebuild; no keyed entry "
        "follows them yet"
    ]
    assert not log.key_file.exists()  # verifying makes no key


def test_a_log_continued_after_the_upgrade_is_keyed_from_there_and_verifies(tmp_path):
    log, old = _unkeyed_log(tmp_path)
    entry = audit.append(log, "release", persons=9)
    assert entry["seq"] == 4 and entry["chain"] == audit_files.KEYED
    recorded = json.loads(log.key_file.read_text())
    assert recorded["keyed_from"] == {"segment": "audit.jsonl", "seq": 4}
    # the first keyed entry pins the unkeyed part under the key
    key = bytes.fromhex(recorded["key"])
    assert entry["prev"] == hmac.new(key, old[-1].encode(), hashlib.sha256).hexdigest()
    audit.append(log, "release", persons=10)
    assert audit_read.verify_chain(log) == []
    assert audit_read.notes(log) == [
        "entries 1-3 of audit.jsonl are unkeyed (written before the log had an audit key): a "
        "plain hash chain, which anyone who can write the log could rebuild; entry 4, the first "
        "keyed one, pins them under the key"
    ]
    # rebuilding the unkeyed part, as anyone could before, is now found
    lines = log.read_text().splitlines()
    lines[1] = json.dumps(json.loads(lines[1]) | {"persons": 99}, sort_keys=True)
    prefix, _ = _rechained(lines[:3], start=1)
    _rewrite(log, prefix + lines[3:])
    assert audit_read.verify_chain(log) == [
        "line 3: entry 3 was edited: entry 4 no longer matches it"
    ]


def test_a_keyed_log_whose_audit_key_is_missing_is_a_problem_and_takes_no_entry(tmp_path):
    log, _ = _log_of(tmp_path)
    log.key_file.unlink()
    assert audit_read.verify_chain(log) == [
        f"line 1: entry 1 is keyed (hmac-sha256) but the audit key {log.key_file} is missing: it "
        "and every entry after it cannot be checked (restore the key file from the key store's "
        "backup)"
    ]
    with pytest.raises(
        audit_files.AuditKeyUnusable, match="is missing, and the log has keyed entries"
    ):
        audit.append(log, "release", persons=9)
    assert not log.key_file.exists()  # never a fresh key that would not verify the old entries


def test_an_append_without_a_key_store_is_refused_never_written_unkeyed(tmp_path):
    with pytest.raises(audit_files.AuditLogError, match="without its key store: an entry is never"):
        audit.append(tmp_path / "audit.jsonl", "release", persons=1)  # type: ignore[arg-type]
    assert not (tmp_path / "audit.jsonl").exists()


def test_keyed_entries_cut_back_to_before_the_key_are_said(tmp_path):
    log, old = _unkeyed_log(tmp_path)
    for n in range(2):
        audit.append(log, "release", persons=n)
    _rewrite_with_head(log, old, _sha256(old[-1]))  # back to the three unkeyed entries
    (problem,) = audit_read.verify(log)
    assert problem.line == 3 and "the audit key was made for entry 4 of audit.jsonl" in str(problem)


def test_the_witness_is_the_head_and_the_log_holds_it_until_it_is_cut_back(tmp_path):
    log, lines = _log_of(tmp_path, 3)
    stated = audit_read.witness(log)
    assert stated == {
        "segment": "audit.jsonl",
        "seq": 3,
        "digest": audit_files.read_head(log.path).digest,
    }
    audit.append(log, "release", persons=9)
    assert audit_read.holds(log, stated) is None
    # cut back before entry 3, with a head the chain itself accepts (entry 3's prev is the
    # digest of entry 2): only the witness sees it
    _rewrite(log, lines[:2])
    head = {"seq": 2, "digest": json.loads(lines[2])["prev"], "size": log.path.stat().st_size}
    audit_files.head_path(log.path).write_text(json.dumps(head) + "\n")
    assert audit_read.verify_chain(log) == []
    assert (
        audit_read.holds(log, stated)
        == "the log has no entry 3 in audit.jsonl (cut back before it)"
    )


# --- who may write what rex trusts (issue 28) -------------------------------------------------


def test_an_audit_folder_others_may_write_is_refused_naming_it_and_the_fix(tmp_path):
    log, _ = _log_of(tmp_path, 1)
    log.path.parent.chmod(0o770)
    with pytest.raises(audit_files.AuditLogError) as refused:
        audit.append(log, "release", persons=9)
    folder = log.path.parent
    assert f"{folder} is writable by others than its owner (mode 770): chmod go-w {folder}" in str(
        refused.value
    )


def test_an_audit_key_in_a_key_store_others_may_write_is_refused(tmp_path):
    log, _ = _log_of(tmp_path, 1)
    log.key_store.chmod(0o730)
    store = log.key_store
    with pytest.raises(
        audit_files.AuditKeyUnusable, match=rf"cannot be trusted: {store} is writable"
    ):
        audit.append(log, "release", persons=2)
    assert f"chmod go-w {store}" in audit_read.verify_chain(log)[0]
