"""Writing a release: Parquet per panel, manifest and codebook, published in one step.

Everything is written into a hidden temporary folder beside the target; only a validated,
complete folder is renamed into place. A release that already exists is never overwritten: an
identical rerun reuses it, a different one is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from flows.release.files import altered_note, same_content
from specs.refusal import Refusal


class ReleaseExists(Refusal, RuntimeError):
    """A release with this name exists and differs from the one just built."""


def staging_folder(target: Path) -> Path:
    """A fresh temporary folder beside the target (same file system, so the rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))


def publish(staging: Path, target: Path, record: Callable[[str], object] | None = None) -> str:
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
