"""Whether two data folders hold the same releases, byte for byte: for a change that must not
change what rex releases (a refactoring), run `rex demo` before and after into two folders (with
the same synthetic store and key copied in) and compare them.

    .venv/bin/python benchmarks/same_releases.py BEFORE_DIR AFTER_DIR

Every file under releases/ and onprem/ is compared by its sha256; a manifest is compared without
its `audit_head.digest`, the one value that differs between two runs of the same release (it is
the digest of the audit log's head when the run was logged). Prints each difference and a total;
exit 0 when every file is the same, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

FOLDERS = ("releases", "onprem")


def fingerprints(data_dir: Path) -> dict[str, str]:
    """Per released file (relative to `data_dir`), the sha256 of what must not change."""
    found = {}
    for folder in FOLDERS:
        for path in sorted((data_dir / folder).rglob("*")):
            if not path.is_file():
                continue
            content = path.read_bytes()
            if path.name == "manifest.json":
                manifest = json.loads(content)
                manifest.get("audit_head", {}).pop("digest", None)
                content = json.dumps(manifest, sort_keys=True).encode()
            found[str(path.relative_to(data_dir))] = hashlib.sha256(content).hexdigest()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before, after = fingerprints(args.before), fingerprints(args.after)
    differ = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    for name in differ:
        where = "only before" if name not in after else "only after" if name not in before else ""
        print(f"DIFFERENT {name} {where}".rstrip())
    if not before:
        print(f"no release under {args.before}")
        return 1
    print(
        f"{'IDENTICAL' if not differ else 'DIFFERENT'}: {len(before)} files before, "
        f"{len(after)} after, {len(differ)} differ"
    )
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
