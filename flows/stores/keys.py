"""The key store: one secret key per project, in a folder outside the repo, owner-only.

A key is created only by an explicit command: a new key for a project that already released data
would break the continuity of its pseudonyms. Runs only read keys; a missing key stops the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path

from flows.runtime.outcome import outcome_logged
from flows.stores import audit
from flows.stores.audit_files import AuditLogError, Log
from flows.stores.ownership import writable_by_others
from specs.refusal import Refusal, RunFailed

KEY_BYTES = 32
_FINGERPRINT_DOMAIN = b"rex key fingerprint\x00"


class KeyStoreError(Refusal, RuntimeError):
    """The key store cannot give the key asked for; the message says why and what to do."""


def _key_path(store: Path, project: str) -> Path:
    return store / f"{project}.key"


def _shred_record(store: Path, project: str) -> Path:
    return store / f"{project}.shredded"


def _refuse_if_shredded(store: Path, project: str) -> None:
    record = _shred_record(store, project)
    if record.exists():
        shredded = json.loads(record.read_text())
        raise KeyStoreError(
            f"the key of project {project!r} was shredded on {shredded['on']} because all of "
            "its data was past its deadline; its pseudonyms can never be recomputed, and no "
            "run of the project is possible any more"
        )


def fingerprint(key: bytes) -> str:
    """A public fingerprint of a key: tells keys apart without revealing them."""
    return hashlib.sha256(_FINGERPRINT_DOMAIN + key).hexdigest()[:16]


def create_key(store: Path, project: str) -> str:
    """Create the project's key; refuse if it exists. Returns its fingerprint.

    All or nothing: the key is written and synced under a temporary name, then linked to its
    own name (a hard link fails if that name exists, so two creations cannot both win), so a
    full disk or a kill leaves either the whole key or no key file at all.
    """
    _refuse_if_shredded(store, project)
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(store, 0o700)
    path = _key_path(store, project)
    refuse_unsafe(path)
    if path.exists():
        raise _key_exists(store, project)
    key = secrets.token_bytes(KEY_BYTES)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{project}.", suffix=".tmp", dir=store)
    try:
        with os.fdopen(descriptor, "w") as handle:  # mkstemp makes it owner-only (0600)
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        raise _key_exists(store, project) from None
    finally:
        os.unlink(temporary)
    return fingerprint(key)


def refuse_unsafe(path: Path) -> None:
    """Refuse a key file, or a key store, that another account could change
    (flows.stores.ownership): whoever may write the store may replace a key with one he knows."""
    unsafe = writable_by_others(path)
    if unsafe is not None:
        raise KeyStoreError(f"the key store {path.parent} cannot be trusted: {unsafe}")


def _key_exists(store: Path, project: str) -> KeyStoreError:
    return KeyStoreError(
        f"project {project!r} already has a key in {store}; a new key would make its "
        "pseudonyms unlinkable to those already released, so it is not replaced"
    )


def discard_new_key(store: Path, project: str, key_print: str) -> None:
    """Undo a creation whose audit entry could not be written: the key was never used (no run
    could read it before its creation is logged), so removing it loses nothing."""
    path = _key_path(store, project)
    if path.exists() and fingerprint(load_key(store, project)) == key_print:
        path.unlink()


class KeyNotWritten(RunFailed):
    """A key file that could not be written (a full disk): none was left behind."""


def create_logged_key(store: Path, log: Log, project: str) -> str:
    """A project's new key, its creation logged; a refusal or a failure is logged instead
    (flows.runtime.outcome). A key whose creation cannot be logged is not kept: one in use is
    always logged, so removing it loses nothing."""

    def failed(kind: str, said: str | None) -> KeyNotWritten:
        return KeyNotWritten(f"the key of {project} cannot be written in {store} ({said or kind})")

    with outcome_logged(log, {"action": "key_create", "project": project}, failed):
        key_print = create_key(store, project)
    try:
        audit.append(log, "key_created", project=project, key_fingerprint=key_print)
    except AuditLogError as error:
        discard_new_key(store, project, key_print)
        raise KeyStoreError(f"{error}; the key of {project} was not created") from None
    return key_print


def has_key(store: Path, project: str) -> bool:
    return _key_path(store, project).exists()


def load_key(store: Path, project: str) -> bytes:
    """The project's key; refuses a missing, malformed or too widely readable key file."""
    path = _key_path(store, project)
    _refuse_if_shredded(store, project)
    if not path.exists():
        raise KeyStoreError(
            f"no key for project {project!r} in the key store {store}; a run never creates "
            f"one: create it with `rex keys create {project}`"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyStoreError(
            f"the key file of project {project!r} is readable by others (mode {mode:o}); "
            "it must be owner-only (600)"
        )
    refuse_unsafe(path)
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyStoreError(
            f"the key file of project {project!r} is malformed: expected {KEY_BYTES * 2} hex digits"
        )
    return key


def projects_with_keys(store: Path) -> list[str]:
    return sorted(p.stem for p in store.glob("*.key")) if store.exists() else []


def shred_key(store: Path, project: str, on: str) -> str:
    """Overwrite the project's key with random bytes, remove it, and record that it is gone.

    Returns the fingerprint of the shredded key. The record keeps later runs from asking for a
    new key: a new key would not bring the old pseudonyms back.
    """
    path = _key_path(store, project)
    record = _shred_record(store, project)
    if record.exists():  # an earlier shredding stopped before the key file was gone
        key_print = json.loads(record.read_text())["fingerprint"]
    else:
        key_print = fingerprint(load_key(store, project))
        record.write_text(json.dumps({"on": on, "fingerprint": key_print}) + "\n")
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.write(secrets.token_bytes(size))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    if path.exists():
        raise KeyStoreError(f"the key of project {project!r} could not be removed")
    return key_print
