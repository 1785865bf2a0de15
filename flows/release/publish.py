"""Writing a release: Parquet per panel, manifest and codebook, published in one step.

Everything is written into a hidden temporary folder beside the target; only a validated,
complete folder is renamed into place. A release that already exists is never overwritten: an
identical rerun reuses it, a different one is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
# The manifest's statement of the audit log's head at publication (flows.stores.audit.witness).
WITNESS = "audit_head"


class ReleaseExists(RuntimeError):
    """A release with this name exists and differs from the one just built."""


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


def staging_folder(target: Path) -> Path:
    """A fresh temporary folder beside the target (same file system, so the rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))


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


def publish(staging: Path, target: Path, record: Callable[[str], None] | None = None) -> str:
    """Move a complete staging folder into place; 'published' or 'unchanged' (identical rerun).

    `record(status)` is called once the outcome is known and before the release can be seen:
    a release is in the audit log before anyone can read it (invariant 8), and a run whose
    record fails publishes nothing. The rename can still fail after the record; the caller then
    logs that the release it recorded was not published.
    """
    if target.exists():
        identical = same_content(staging, target)
        shutil.rmtree(staging)
        if identical:
            if record is not None:
                record("unchanged")
            return "unchanged"
        from flows.release.verify import (
            altered_note,  # verify reads releases with this module's hash
        )

        altered = altered_note(target)
        if altered is not None:
            raise ReleaseExists(
                f"release {target} was {altered}; it is left as it is for the data steward to "
                "look into (`rex verify` checks every release)"
            )
        raise ReleaseExists(
            f"release {target} already exists with other content; a published release is never "
            "overwritten (remove it first, or run with another as-of date)"
        )
    try:
        os.chmod(staging, 0o750)
        if record is not None:
            record("published")
        staging.rename(target)
    except BaseException:
        discard(staging)
        raise
    return "published"


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
