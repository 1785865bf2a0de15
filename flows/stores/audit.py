"""The audit log: one JSON line per request, run, release, refusal and deletion, chained by a key.

Entries name the deliberation, recipient, purpose, mode, variables and counts, and a digest of
the set of pseudonyms released; never an identifier or a key. Each entry carries the digest of
the previous entry's line, so an edited, removed, inserted or reordered entry breaks the chain. The
chain alone cannot see the last entries cut off (nothing follows them), so a head file beside the
log records the number and digest of the last entry and the length of the log in bytes; `verify`
reads both and says where the log was changed.

The digest is an HMAC-SHA256 under the log's audit key, kept in the key store (not beside the
log): whoever can write the log but not the key store cannot rebuild a chain that verifies. The
key file (`audit-<16 hex>.auditkey`, not a `.key`: retention shreds project keys, never this
one) is made, all or nothing, by the first append that finds none, and records where the keyed
chain starts (`keyed_from`: a segment and an entry). Entries before it, written before logs were
keyed, are linked by plain sha256; from it on every link and every later segment is keyed, so a
keyed stretch rewritten as plain sha256 (a downgrade) is found. The first keyed entry carries the
HMAC of the last unkeyed line, which pins the unkeyed part under the key as well. `witness` gives
the log's head for a manifest to carry, and `holds` checks later that the log still has it: a
copy of the head outside the log, which cutting or rebuilding the log cannot change.

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
import hmac
import json
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from flows.stores.ownership import writable_by_others
from flows.stores.roster import login

GENESIS = "0" * 64
AUDIT_RETENTION_YEARS = 10
# The first entry of a segment opened because the one before it is damaged.
SEGMENT_OPENED = "log_damaged"
# How far back the last line is looked for at once; entries are a few kilobytes at most.
TAIL_WINDOW = 64 * 1024
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


def _digest(line: bytes | str) -> str:
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


# --- the audit key and the chain it keys ---------------------------------------------------------


@dataclass(frozen=True)
class AuditKey:
    """A log's audit key, and the first entry it keys: entry `seq` of segment `segment` (a file
    name), and every entry after it."""

    secret: bytes
    segment: str
    seq: int


def _unusable(log: Log, what: str) -> AuditKeyUnusable:
    return AuditKeyUnusable(f"the audit key {log.key_file} of the audit log {log.path} {what}")


def load_audit_key(log: Log) -> AuditKey | None:
    """The log's audit key, None if it has none; AuditKeyUnusable for a key file that is
    malformed, readable by others, or that another account could replace
    (flows.stores.ownership)."""
    path = log.key_file
    unsafe = writable_by_others(path)
    if unsafe is not None:
        raise _unusable(log, f"cannot be trusted: {unsafe}")
    try:
        found = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _unusable(log, f"cannot be read ({reason_of(error)})") from None
    mode = stat.S_IMODE(found.st_mode)
    if mode & 0o077:
        raise _unusable(log, f"is readable by others (mode {mode:o}): chmod 600 {path}")
    try:
        recorded = json.loads(raw)
        secret = bytes.fromhex(recorded["key"])
        segment, seq = recorded["keyed_from"]["segment"], recorded["keyed_from"]["seq"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _unusable(log, "is malformed (no key and keyed_from)") from None
    if len(secret) != AUDIT_KEY_BYTES or not isinstance(segment, str) or not isinstance(seq, int):
        raise _unusable(log, "is malformed (no key and keyed_from)")
    return AuditKey(secret, segment, seq)


def _make_audit_key(log: Log, segment: str, seq: int) -> tuple[AuditKey, bool]:
    """The log's audit key, made now to key entry `seq` of `segment` on, unless another append
    made one first; and whether this call made it.

    All or nothing, as `flows.stores.keys.create_key`: written and synced under a temporary name,
    then linked to its own name (a link fails where the name exists, so two appends cannot both make
    one), so a full disk or a kill leaves the whole key file or none.
    """
    store = log.key_store
    try:
        store.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise _unusable(log, f"cannot be made ({reason_of(error)})") from None
    unsafe = writable_by_others(log.key_file)
    if unsafe is not None:
        raise _unusable(
            log, f"cannot be made in a key store another account could change: {unsafe}"
        )
    secret = secrets.token_bytes(AUDIT_KEY_BYTES)
    document = {
        "key": secret.hex(),
        "keyed_from": {"segment": segment, "seq": seq},
        "log": str(log.path.resolve()),
    }
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".audit-", suffix=".tmp", dir=store)
    except OSError as error:
        raise _unusable(log, f"cannot be made ({reason_of(error)})") from None
    try:
        with os.fdopen(descriptor, "w") as handle:  # mkstemp makes it owner-only (0600)
            handle.write(json.dumps(document, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, log.key_file)
    except FileExistsError:
        made = load_audit_key(log)
        assert made is not None
        return made, False
    except OSError as error:
        raise _unusable(log, f"cannot be made ({reason_of(error)})") from None
    finally:
        os.unlink(temporary)
    return AuditKey(secret, segment, seq), True


@dataclass(frozen=True)
class _Chain:
    """How one segment's entries are linked: by sha256 before entry `keyed_from`, by HMAC under
    `secret` from it on (`keyed_from` None: nothing keyed; `secret` None: the key is missing,
    and a keyed digest cannot be computed)."""

    keyed_from: int | None = None
    secret: bytes | None = None

    def keyed(self, seq: int) -> bool:
        return self.keyed_from is not None and seq >= self.keyed_from

    def digest(self, seq: int, line: bytes) -> str | None:
        """The digest of `line` that entry `seq` carries (of its predecessor's line) or that the
        head carries (of entry `seq`'s own); None where the key to compute it is missing."""
        if not self.keyed(seq):
            return _digest(line)
        if self.secret is None:
            return None
        return hmac.new(self.secret, line, hashlib.sha256).hexdigest()


UNKEYED = _Chain()


def _number_of(log: Log, name: str) -> int | None:
    """The number of the segment `name` (the one after the last included), None if none."""
    for number in range(1, len(segments(log)) + 2):
        if segment_path(log.path, number).name == name:
            return number
    return None


def _chain_for(key: AuditKey | None, number: int, keyed_number: int | None) -> _Chain:
    """The chain of segment `number`, for a key that keys segment `keyed_number` on."""
    if key is None or keyed_number is None or number < keyed_number:
        return UNKEYED
    return _Chain(key.seq if number == keyed_number else 1, key.secret)


def _claims_keyed(log: Log, up_to: Path) -> bool:
    """Whether the last entry written before `up_to`'s end (in it or an earlier segment) says
    it is keyed: then the log has keyed entries, and a missing key is no fresh start."""
    found = segments(log)
    before = found[: found.index(up_to) + 1] if up_to in found else found
    for segment in reversed(before):
        raw = segment.read_bytes() if segment.exists() else b""
        lines, _ = _lines(raw)
        for line in reversed(lines):
            entry = _entry(line)
            if entry is not None:
                return entry.get("chain") == KEYED
    return False


# --- appending ------------------------------------------------------------------------------------


def _damage(log: Path, chain: _Chain, fallback_line: int, what: str) -> AuditLogDamaged:
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


def _committed(log: Path, handle: BinaryIO, chain: _Chain) -> _Committed:
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
    seq, _ = _parse(last.rstrip(b"\n"))
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


def _key_for(log: Log, segment: Path, handle: BinaryIO) -> tuple[_Chain, _Committed, bool]:
    """The chain of the segment appended to, where its committed part ends, and whether this
    append made the log's audit key (the first append that finds none makes it)."""
    key = load_audit_key(log)
    number = _number_of(log, segment.name)
    assert number is not None
    if key is None:
        if _claims_keyed(log, segment):
            raise _unusable(
                log,
                "is missing, and the log has keyed entries: none can be checked or chained "
                "to without it; restore the key file from the key store's backup (a new key "
                "would not verify the entries already written)",
            )
        committed = _committed(segment, handle, UNKEYED)
        key, made = _make_audit_key(log, segment.name, committed.seq + 1)
    else:
        made = False
    keyed_number = _number_of(log, key.segment)
    if keyed_number is None or keyed_number > number:
        # an entry here would be unkeyed under a key that keys what follows it
        raise _unusable(log, f"keys the log from {key.segment}, and {segment.name} comes before it")
    chain = _chain_for(key, number, keyed_number)
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
                "sha256": _file_digest(current),
                "problems": [str(p) for p in problems if p.file in (None, current)],
            }
        },
    )


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()


# --- reading and verifying ------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Keying:
    """How the log is keyed: each segment's chain, and the problems of its audit key."""

    chains: list[_Chain]
    problems: list[Problem]
    key: AuditKey | None = None


def _keying(log: Log | Path) -> _Keying:
    """Each segment's chain. A log given as a bare path (no key store) is read as far as its
    heads say, its keyed digests unknown; a missing key where entries say they are keyed is a
    problem at the first of them, and the digests from there on are unknown."""
    found = segments(log)
    if not isinstance(log, Log):
        return _Keying([_Chain(1, None)] * len(found), [])
    try:
        key = load_audit_key(log)
    except AuditKeyUnusable as unusable:
        problem = Problem(0, str(unusable), log.key_file)
        return _Keying([_Chain(1, None)] * len(found), [problem])
    if key is not None:
        keyed_number = _number_of(log, key.segment)
        if keyed_number is None:
            problem = Problem(
                0,
                f"the audit key {log.key_file} keys the log from {key.segment}, which is no "
                "segment of this log",
                log.key_file,
            )
            return _Keying([_Chain(1, None)] * len(found), [problem], key)
        chains = [_chain_for(key, n, keyed_number) for n in range(1, len(found) + 1)]
        return _Keying(chains, [], key)
    for number, segment in enumerate(found, start=1):
        for line_number, line in enumerate(_committed_lines(segment, UNKEYED), start=1):
            entry = _entry(line)
            if entry is not None and entry.get("chain") == KEYED:
                problem = Problem(
                    line_number,
                    f"entry {entry['seq']} is keyed ({KEYED}) but the audit key {log.key_file} "
                    "is missing: it and every entry after it cannot be checked (restore the "
                    "key file from the key store's backup)",
                    segment,
                )
                chains = [UNKEYED] * (number - 1) + [_Chain(entry["seq"], None)]
                chains += [_Chain(1, None)] * (len(found) - number)
                return _Keying(chains, [problem])
    return _Keying([UNKEYED] * len(found), [])


def _committed_lines(segment: Path, chain: _Chain) -> list[bytes]:
    try:
        head = read_head(segment)
    except AuditLogDamaged:
        head = None
    return _lines(_committed_bytes(segment, head, chain)[0])[0]


def scan(log: Log) -> Scan:
    """Every entry that can be read, from every segment, and every problem `verify` finds; never
    raises for a damaged line (retention and the review go on, and report the damage)."""
    entries: list[dict[str, Any]] = []
    keying = _keying(log)
    for segment, chain in zip(segments(log), keying.chains, strict=True):
        for line in _committed_lines(segment, chain):
            entry = _entry(line)
            if entry is not None:
                entries.append(entry)
    return Scan(entries, verify(log), segments(log)[-1])


def read(log: Log | Path) -> list[dict[str, Any]]:
    """Every entry of every segment; AuditLogDamaged, naming the file and line, for a line that
    is no entry."""
    entries: list[dict[str, Any]] = []
    keying = _keying(log)
    for segment, chain in zip(segments(log), keying.chains, strict=True):
        lines, torn = _lines(_committed_bytes(segment, read_head(segment), chain)[0])
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


def verify(log: Log) -> list[Problem]:
    """Every place where the log (every segment of it) is not the chain it was written as, and
    every problem of its audit key."""
    found = segments(log)
    keying = _keying(log)
    problems = list(keying.problems)
    for number, (segment, chain) in enumerate(zip(found, keying.chains, strict=True), start=1):
        problems += verify_segment(segment, chain)
        if number > 1:
            problems += _check_opening(segment, found[number - 2])
    if keying.key is not None:
        problems += _check_keyed_from(log, keying.key, keying.chains)
    return problems


def _last_seq(segment: Path, chain: _Chain) -> int:
    numbers = [_parse(line)[0] for line in _committed_lines(segment, chain)]
    return max((n for n in numbers if n is not None), default=0)


def _check_keyed_from(log: Log, key: AuditKey, chains: list[_Chain]) -> list[Problem]:
    """The entry the audit key was made for must be in the log: a log that ends before it had
    its keyed entries cut, or the append that made the key never committed (the only case
    where it is the very next entry, which the next append writes)."""
    found = segments(log)
    number = _number_of(log, key.segment)
    assert number is not None  # `_keying` reports a key for no segment
    if number <= len(found):
        segment = found[number - 1]
        last = _last_seq(segment, chains[number - 1])
        if key.seq <= last + 1 and (key.seq <= last or number < len(found)):
            return []
        next_entry = number == len(found) and key.seq == last + 1
    else:
        segment, last = found[-1], _last_seq(found[-1], chains[-1])
        next_entry = number == len(found) + 1 and key.seq == 1
    where = f"entry {key.seq} of {key.segment}"
    if next_entry:
        message = (
            f"the audit key was made for {where}, which is not written yet: the append that "
            "made it did not commit (the next append writes it), or every keyed entry was cut "
            "(`rex audit verify --against` a release manifest tells which)"
        )
    else:
        message = (
            f"the audit key was made for {where}, but the log ends before it (keyed entries "
            "were cut)"
        )
    return [Problem(last, message, segment, uncommitted=next_entry)]


def notes(log: Log) -> list[str]:
    """What `verify` cannot vouch for although it is no damage: the entries written before the
    log was keyed (a plain sha256 chain, which anyone who can write the log could rebuild)."""
    keying = _keying(log)
    said = []
    for segment, chain in zip(segments(log), keying.chains, strict=True):
        last = _last_seq(segment, chain)
        unkeyed = last if chain.keyed_from is None else min(last, chain.keyed_from - 1)
        if unkeyed < 1 or (chain.keyed_from is not None and chain.secret is None):
            continue
        pinned = (
            f"; entry {unkeyed + 1}, the first keyed one, pins them under the key"
            if last > unkeyed
            else "; no keyed entry follows them yet"
        )
        said.append(
            f"entries 1-{unkeyed} of {segment.name} are unkeyed (written before the log had an "
            f"audit key): a plain hash chain, which anyone who can write the log could rebuild"
            f"{pinned}"
        )
    return said


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


def _committed_bytes(log: Path, head: Head | None, chain: _Chain) -> tuple[bytes, int]:
    """The segment up to the end its head records, and how many bytes follow that were never
    committed; the whole segment (and 0) when its committed part does not match the head (then
    the log was changed, and is read whole). A keyed digest that cannot be computed (no key) is
    taken as matching: what the head records is all there is to go by."""
    raw = log.read_bytes() if log.exists() else b""
    if head is None or head.size is None or len(raw) <= head.size:
        return raw, 0
    if head.seq == head.size == 0:
        return raw[: head.size], len(raw) - head.size
    if raw[head.size - 1 : head.size] == b"\n":
        digest = chain.digest(head.seq, raw[: head.size - 1].rsplit(b"\n", 1)[-1])
        if digest in (None, head.digest):
            return raw[: head.size], len(raw) - head.size
    return raw, 0


def verify_segment(log: Path, chain: _Chain) -> list[Problem]:
    """Every place where one segment is not the chain it was written as; empty when intact.

    Read pairwise: an entry must carry the number one above its predecessor's and the digest of
    its predecessor's line (an HMAC under the audit key from the chain's keyed entry on). A
    number that jumps ahead means entries were deleted; one that goes back means entries were
    inserted (a number seen before) or moved (a number not seen yet); a right number with a
    wrong digest means the predecessor was edited, or, where the digest is the plain sha256 a
    keyed entry must not carry, that the chain was rebuilt without the key. The head file covers
    the end of the log; bytes past the length it records are an append that never committed.
    """
    try:
        head = read_head(log)
    except AuditLogDamaged as damaged:
        lines, _ = _lines(log.read_bytes() if log.exists() else b"")
        return [Problem(len(lines), damaged.what.removeprefix("its "), log)]
    raw, uncommitted = _committed_bytes(log, head, chain)
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
    numbers = [seq for seq, _ in parsed if seq is not None]
    if (
        len(numbers) == len(parsed)
        and numbers != sorted(numbers)
        and sorted(numbers) == list(range(1, len(lines) + 1))
    ):
        # Every entry is there, in another order: say which stand elsewhere.
        return [
            Problem(line, f"entry {seq} stands here (reordered)", log)
            for line, seq in enumerate(numbers, start=1)
            if seq != line
        ] + _check_head(log, head, lines, torn, chain)
    problems: list[Problem] = []
    seen: set[int] = set()
    expected_seq, previous = 1, b""
    link_known_broken = False
    for number, (line, (seq, prev)) in enumerate(zip(lines, parsed, strict=True), start=1):
        if seq is None:
            what = (
                "the last line is torn: an entry was not written whole"
                if torn and number == len(lines)
                else "not an audit entry (the line was edited)"
            )
            problems.append(Problem(number, what, log))
            expected_seq, previous = expected_seq + 1, line
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
        elif not link_known_broken:
            expected = GENESIS if number == 1 else chain.digest(seq, previous)
            if expected is not None and prev != expected:
                problems.append(_broken_link(log, number, seq, prev, previous, chain))
        link_known_broken = seq != expected_seq
        seen.add(seq)
        expected_seq, previous = max(expected_seq, seq + 1), line
    return problems + _check_head(log, head, lines, torn, chain) + tail


def _broken_link(
    log: Path, number: int, seq: int, prev: str | None, previous: bytes, chain: _Chain
) -> Problem:
    if number == 1:
        return Problem(1, "the first entry does not start the chain", log)
    if chain.keyed(seq) and prev == _digest(previous):
        return Problem(
            number,
            f"entry {seq} is linked by a plain sha256 where the log is keyed from entry "
            f"{chain.keyed_from} on: the chain was rebuilt without the audit key (downgraded)",
            log,
        )
    return Problem(number - 1, f"entry {seq - 1} was edited: entry {seq} no longer matches it", log)


def _check_head(
    log: Path, head: Head | None, lines: list[bytes], torn: bool, chain: _Chain
) -> list[Problem]:
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
    if not lines or last_seq is None:
        return []
    expected = chain.digest(last_seq, lines[-1])
    if expected is not None and expected != head.digest:
        if chain.keyed(last_seq) and head.digest == _digest(lines[-1]):
            message = (
                f"the head records a plain sha256 of entry {last_seq} where the log is keyed: "
                "the chain was rebuilt without the audit key (downgraded)"
            )
        else:
            message = f"entry {last_seq} (the last one) was edited"
        return [Problem(last, message, log)]
    return []


def verify_chain(log: Log) -> list[str]:
    """The problems of `verify`, as text; a problem in a later segment (or of the audit key) is
    prefixed with its file's name."""
    return [str(p) if p.file in (None, log.path) else f"{p.file.name} {p}" for p in verify(log)]


# --- the witness: the log's head, carried by what is published ------------------------------------


def witness(log: Log) -> dict[str, Any]:
    """The log's head as a manifest states it at publication: the current segment's file name,
    the number of its last committed entry and that entry's digest (the HMAC the next entry will
    carry). `holds` checks later that the log still has that entry, unchanged."""
    current = segments(log)[-1]
    head = read_head(current) or Head(0, GENESIS, 0)
    return {"segment": current.name, "seq": head.seq, "digest": head.digest}


def holds(log: Log, recorded: Any) -> str | None:
    """Why the log no longer holds the head `recorded` (a `witness`), None if it does: the same
    segment, an entry of that number, and the digest it had then."""
    if not isinstance(recorded, dict) or not all(
        isinstance(recorded.get(name), kind)
        for name, kind in (("segment", str), ("seq", int), ("digest", str))
    ):
        return "it states no audit head (segment, seq, digest)"
    name, seq, digest = recorded["segment"], recorded["seq"], recorded["digest"]
    number = _number_of(log, name)
    found = segments(log)
    if number is None or number > len(found):
        return f"the log has no segment {name}"
    if seq == 0:
        return None if digest == GENESIS else f"{name} entry 0 with a digest is no head"
    chain = _keying(log).chains[number - 1]
    for line in _committed_lines(found[number - 1], chain):
        if _parse(line)[0] == seq:
            actual = chain.digest(seq, line)
            if actual is None:
                return f"entry {seq} of {name} cannot be checked: the audit key is missing"
            if actual != digest:
                return f"entry {seq} of {name} is not the one it stated (rewritten)"
            return None
    return f"the log has no entry {seq} in {name} (cut back before it)"
