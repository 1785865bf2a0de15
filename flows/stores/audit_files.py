"""The audit log's files: its segments, their heads, the entries as lines, and the errors a log
raises.

The log is one JSON line per request, run, release, refusal and deletion. Entries name the
deliberation, recipient, purpose, mode, variables and counts, and a digest of the set of
pseudonyms released; never an identifier or a key. A log is a chain of segments (`audit.jsonl`,
then `audit.2.jsonl`, `audit.3.jsonl`, ...), each with a head file beside it that records the
number and digest of its last entry and its length in bytes (flows.stores.audit writes them,
flows.stores.audit_read checks them).

The log is kept for at least AUDIT_RETENTION_YEARS (13/021 point 34): retention never deletes it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specs.refusal import Refusal

GENESIS = "0" * 64


AUDIT_RETENTION_YEARS = 10


# The first entry of a segment opened because the one before it is damaged.
SEGMENT_OPENED = "log_damaged"


# The `chain` field of a keyed entry (informative: verify goes by the key's `keyed_from`).
KEYED = "hmac-sha256"


AUDIT_KEY_BYTES = 32


AUDIT_KEY_SUFFIX = ".auditkey"


# The log's folder: rex's account alone writes it (and lists it: entries name runs and projects).
FOLDER_MODE = 0o750


REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "an input/output error",
}


class AuditLogError(Refusal, RuntimeError):
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


class AuditKeyUnusable(AuditLogError):
    """The log's audit key is missing where entries need it, unreadable, or could be replaced
    by another account: nothing is appended."""


@dataclass(frozen=True)
class Log:
    """An audit log: the path of its first segment, and the key store that holds its audit key."""

    path: Path
    key_store: Path

    def __str__(self) -> str:
        return str(self.path)

    @property
    def key_file(self) -> Path:
        """The log's audit key: named after the log's resolved path, so each log has its own."""
        name = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:16]
        return self.key_store / f"audit-{name}{AUDIT_KEY_SUFFIX}"

    def read_text(self) -> str:
        """The text of every segment, in order (what tests search for identifiers)."""
        return "".join(s.read_text() for s in segments(self) if s.exists())


def path_of(log: Log | Path) -> Path:
    """The first segment of a log."""
    return log.path if isinstance(log, Log) else log


def reason_of(error: OSError) -> str:
    """An OS error in words, without the file name or anything else it may quote."""
    return REASONS.get(error.errno or 0) or error.strerror or type(error).__name__


def line_digest(line: bytes | str) -> str:
    """The plain sha256 of a line, as an unkeyed chain links its entries."""
    return hashlib.sha256(line.encode() if isinstance(line, str) else line).hexdigest()


def head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def segments(log: Log | Path) -> list[Path]:
    """The log's segments in order: the log itself, then audit.2.jsonl, audit.3.jsonl, ..."""
    first = path_of(log)
    found = [first]
    while (following := segment_path(first, len(found) + 1)).exists():
        found.append(following)
    return found


def segment_path(log: Path, number: int) -> Path:
    return log if number == 1 else log.with_name(f"{log.stem}.{number}{log.suffix}")


def segment_number(log: Log, name: str) -> int | None:
    """The number of the segment `name` (the one after the last included), None if none."""
    for number in range(1, len(segments(log)) + 2):
        if segment_path(log.path, number).name == name:
            return number
    return None


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


def split_lines(raw: bytes) -> tuple[list[bytes], bool]:
    """The lines of a segment, and whether the last one is torn (no line end)."""
    if not raw:
        return [], False
    parts = raw.split(b"\n")
    if raw.endswith(b"\n"):
        return parts[:-1], False
    return parts, True


def entry_of(line: bytes) -> dict[str, Any] | None:
    """The entry a line holds, None if it is no JSON object with a number."""
    try:
        entry = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
        return None
    return entry


def parse_line(line: bytes) -> tuple[int | None, str | None]:
    """An entry's number and the digest it carries of its predecessor (None where unreadable)."""
    entry = entry_of(line)
    if entry is None:
        return None, None
    return entry["seq"], entry.get("prev")


def file_digest(path: Path) -> str:
    """The sha256 of a whole segment (of nothing if it is gone), as `log_damaged` records it."""
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()


@dataclass(frozen=True)
class Problem:
    """Where the log was changed: the line of the file and what is wrong there (line 0: the
    file as a whole)."""

    line: int
    message: str
    file: Path | None = field(default=None, compare=False)
    # bytes an interrupted append left past the head: not damage, the next append rolls them back
    uncommitted: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message
