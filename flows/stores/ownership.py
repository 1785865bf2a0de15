"""Who may change what rex trusts: the roster, the key store and the audit log.

Each is trusted only while no other account could write it: an operator able to write the
roster could give himself a role, one able to write the key store could replace the audit key,
one able to write the audit log's folder could replace the log. A file or folder is refused
when its group or others may write it, or when it belongs to an account that is neither the
one rex runs as nor root (nor, for the roster, a data steward it names: the steward's account
keeps it); its folder is held to the same rule (whoever may write the folder may replace the
file).
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Collection
from pathlib import Path

# Write bits for the group and for others.
WRITABLE_BY_OTHERS = 0o022
ROOT_UID = 0


def _account(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def writable_by_others(
    path: Path, trusted: Collection[int] = (), any_owner: bool = False
) -> str | None:
    """Why another account than this process's could change `path` or the folder it is in
    (a group or other write bit, or an owner other than this account, root and the `trusted`
    uids; `any_owner`: the write bits alone); None if none can, or if it does not exist yet."""
    for place in (path, path.parent):
        try:
            found = place.stat()
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(found.st_mode)
        if mode & WRITABLE_BY_OTHERS:
            return (
                f"{place} is writable by others than its owner (mode {mode:o}): chmod go-w {place}"
            )
        if not any_owner and found.st_uid not in (os.geteuid(), ROOT_UID, *trusted):
            return (
                f"{place} belongs to {_account(found.st_uid)}, not to this account "
                f"({_account(os.geteuid())}) or root, so that account could change it: "
                f"chown it to the account rex runs as"
            )
    return None
