"""A release's files as rex writes and reads them: their sha256, the JSON of its manifests, and
whether a folder still holds what its manifest lists.

Below both publishing (flows.release.publish, which refuses to replace an altered release) and
verifying (flows.release.verify, which checks every release), so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
# The manifest's statement of the audit log's head at publication (flows.stores.audit_read.witness).
WITNESS = "audit_head"


# An added file is named in messages and in the audit log unless its name holds a long number,
# which could be an identifier (an INSZ, an employer number) of whoever added it.
_NUMBER_IN_NAME = re.compile(r"[0-9]{9}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def json_text(document: Any) -> str:
    """A document as rex writes its JSON files (indented, keys sorted)."""
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def write_json(document: Any, path: Path) -> None:
    path.write_text(json_text(document))


def content_digest(path: Path) -> str:
    """sha256 of a release's file as reruns compare it: a manifest without the audit log's head
    it states (which says when it was published, not what), any other file as it is."""
    if path.name != MANIFEST:
        return sha256_file(path)
    document = json.loads(path.read_bytes())
    if isinstance(document, dict):
        document.pop(WITNESS, None)
    return hashlib.sha256(json_text(document).encode()).hexdigest()


def same_content(a: Path, b: Path) -> bool:
    """Whether two releases hold the same files with the same content (`content_digest`)."""
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir())
    return names_a == names_b and all(
        content_digest(a / n) == content_digest(b / n) for n in names_a
    )


def read_manifest(folder: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A folder's manifest, or None and why it cannot be used (missing, unreadable, no files)."""
    path = folder / MANIFEST
    if not path.is_file():
        return None, f"{MANIFEST} is missing"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        return None, f"{MANIFEST} cannot be read ({type(error).__name__})"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, f"{MANIFEST} is not valid JSON"
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        return None, f"{MANIFEST} lists no files"
    return document, None


def alterations(folder: Path) -> list[str]:
    """Every way the folder's files differ from its own manifest: a file edited, missing or
    added (empty when they match)."""
    manifest, problem = read_manifest(folder)
    if manifest is None:
        return [problem or f"{MANIFEST} cannot be read"]
    listed: dict[str, Any] = manifest["files"]
    present = {p.name for p in folder.iterdir()} - {MANIFEST}
    problems = []
    for name in sorted(listed):
        recorded = listed[name].get("sha256") if isinstance(listed[name], dict) else None
        if name not in present:
            problems.append(f"{name} is missing")
        elif not (folder / name).is_file() or readable_digest(folder / name) != recorded:
            problems.append(f"{name} was edited (its sha256 is not the manifest's)")
    problems += [
        f"{_shown(name)} was added (the manifest does not list it)"
        for name in sorted(present - set(listed))
    ]
    return problems


def readable_digest(path: Path) -> str | None:
    """sha256 of a file, None where it cannot be read."""
    # a file that cannot be read cannot be the one published: reported as edited, no traceback
    try:
        return sha256_file(path)
    except OSError:
        return None


def _shown(name: str) -> str:
    return "a file whose name holds a number" if _NUMBER_IN_NAME.search(name) else name


def altered_note(folder: Path) -> str | None:
    """A sentence for a log entry or a message when the folder no longer matches its manifest
    (tampering since it was published); None when it matches."""
    problems = alterations(folder)
    if not problems:
        return None
    return "altered since it was published (tampering): " + "; ".join(problems)
