"""The audit log: one JSON line per request, run, release, refusal and deletion, chained by hash.

Entries name the deliberation, recipient, purpose, mode, variables and counts, and a digest of
the set of pseudonyms released; never an identifier or a key. Each entry carries the sha256 of the
previous entry's line, so an edited, removed, inserted or reordered entry breaks the chain. The
chain alone cannot see the last entries cut off (nothing follows them), so every append also
rewrites a head file beside the log with the number and digest of the last entry; `verify` reads
both and says where the log was changed.

The log is kept for at least AUDIT_RETENTION_YEARS (13/021 point 34): retention never deletes it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.access import login

GENESIS = "0" * 64
AUDIT_RETENTION_YEARS = 10


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def _write_head(log: Path, seq: int, digest: str) -> None:
    head = head_path(log)
    staging = head.with_name(head.name + ".tmp")
    staging.write_text(json.dumps({"seq": seq, "digest": digest}) + "\n")
    os.replace(staging, head)


def append(log: Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one entry (who, when, what) and return it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            lines = handle.read().splitlines()
            entry = {
                "seq": len(lines) + 1,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "actor": login(),
                "event": event,
                **fields,
                "prev": _digest(lines[-1]) if lines else GENESIS,
            }
            line = json.dumps(entry, sort_keys=True, default=str)
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            _write_head(log, entry["seq"], _digest(line))
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def read(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@dataclass(frozen=True)
class Problem:
    """Where the log was changed: the line of the file and what is wrong there."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _parse(line: str) -> tuple[int | None, str | None]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return None, None
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
        return None, None
    return entry["seq"], entry.get("prev")


def verify(log: Path) -> list[Problem]:
    """Every place where the log is not the chain it was written as; empty when intact.

    Read pairwise: an entry must carry the number one above its predecessor's and the digest of
    its predecessor's line. A number that jumps ahead means entries were deleted; one that goes
    back means entries were inserted (a number seen before) or moved (a number not seen yet); a
    right number with a wrong digest means the predecessor was edited. The head file covers the
    end of the log.
    """
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    parsed = [_parse(line) for line in lines]
    numbers = [seq for seq, _ in parsed]
    if (
        None not in numbers
        and numbers != sorted(numbers)
        and sorted(numbers) == list(range(1, len(lines) + 1))
    ):
        # Every entry is there, in another order: say which stand elsewhere.
        return [
            Problem(line, f"entry {seq} stands here (reordered)")
            for line, seq in enumerate(numbers, start=1)
            if seq != line
        ] + _check_head(log, lines)
    problems: list[Problem] = []
    seen: set[int] = set()
    expected_seq, expected_prev = 1, GENESIS
    link_known_broken = False
    for number, (line, (seq, prev)) in enumerate(zip(lines, parsed, strict=True), start=1):
        if seq is None:
            problems.append(Problem(number, "not an audit entry (the line was edited)"))
            expected_seq, expected_prev = expected_seq + 1, _digest(line)
            link_known_broken = True
            continue
        if seq > expected_seq:
            missing = (
                f"entry {expected_seq} is"
                if seq == expected_seq + 1
                else f"entries {expected_seq}-{seq - 1} are"
            )
            problems.append(Problem(number, f"{missing} missing before this line (deleted)"))
        elif seq < expected_seq:
            what = (
                "appears a second time (one of the two was inserted)"
                if seq in seen
                else "is out of place"
            )
            problems.append(Problem(number, f"entry {seq} {what}"))
        elif prev != expected_prev and not link_known_broken:
            if number == 1:
                problems.append(Problem(1, "the first entry does not start the chain"))
            else:
                problems.append(
                    Problem(
                        number - 1, f"entry {seq - 1} was edited: entry {seq} no longer matches it"
                    )
                )
        link_known_broken = seq != expected_seq
        seen.add(seq)
        expected_seq, expected_prev = max(expected_seq, seq + 1), _digest(line)
    return problems + _check_head(log, lines)


def _check_head(log: Path, lines: list[str]) -> list[Problem]:
    head = head_path(log)
    if not head.exists():
        if lines:
            return [Problem(len(lines), "the head file is missing: the end cannot be verified")]
        return []
    recorded = json.loads(head.read_text())
    last = len(lines)
    last_seq = _parse(lines[-1])[0] if lines else 0
    if last_seq != recorded["seq"]:
        if last_seq is not None and last_seq < recorded["seq"]:
            message = (
                f"the log ends at entry {last_seq} but {recorded['seq']} were written "
                "(entries deleted from the end)"
            )
        else:
            message = f"the log ends at entry {last_seq} but the head records {recorded['seq']}"
        return [Problem(last, message)]
    if _digest(lines[-1]) != recorded["digest"]:
        return [Problem(last, f"entry {last_seq} (the last one) was edited")]
    return []


def verify_chain(log: Path) -> list[str]:
    """The problems of `verify`, as text."""
    return [str(problem) for problem in verify(log)]
