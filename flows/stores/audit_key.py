"""The audit key and the chain it keys.

Each entry carries the digest of the previous entry's line, so an edited, removed, inserted or
reordered entry breaks the chain. The digest is an HMAC-SHA256 under the log's audit key, kept in
the key store (not beside the log): whoever can write the log but not the key store cannot
rebuild a chain that verifies. The key file (`audit-<16 hex>.auditkey`, not a `.key`: retention
shreds project keys, never this one) is made, all or nothing, by the first append that finds
none, and records where the keyed chain starts (`keyed_from`: a segment and an entry). Entries
before it, written before logs were keyed, are linked by plain sha256; from it on every link and
every later segment is keyed, so a keyed stretch rewritten as plain sha256 (a downgrade) is
found. The first keyed entry carries the HMAC of the last unkeyed line, which pins the unkeyed
part under the key as well.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flows.stores.audit_files import (
    AUDIT_KEY_BYTES,
    KEYED,
    AuditKeyUnusable,
    Log,
    entry_of,
    line_digest,
    reason_of,
    segments,
    split_lines,
)
from flows.stores.ownership import writable_by_others


@dataclass(frozen=True)
class AuditKey:
    """A log's audit key, and the first entry it keys: entry `seq` of segment `segment` (a file
    name), and every entry after it."""

    secret: bytes
    segment: str
    seq: int


def unusable(log: Log, what: str) -> AuditKeyUnusable:
    return AuditKeyUnusable(f"the audit key {log.key_file} of the audit log {log.path} {what}")


def load_audit_key(log: Log) -> AuditKey | None:
    """The log's audit key, None if it has none; AuditKeyUnusable for a key file that is
    malformed, readable by others, or that another account could replace
    (flows.stores.ownership)."""
    path = log.key_file
    unsafe = writable_by_others(path)
    if unsafe is not None:
        raise unusable(log, f"cannot be trusted: {unsafe}")
    try:
        found = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise unusable(log, f"cannot be read ({reason_of(error)})") from None
    mode = stat.S_IMODE(found.st_mode)
    if mode & 0o077:
        raise unusable(log, f"is readable by others (mode {mode:o}): chmod 600 {path}")
    try:
        recorded = json.loads(raw)
        secret = bytes.fromhex(recorded["key"])
        segment, seq = recorded["keyed_from"]["segment"], recorded["keyed_from"]["seq"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise unusable(log, "is malformed (no key and keyed_from)") from None
    if len(secret) != AUDIT_KEY_BYTES or not isinstance(segment, str) or not isinstance(seq, int):
        raise unusable(log, "is malformed (no key and keyed_from)")
    return AuditKey(secret, segment, seq)


def make_audit_key(log: Log, segment: str, seq: int) -> tuple[AuditKey, bool]:
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
        raise unusable(log, f"cannot be made ({reason_of(error)})") from None
    unsafe = writable_by_others(log.key_file)
    if unsafe is not None:
        raise unusable(log, f"cannot be made in a key store another account could change: {unsafe}")
    secret = secrets.token_bytes(AUDIT_KEY_BYTES)
    document = {
        "key": secret.hex(),
        "keyed_from": {"segment": segment, "seq": seq},
        "log": str(log.path.resolve()),
    }
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".audit-", suffix=".tmp", dir=store)
    except OSError as error:
        raise unusable(log, f"cannot be made ({reason_of(error)})") from None
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
        raise unusable(log, f"cannot be made ({reason_of(error)})") from None
    finally:
        os.unlink(temporary)
    return AuditKey(secret, segment, seq), True


@dataclass(frozen=True)
class Chain:
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
            return line_digest(line)
        if self.secret is None:
            return None
        return hmac.new(self.secret, line, hashlib.sha256).hexdigest()


UNKEYED = Chain()


def chain_for(key: AuditKey | None, number: int, keyed_number: int | None) -> Chain:
    """The chain of segment `number`, for a key that keys segment `keyed_number` on."""
    if key is None or keyed_number is None or number < keyed_number:
        return UNKEYED
    return Chain(key.seq if number == keyed_number else 1, key.secret)


def claims_keyed(log: Log, up_to: Path) -> bool:
    """Whether the last entry written before `up_to`'s end (in it or an earlier segment) says
    it is keyed: then the log has keyed entries, and a missing key is no fresh start."""
    found = segments(log)
    before = found[: found.index(up_to) + 1] if up_to in found else found
    for segment in reversed(before):
        raw = segment.read_bytes() if segment.exists() else b""
        lines, _ = split_lines(raw)
        for line in reversed(lines):
            entry = entry_of(line)
            if entry is not None:
                return entry.get("chain") == KEYED
    return False
