"""The audit log: one JSON line per request, run, release, refusal and deletion, chained by hash.

Entries name the deliberation, recipient, purpose, mode, variables and counts, and a digest of
the set of pseudonyms released; never an identifier or a key. Each entry carries the sha256 of the
previous entry's line, so an edited, removed, inserted or reordered entry breaks the chain. The
chain alone cannot see the last entries cut off (nothing follows them), so a head file beside the
log records the number and digest of the last entry and the length of the log in bytes; `verify`
reads both and says where the log was changed.

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

The log is kept for at least AUDIT_RETENTION_YEARS (13/021 point 34): retention never deletes it.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from flows.access import login

GENESIS = "0" * 64
AUDIT_RETENTION_YEARS = 10
# The first entry of a segment opened because the one before it is damaged.
SEGMENT_OPENED = "log_damaged"
# How far back the last line is looked for at once; entries are a few kilobytes at most.
TAIL_WINDOW = 64 * 1024

REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "an input/output error",
}


class AuditLogError(RuntimeError):
    """The audit log cannot take an entry; the message says which file and why."""


class AuditLogDamaged(AuditLogError):
    """The log does not verify at its end (or cannot be read): nothing is appended to it."""

    def __init__(self, file: Path, line: int, what: str):
        self.file, self.line, self.what = file, line, what
        super().__init__(
            f"the audit log {file} is damaged at line {line}: {what}; nothing is appended to a "
            "damaged log (`rex audit verify` lists the damage, `rex audit new-segment` records "
            "it and goes on in a fresh segment)"
        )


class AuditWriteFailed(AuditLogError):
    """An append could not be completed; the log was rolled back to its last committed entry."""

    def __init__(self, file: Path, error: OSError):
        reason = REASONS.get(error.errno or 0) or error.strerror or type(error).__name__
        super().__init__(
            f"the audit log {file} could not be written ({reason}): the entry was rolled back, "
            "the log is as it was, and the run stops"
        )


def reason_of(error: OSError) -> str:
    """An OS error in words, without the file name or anything else it may quote."""
    return REASONS.get(error.errno or 0) or error.strerror or type(error).__name__


def _digest(line: bytes | str) -> str:
    return hashlib.sha256(line.encode() if isinstance(line, str) else line).hexdigest()


def head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def segments(log: Path) -> list[Path]:
    """The log's segments in order: the log itself, then audit.2.jsonl, audit.3.jsonl, ..."""
    found = [log]
    while (following := segment_path(log, len(found) + 1)).exists():
        found.append(following)
    return found


def segment_path(log: Path, number: int) -> Path:
    return log if number == 1 else log.with_name(f"{log.stem}.{number}{log.suffix}")


@dataclass(frozen=True)
class Head:
    seq: int
    digest: str
    size: int | None  # None: a head written before heads recorded the length


def read_head(log: Path) -> Head | None:
    """The head of a log segment, None if there is none; AuditLogDamaged if it is unreadable."""
    head = head_path(log)
    if not head.exists():
        return None
    try:
        recorded = json.loads(head.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AuditLogDamaged(log, 0, f"its head file {head.name} is not JSON") from None
    if not isinstance(recorded, dict):
        raise AuditLogDamaged(log, 0, f"its head file {head.name} holds no head record")
    seq, digest, size = recorded.get("seq"), recorded.get("digest"), recorded.get("size")
    for name, value, kind in (("seq", seq, int), ("digest", digest, str)):
        if not isinstance(value, kind):
            raise AuditLogDamaged(log, 0, f"its head file {head.name} has no valid {name!r}")
    if size is not None and not isinstance(size, int):
        raise AuditLogDamaged(log, 0, f"its head file {head.name} has no valid 'size'")
    assert isinstance(seq, int) and isinstance(digest, str)
    return Head(seq, digest, size)


def _write_head(log: Path, seq: int, digest: str, size: int) -> None:
    line = json.dumps({"seq": seq, "digest": digest, "size": size}) + "\n"
    write_atomically(head_path(log), line.encode("utf-8"))


def staging_path(target: Path) -> Path:
    """Where `write_atomically` writes `target` before renaming it into place."""
    return target.with_name(f".{target.name}.tmp")


def write_atomically(target: Path, data: bytes) -> None:
    """`data` in `target`, all or nothing: written beside it, synced, renamed over it."""
    staging = staging_path(target)
    try:
        with open(staging, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    # The rename is the commit; syncing the folder only makes it durable sooner. Some file
    # systems refuse to sync a folder: the file is in place all the same, so that is no failure.
    try:
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass


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


def _damage(log: Path, fallback_line: int, what: str) -> AuditLogDamaged:
    """The damage the whole chain shows, where it can say more than the end alone."""
    problems = [p for p in verify_segment(log) if not p.uncommitted]
    if problems:
        first = problems[0]
        return AuditLogDamaged(log, first.line, first.message)
    return AuditLogDamaged(log, fallback_line, what)


@dataclass(frozen=True)
class _Committed:
    seq: int
    digest: str
    size: int


def _committed(log: Path, handle: BinaryIO) -> _Committed:
    """Where the committed log ends, checked against its head (see the module's docstring)."""
    length = os.fstat(handle.fileno()).st_size
    head = read_head(log)
    if head is None:
        if length:
            raise _damage(log, 1, f"its head file {head_path(log).name} is missing")
        return _Committed(0, GENESIS, 0)
    if head.size is None:
        # A head from before heads recorded the length: read the whole log once.
        handle.seek(0)
        raw = handle.read()
        lines = raw.split(b"\n")
        if raw.endswith(b"\n") and len(lines) - 1 == head.seq:
            last = lines[-2] + b"\n" if head.seq else b""
            if not head.seq or (_digest(last[:-1]) == head.digest):
                return _Committed(head.seq, head.digest, length)
        raise _damage(log, len(lines), "its last entry does not match its head")
    if head.seq == 0:
        if head.size != 0:
            raise _damage(log, 1, "its head is inconsistent")
        return _Committed(0, GENESIS, 0)
    if length < head.size:
        raise _damage(
            log, head.seq, "the log is shorter than its head records (entries cut from the end)"
        )
    last = _last_line(handle, head.size)
    seq, _ = _parse(last.rstrip(b"\n"))
    if not last.endswith(b"\n") or seq != head.seq or _digest(last[:-1]) != head.digest:
        raise _damage(log, head.seq, f"entry {head.seq}, the last the head records, was changed")
    return _Committed(head.seq, head.digest, head.size)


def _append_to(log: Path, event: str, fields: dict[str, Any]) -> dict[str, Any]:
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        if not log.exists() and not head_path(log).exists():
            # A new log starts with a head of zero entries, so that a head missing later is
            # told apart from a first append that stopped before its head was written.
            _write_head(log, 0, GENESIS, 0)
        handle = open(log, "a+b")  # noqa: SIM115 (closed by the `with` below)
    except OSError as error:
        raise AuditWriteFailed(log, error) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            committed = _committed(log, handle)
            uncommitted = os.fstat(handle.fileno()).st_size - committed.size
            entry = {
                "seq": committed.seq + 1,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "actor": login(),
                "event": event,
                **fields,
                "prev": committed.digest,
            }
            if uncommitted:
                entry["rolled_back"] = (
                    f"{uncommitted} bytes after entry {committed.seq} that an interrupted append "
                    "left uncommitted"
                )
            line = json.dumps(entry, sort_keys=True, default=str).encode()
            try:
                if uncommitted:
                    handle.truncate(committed.size)
                handle.write(line + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                _write_head(log, entry["seq"], _digest(line), committed.size + len(line) + 1)
            except OSError as error:
                _roll_back(handle, committed.size)
                raise AuditWriteFailed(log, error) from None
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


def append(log: Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one entry (who, when, what) to the log's current segment and return it; raises
    AuditLogDamaged if the log's end does not match its head, AuditWriteFailed if it cannot be
    written (then the log is as it was)."""
    return _append_to(segments(log)[-1], event, fields)


def open_segment(log: Path, problems: list[Problem]) -> dict[str, Any]:
    """Go on in a fresh segment beside the damaged current one; its first entry names the damaged
    file, its sha256 (so that it stays as it was) and where it is damaged."""
    current = segments(log)[-1]
    following = segment_path(log, len(segments(log)) + 1)
    return _append_to(
        following,
        SEGMENT_OPENED,
        {
            "damaged": {
                "file": current.name,
                "sha256": _file_digest(current),
                "problems": [str(p) for p in problems if p.file in (None, current)],
            }
        },
    )


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()


@dataclass(frozen=True)
class Problem:
    """Where the log was changed: the line of the file and what is wrong there."""

    line: int
    message: str
    file: Path | None = field(default=None, compare=False)
    # bytes an interrupted append left past the head: not damage, the next append rolls them back
    uncommitted: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Scan:
    """What could be read of the log, and every problem of every segment."""

    entries: list[dict[str, Any]]
    problems: list[Problem]
    current: Path  # the segment appends go to

    @property
    def current_is_damaged(self) -> bool:
        return any(p.file == self.current and not p.uncommitted for p in self.problems)


def _lines(raw: bytes) -> tuple[list[bytes], bool]:
    """The lines of a segment, and whether the last one is torn (no line end)."""
    if not raw:
        return [], False
    parts = raw.split(b"\n")
    if raw.endswith(b"\n"):
        return parts[:-1], False
    return parts, True


def scan(log: Path) -> Scan:
    """Every entry that can be read, from every segment, and every problem `verify` finds; never
    raises for a damaged line (retention and the review go on, and report the damage)."""
    entries: list[dict[str, Any]] = []
    for segment in segments(log):
        try:
            head = read_head(segment)
        except AuditLogDamaged:
            head = None
        lines, _ = _lines(_committed_bytes(segment, head)[0])
        for line in lines:
            entry = _entry(line)
            if entry is not None:
                entries.append(entry)
    return Scan(entries, verify(log), segments(log)[-1])


def read(log: Path) -> list[dict[str, Any]]:
    """Every entry of every segment; AuditLogDamaged, naming the file and line, for a line that
    is no entry."""
    entries: list[dict[str, Any]] = []
    for segment in segments(log):
        lines, torn = _lines(_committed_bytes(segment, read_head(segment))[0])
        for number, line in enumerate(lines, start=1):
            entry = _entry(line)
            if entry is None:
                what = "the last line is torn" if torn and number == len(lines) else ""
                raise AuditLogDamaged(segment, number, what or "the line is not an audit entry")
            entries.append(entry)
    return entries


def _entry(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
        return None
    return entry


def _parse(line: bytes) -> tuple[int | None, str | None]:
    entry = _entry(line)
    if entry is None:
        return None, None
    return entry["seq"], entry.get("prev")


def verify(log: Path) -> list[Problem]:
    """Every place where the log (every segment of it) is not the chain it was written as."""
    found = segments(log)
    problems = []
    for number, segment in enumerate(found, start=1):
        problems += verify_segment(segment)
        if number > 1:
            problems += _check_opening(segment, found[number - 2])
    return problems


def _check_opening(segment: Path, damaged: Path) -> list[Problem]:
    """A segment after the first must open by naming the damaged one as it still is."""
    lines, _ = _lines(segment.read_bytes())
    first = _entry(lines[0]) if lines else None
    recorded = (first or {}).get("damaged") or {}
    if not first or first.get("event") != SEGMENT_OPENED or recorded.get("file") != damaged.name:
        return [Problem(1, f"this segment does not open by naming {damaged.name}", segment)]
    if recorded.get("sha256") != _file_digest(damaged):
        return [
            Problem(
                1, f"{damaged.name} was changed after this segment recorded its damage", segment
            )
        ]
    return []


def _committed_bytes(log: Path, head: Head | None) -> tuple[bytes, int]:
    """The segment up to the end its head records, and how many bytes follow that were never
    committed; the whole segment (and 0) when its committed part does not match the head (then
    the log was changed, and is read whole)."""
    raw = log.read_bytes() if log.exists() else b""
    if head is None or head.size is None or len(raw) <= head.size:
        return raw, 0
    if head.seq == head.size == 0 or (
        raw[head.size - 1 : head.size] == b"\n"
        and _digest(raw[: head.size - 1].rsplit(b"\n", 1)[-1]) == head.digest
    ):
        return raw[: head.size], len(raw) - head.size
    return raw, 0


def verify_segment(log: Path) -> list[Problem]:
    """Every place where one segment is not the chain it was written as; empty when intact.

    Read pairwise: an entry must carry the number one above its predecessor's and the digest of
    its predecessor's line. A number that jumps ahead means entries were deleted; one that goes
    back means entries were inserted (a number seen before) or moved (a number not seen yet); a
    right number with a wrong digest means the predecessor was edited. The head file covers the
    end of the log; bytes past the length it records are an append that never committed.
    """
    try:
        head = read_head(log)
    except AuditLogDamaged as damaged:
        lines, _ = _lines(log.read_bytes() if log.exists() else b"")
        return [Problem(len(lines), damaged.what.removeprefix("its "), log)]
    raw, uncommitted = _committed_bytes(log, head)
    tail = []
    if uncommitted:
        tail = [
            Problem(
                raw.count(b"\n") + 1,
                f"{uncommitted} bytes after entry {head.seq if head else 0} were never committed "
                "(an append was interrupted; the next append rolls them back)",
                log,
                uncommitted=True,
            )
        ]
    lines, torn = _lines(raw)
    parsed = [_parse(line) for line in lines]
    numbers = [seq for seq, _ in parsed]
    if (
        None not in numbers
        and numbers != sorted(numbers)
        and sorted(numbers) == list(range(1, len(lines) + 1))
    ):
        # Every entry is there, in another order: say which stand elsewhere.
        return [
            Problem(line, f"entry {seq} stands here (reordered)", log)
            for line, seq in enumerate(numbers, start=1)
            if seq != line
        ] + _check_head(log, head, lines, torn)
    problems: list[Problem] = []
    seen: set[int] = set()
    expected_seq, expected_prev = 1, GENESIS
    link_known_broken = False
    for number, (line, (seq, prev)) in enumerate(zip(lines, parsed, strict=True), start=1):
        if seq is None:
            what = (
                "the last line is torn: an entry was not written whole"
                if torn and number == len(lines)
                else "not an audit entry (the line was edited)"
            )
            problems.append(Problem(number, what, log))
            expected_seq, expected_prev = expected_seq + 1, _digest(line)
            link_known_broken = True
            continue
        if seq > expected_seq:
            missing = (
                f"entry {expected_seq} is"
                if seq == expected_seq + 1
                else f"entries {expected_seq}-{seq - 1} are"
            )
            problems.append(Problem(number, f"{missing} missing before this line (deleted)", log))
        elif seq < expected_seq:
            what = (
                "appears a second time (one of the two was inserted)"
                if seq in seen
                else "is out of place"
            )
            problems.append(Problem(number, f"entry {seq} {what}", log))
        elif prev != expected_prev and not link_known_broken:
            if number == 1:
                problems.append(Problem(1, "the first entry does not start the chain", log))
            else:
                problems.append(
                    Problem(
                        number - 1,
                        f"entry {seq - 1} was edited: entry {seq} no longer matches it",
                        log,
                    )
                )
        link_known_broken = seq != expected_seq
        seen.add(seq)
        expected_seq, expected_prev = max(expected_seq, seq + 1), _digest(line)
    return problems + _check_head(log, head, lines, torn) + tail


def _check_head(log: Path, head: Head | None, lines: list[bytes], torn: bool) -> list[Problem]:
    last = len(lines)
    if head is None:
        if lines:
            what = f"the head file {head_path(log).name} is missing: the end cannot be verified"
            return [Problem(last, what, log)]
        return []
    if torn:
        return []  # the torn line is reported already, and the head cannot match it
    last_seq = _parse(lines[-1])[0] if lines else 0
    if last_seq != head.seq:
        if last_seq is None:
            message = f"the last line is no entry, and the head records entry {head.seq}"
        elif last_seq < head.seq:
            message = (
                f"the log ends at entry {last_seq} but {head.seq} were written "
                "(entries deleted from the end)"
            )
        else:
            message = f"the log ends at entry {last_seq} but the head records {head.seq}"
        return [Problem(last, message, log)]
    if lines and _digest(lines[-1]) != head.digest:
        return [Problem(last, f"entry {last_seq} (the last one) was edited", log)]
    return []


def verify_chain(log: Path) -> list[str]:
    """The problems of `verify`, as text; a problem in a later segment is prefixed with its
    file's name."""
    return [str(p) if p.file in (None, log) else f"{p.file.name} {p}" for p in verify(log)]
