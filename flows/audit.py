"""The audit log: one JSON line per run, release and refusal, each chained to the one before.

Entries name the deliberation, recipient, purpose, mode and counts; never an identifier or a key.
Each entry carries the sha256 of the previous entry's line, so an edited, removed or reordered
entry breaks the chain (verify_chain).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import hashlib
import json
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def append(log: Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one entry (who, when, what) and return it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        lines = handle.read().splitlines()
        entry = {
            "seq": len(lines) + 1,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "actor": getpass.getuser(),
            "event": event,
            **fields,
            "prev": _digest(lines[-1]) if lines else GENESIS,
        }
        handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def read(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def verify_chain(log: Path) -> list[str]:
    """Problems found in the chain, by entry number; empty when the log is intact."""
    problems = []
    previous = GENESIS
    for number, line in enumerate(log.read_text(encoding="utf-8").splitlines(), start=1):
        entry = json.loads(line)
        if entry.get("prev") != previous or entry.get("seq") != number:
            problems.append(f"entry {number}: does not follow entry {number - 1}")
        previous = _digest(line)
    return problems
