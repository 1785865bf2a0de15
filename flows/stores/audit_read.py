"""Reading and verifying the audit log, and the witness a manifest carries of it.

The chain alone cannot see the last entries cut off (nothing follows them), so `verify` reads
each segment's chain and its head together and says where the log was changed: an edited,
removed, inserted or reordered entry, a torn line, a cut end, a downgraded key, a damaged
segment's opening entry. `read` gives the committed entries, as far as each head says.

`witness` gives the log's head for a manifest to carry, and `holds` checks later that the log
still has it: a copy of the head outside the log, which cutting or rebuilding the log cannot
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.stores.audit_files import (
    GENESIS,
    KEYED,
    SEGMENT_OPENED,
    AuditKeyUnusable,
    AuditLogDamaged,
    Head,
    Log,
    Problem,
    entry_of,
    file_digest,
    head_path,
    line_digest,
    parse_line,
    read_head,
    segment_number,
    segments,
    split_lines,
)
from flows.stores.audit_key import (
    UNKEYED,
    AuditKey,
    Chain,
    chain_for,
    load_audit_key,
)


@dataclass(frozen=True)
class Scan:
    """What could be read of the log, and every problem of every segment."""

    entries: list[dict[str, Any]]
    problems: list[Problem]
    current: Path  # the segment appends go to

    @property
    def current_is_damaged(self) -> bool:
        return any(p.file == self.current and not p.uncommitted for p in self.problems)


@dataclass(frozen=True)
class Keying:
    """How the log is keyed: each segment's chain, and the problems of its audit key."""

    chains: list[Chain]
    problems: list[Problem]
    key: AuditKey | None = None


def keying_of(log: Log | Path) -> Keying:
    """Each segment's chain. A log given as a bare path (no key store) is read as far as its
    heads say, its keyed digests unknown; a missing key where entries say they are keyed is a
    problem at the first of them, and the digests from there on are unknown."""
    found = segments(log)
    if not isinstance(log, Log):
        return Keying([Chain(1, None)] * len(found), [])
    try:
        key = load_audit_key(log)
    except AuditKeyUnusable as unusable:
        problem = Problem(0, str(unusable), log.key_file)
        return Keying([Chain(1, None)] * len(found), [problem])
    if key is not None:
        keyed_number = segment_number(log, key.segment)
        if keyed_number is None:
            problem = Problem(
                0,
                f"the audit key {log.key_file} keys the log from {key.segment}, which is no "
                "segment of this log",
                log.key_file,
            )
            return Keying([Chain(1, None)] * len(found), [problem], key)
        chains = [chain_for(key, n, keyed_number) for n in range(1, len(found) + 1)]
        return Keying(chains, [], key)
    for number, segment in enumerate(found, start=1):
        for line_number, line in enumerate(committed_lines(segment, UNKEYED), start=1):
            entry = entry_of(line)
            if entry is not None and entry.get("chain") == KEYED:
                problem = Problem(
                    line_number,
                    f"entry {entry['seq']} is keyed ({KEYED}) but the audit key {log.key_file} "
                    "is missing: it and every entry after it cannot be checked (restore the "
                    "key file from the key store's backup)",
                    segment,
                )
                chains = [UNKEYED] * (number - 1) + [Chain(entry["seq"], None)]
                chains += [Chain(1, None)] * (len(found) - number)
                return Keying(chains, [problem])
    return Keying([UNKEYED] * len(found), [])


def committed_lines(segment: Path, chain: Chain) -> list[bytes]:
    try:
        head = read_head(segment)
    except AuditLogDamaged:
        head = None
    return split_lines(committed_bytes(segment, head, chain)[0])[0]


def scan(log: Log) -> Scan:
    """Every entry that can be read, from every segment, and every problem `verify` finds; never
    raises for a damaged line (retention and the review go on, and report the damage)."""
    entries: list[dict[str, Any]] = []
    keying = keying_of(log)
    for segment, chain in zip(segments(log), keying.chains, strict=True):
        for line in committed_lines(segment, chain):
            entry = entry_of(line)
            if entry is not None:
                entries.append(entry)
    return Scan(entries, verify(log), segments(log)[-1])


def read(log: Log | Path) -> list[dict[str, Any]]:
    """Every entry of every segment; AuditLogDamaged, naming the file and line, for a line that
    is no entry."""
    entries: list[dict[str, Any]] = []
    keying = keying_of(log)
    for segment, chain in zip(segments(log), keying.chains, strict=True):
        lines, torn = split_lines(committed_bytes(segment, read_head(segment), chain)[0])
        for number, line in enumerate(lines, start=1):
            entry = entry_of(line)
            if entry is None:
                what = "the last line is torn" if torn and number == len(lines) else ""
                raise AuditLogDamaged(segment, number, what or "the line is not an audit entry")
            entries.append(entry)
    return entries


def verify(log: Log) -> list[Problem]:
    """Every place where the log (every segment of it) is not the chain it was written as, and
    every problem of its audit key."""
    found = segments(log)
    keying = keying_of(log)
    problems = list(keying.problems)
    for number, (segment, chain) in enumerate(zip(found, keying.chains, strict=True), start=1):
        problems += verify_segment(segment, chain)
        if number > 1:
            problems += _check_opening(segment, found[number - 2])
    if keying.key is not None:
        problems += _check_keyed_from(log, keying.key, keying.chains)
    return problems


def _last_seq(segment: Path, chain: Chain) -> int:
    numbers = [parse_line(line)[0] for line in committed_lines(segment, chain)]
    return max((n for n in numbers if n is not None), default=0)


def _check_keyed_from(log: Log, key: AuditKey, chains: list[Chain]) -> list[Problem]:
    """The entry the audit key was made for must be in the log: a log that ends before it had
    its keyed entries cut, or the append that made the key never committed (the only case
    where it is the very next entry, which the next append writes)."""
    found = segments(log)
    number = segment_number(log, key.segment)
    assert number is not None  # `keying_of` reports a key for no segment
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
    keying = keying_of(log)
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
    lines, _ = split_lines(segment.read_bytes())
    first = entry_of(lines[0]) if lines else None
    recorded = (first or {}).get("damaged") or {}
    if not first or first.get("event") != SEGMENT_OPENED or recorded.get("file") != damaged.name:
        return [Problem(1, f"this segment does not open by naming {damaged.name}", segment)]
    if recorded.get("sha256") != file_digest(damaged):
        return [
            Problem(
                1, f"{damaged.name} was changed after this segment recorded its damage", segment
            )
        ]
    return []


def committed_bytes(log: Path, head: Head | None, chain: Chain) -> tuple[bytes, int]:
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


def verify_segment(log: Path, chain: Chain) -> list[Problem]:
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
        lines, _ = split_lines(log.read_bytes() if log.exists() else b"")
        return [Problem(len(lines), damaged.what.removeprefix("its "), log)]
    raw, uncommitted = committed_bytes(log, head, chain)
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
    lines, torn = split_lines(raw)
    parsed = [parse_line(line) for line in lines]
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
    log: Path, number: int, seq: int, prev: str | None, previous: bytes, chain: Chain
) -> Problem:
    if number == 1:
        return Problem(1, "the first entry does not start the chain", log)
    if chain.keyed(seq) and prev == line_digest(previous):
        return Problem(
            number,
            f"entry {seq} is linked by a plain sha256 where the log is keyed from entry "
            f"{chain.keyed_from} on: the chain was rebuilt without the audit key (downgraded)",
            log,
        )
    return Problem(number - 1, f"entry {seq - 1} was edited: entry {seq} no longer matches it", log)


def _check_head(
    log: Path, head: Head | None, lines: list[bytes], torn: bool, chain: Chain
) -> list[Problem]:
    last = len(lines)
    if head is None:
        if lines:
            what = f"the head file {head_path(log).name} is missing: the end cannot be verified"
            return [Problem(last, what, log)]
        return []
    if torn:
        return []  # the torn line is reported already, and the head cannot match it
    last_seq = parse_line(lines[-1])[0] if lines else 0
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
        if chain.keyed(last_seq) and head.digest == line_digest(lines[-1]):
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
    number = segment_number(log, name)
    found = segments(log)
    if number is None or number > len(found):
        return f"the log has no segment {name}"
    if seq == 0:
        return None if digest == GENESIS else f"{name} entry 0 with a digest is no head"
    chain = keying_of(log).chains[number - 1]
    for line in committed_lines(found[number - 1], chain):
        if parse_line(line)[0] == seq:
            actual = chain.digest(seq, line)
            if actual is None:
                return f"entry {seq} of {name} cannot be checked: the audit key is missing"
            if actual != digest:
                return f"entry {seq} of {name} is not the one it stated (rewritten)"
            return None
    return f"the log has no entry {seq} in {name} (cut back before it)"
