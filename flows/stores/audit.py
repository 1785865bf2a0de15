"""Appending to the audit log: one transaction per entry, chained by the log's audit key.

An append is one transaction: the line is written and fsynced, then the head is replaced (a
temporary file, fsynced, renamed, the folder fsynced); the head is the commit. An append that
fails half-way truncates the log back to the last committed entry and raises AuditWriteFailed,
so the caller stops before it publishes anything. An append that was killed half-way leaves
bytes past the length the head records: they were never committed (the append never returned,
so nothing depended on it), and the next append rolls them back and says so in its entry.

Before appending, the log's end is checked against its head: the last committed line must end
exactly where the head says, carry the head's number and have its digest. That costs one read
of the last line, not of the whole log, and is all an append needs to chain from the head it
trusts: entries cut from the end, a torn or edited last line, a corrupt head, or an edit that
changed the log's length are caught at the next append (AuditLogDamaged, naming the file and
the line), and nothing is appended to such a log. An edit in the middle that keeps the length
is left to `verify`, which reads the whole chain; appending does not hide it.

A damaged log is never rewritten. Retention, which must delete on time whatever the log's
state, goes on in a fresh segment beside it (`audit.2.jsonl`, then `audit.3.jsonl`, ...): its
first entry (`log_damaged`) names the damaged file, its sha256 and the problems found, so the
damaged segment is frozen as it was and `verify` checks every segment and reports the damage.

The log's files are flows.stores.audit_files', its key and chain flows.stores.audit_key's, and
reading and verifying it flows.stores.audit_read's.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flows.stores.audit_files import (
    FOLDER_MODE,
    GENESIS,
    KEYED,
    SEGMENT_OPENED,
    AuditLogDamaged,
    AuditLogError,
    AuditWriteFailed,
    Log,
    Problem,
    file_digest,
    head_path,
    parse_line,
    read_head,
    segment_number,
    segment_path,
    segments,
    write_atomically,
)
from flows.stores.audit_key import (
    UNKEYED,
    Chain,
    chain_for,
    claims_keyed,
    load_audit_key,
    make_audit_key,
    unusable,
)
from flows.stores.audit_read import (
    verify_segment,
)
from flows.stores.ownership import writable_by_others
from flows.stores.roster import login

# How far back the last line is looked for at once; entries are a few kilobytes at most.
TAIL_WINDOW = 64 * 1024


def _write_head(log: Path, seq: int, digest: str, size: int) -> None:
    line = json.dumps({"seq": seq, "digest": digest, "size": size}) + "\n"
    write_atomically(head_path(log), line.encode("utf-8"))


def _last_line(handle: BinaryIO, end: int) -> bytes:
    """The line that ends at byte `end` (with its newline)."""
    start = end
    while start > 0:
        start = max(0, start - TAIL_WINDOW)
        handle.seek(start)
        block = handle.read(end - start)
        cut = block.rfind(b"\n", 0, len(block) - 1)
        if cut >= 0:
            return block[cut + 1 :]
    handle.seek(0)
    return handle.read(end)


def _damage(log: Path, chain: Chain, fallback_line: int, what: str) -> AuditLogDamaged:
    """The damage the whole chain shows, where it can say more than the end alone."""
    problems = [p for p in verify_segment(log, chain) if not p.uncommitted]
    if problems:
        first = problems[0]
        return AuditLogDamaged(log, first.line, first.message)
    return AuditLogDamaged(log, fallback_line, what)


@dataclass(frozen=True)
class _Committed:
    seq: int
    digest: str
    size: int
    line: bytes = b""  # the last committed line, without its line end


def _committed(log: Path, handle: BinaryIO, chain: Chain) -> _Committed:
    """Where the committed log ends, checked against its head (see the module's docstring)."""
    length = os.fstat(handle.fileno()).st_size
    head = read_head(log)
    if head is None:
        if length:
            raise _damage(log, chain, 1, f"its head file {head_path(log).name} is missing")
        return _Committed(0, GENESIS, 0)
    if head.size is None:
        # A head from before heads recorded the length: read the whole log once.
        handle.seek(0)
        raw = handle.read()
        lines = raw.split(b"\n")
        if raw.endswith(b"\n") and len(lines) - 1 == head.seq:
            last = lines[-2] + b"\n" if head.seq else b""
            if not head.seq or chain.digest(head.seq, last[:-1]) == head.digest:
                return _Committed(head.seq, head.digest, length, last[:-1])
        raise _damage(log, chain, len(lines), "its last entry does not match its head")
    if head.seq == 0:
        if head.size != 0:
            raise _damage(log, chain, 1, "its head is inconsistent")
        return _Committed(0, GENESIS, 0)
    if length < head.size:
        raise _damage(
            log,
            chain,
            head.seq,
            "the log is shorter than its head records (entries cut from the end)",
        )
    last = _last_line(handle, head.size)
    seq, _ = parse_line(last.rstrip(b"\n"))
    if not last.endswith(b"\n") or seq != head.seq or chain.digest(seq, last[:-1]) != head.digest:
        raise _damage(
            log, chain, head.seq, f"entry {head.seq}, the last the head records, was changed"
        )
    return _Committed(head.seq, head.digest, head.size, last[:-1])


def refuse_unsafe_log(log: Log, segment: Path) -> None:
    """Refuse a log whose folder, segment or head another account could change
    (flows.stores.ownership): it could rewrite the log, or remove it."""
    for place in (segment, head_path(segment)):
        unsafe = writable_by_others(place)
        if unsafe is not None:
            raise AuditLogError(
                f"the audit log {log.path} cannot be trusted, and nothing is appended to it: "
                f"{unsafe}"
            )


def _key_for(log: Log, segment: Path, handle: BinaryIO) -> tuple[Chain, _Committed, bool]:
    """The chain of the segment appended to, where its committed part ends, and whether this
    append made the log's audit key (the first append that finds none makes it)."""
    key = load_audit_key(log)
    number = segment_number(log, segment.name)
    assert number is not None
    if key is None:
        if claims_keyed(log, segment):
            raise unusable(
                log,
                "is missing, and the log has keyed entries: none can be checked or chained "
                "to without it; restore the key file from the key store's backup (a new key "
                "would not verify the entries already written)",
            )
        committed = _committed(segment, handle, UNKEYED)
        key, made = make_audit_key(log, segment.name, committed.seq + 1)
    else:
        made = False
    keyed_number = segment_number(log, key.segment)
    if keyed_number is None or keyed_number > number:
        # an entry here would be unkeyed under a key that keys what follows it
        raise unusable(log, f"keys the log from {key.segment}, and {segment.name} comes before it")
    chain = chain_for(key, number, keyed_number)
    committed = _committed(segment, handle, chain)
    if keyed_number == number and key.seq > committed.seq + 1:
        raise AuditLogDamaged(
            segment,
            committed.seq,
            f"the audit key was made for entry {key.seq}, but the log ends at entry "
            f"{committed.seq} (keyed entries were cut)",
        )
    return chain, committed, made


def _append_to(log: Log, segment: Path, event: str, fields: dict[str, Any]) -> dict[str, Any]:
    try:
        segment.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    except OSError as error:
        raise AuditWriteFailed(segment, error) from None
    refuse_unsafe_log(log, segment)
    try:
        if not segment.exists() and not head_path(segment).exists():
            # A new log starts with a head of zero entries, so that a head missing later is
            # told apart from a first append that stopped before its head was written.
            _write_head(segment, 0, GENESIS, 0)
        handle = open(segment, "a+b")  # noqa: SIM115 (closed by the `with` below)
    except OSError as error:
        raise AuditWriteFailed(segment, error) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            chain, committed, made = _key_for(log, segment, handle)
            seq = committed.seq + 1
            uncommitted = os.fstat(handle.fileno()).st_size - committed.size
            prev = GENESIS if committed.seq == 0 else chain.digest(seq, committed.line)
            assert prev is not None  # the key is there: every digest can be computed
            entry = {
                "seq": seq,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "actor": login(),
                "event": event,
                **fields,
                "prev": prev,
            }
            if chain.keyed(seq):
                entry["chain"] = KEYED
                if not made and chain.keyed_from == seq and seq > 1:
                    entry["audit_key"] = (
                        f"made for this entry by an earlier append that did not commit (or "
                        f"the keyed entries after entry {committed.seq} were cut)"
                    )
            if uncommitted:
                entry["rolled_back"] = (
                    f"{uncommitted} bytes after entry {committed.seq} that an interrupted append "
                    "left uncommitted"
                )
            line = json.dumps(entry, sort_keys=True, default=str).encode()
            digest = chain.digest(seq, line)
            assert digest is not None
            try:
                if uncommitted:
                    handle.truncate(committed.size)
                handle.write(line + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                _write_head(segment, seq, digest, committed.size + len(line) + 1)
            except OSError as error:
                _roll_back(handle, committed.size)
                if made:  # no committed entry was keyed by it: the next append makes one
                    log.key_file.unlink(missing_ok=True)
                raise AuditWriteFailed(segment, error) from None
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def _roll_back(handle: BinaryIO, size: int) -> None:
    """Cut the log back to its last committed entry, after an append that failed half-way."""
    try:
        handle.truncate(size)
        os.fsync(handle.fileno())
    except OSError:
        # Truncating frees space and needs no new block, so this should not fail; if it does,
        # the bytes past the head's length are uncommitted and the next append rolls them back.
        pass


def append(log: Log, event: str, **fields: Any) -> dict[str, Any]:
    """Append one entry (who, when, what) to the log's current segment and return it; raises
    AuditLogDamaged if the log's end does not match its head, AuditKeyUnusable without a usable
    audit key, AuditWriteFailed if it cannot be written (then the log is as it was)."""
    if not isinstance(log, Log):
        raise AuditLogError(
            f"the audit log {log} was given without its key store: an entry is never written "
            "unkeyed (pass Paths.audit_log, an audit.Log)"
        )
    return _append_to(log, segments(log)[-1], event, fields)


def open_segment(log: Log, problems: list[Problem]) -> dict[str, Any]:
    """Go on in a fresh segment beside the damaged current one; its first entry names the damaged
    file, its sha256 (so that it stays as it was) and where it is damaged."""
    current = segments(log)[-1]
    following = segment_path(log.path, len(segments(log)) + 1)
    return _append_to(
        log,
        following,
        SEGMENT_OPENED,
        {
            "damaged": {
                "file": current.name,
                "sha256": file_digest(current),
                "problems": [str(p) for p in problems if p.file in (None, current)],
            }
        },
    )
