"""Consultations of named persons, each tied to its case (16/046 points 4, 9 and 15-17).

A run of an identified mode (a control delivery) is a consultation: it must carry the reference
of the case that justifies it (a contact dossier, a benefit or control file), logged before the
consultation, and the log must tell, for one person on request, who consulted that person's
data, when, under which spec, for which purpose and for which case.

The hash chain of the audit log is kept ten years and cannot lose a line, while the case
reference and the persons consulted may be kept only as long as needed (16/046 point 17). So the
chain does not hold them: they are written in a detail record beside the log (one JSON file per
request and per consultation, under `audit/consultations/`) and the chained entry holds the
record's sha256. Retention deletes a record when its spec's `consultation_log.keep_months` have
passed since the run, and logs that; the chain still verifies, a record edited or removed by
anyone else is found (`rex audit verify`), and one deleted by retention is said to be so.

A person is recorded as a keyed digest (HMAC-SHA256 under the consultation key, held in the key
store like the project keys), never as an INSZ and never as an unkeyed hash: an INSZ has eleven
digits, two of them check digits and six a birth date, so an unkeyed hash gives it back by
trying them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.stores import audit_files
from flows.stores.keys import load_key
from specs.refusal import Refusal, RunFailed
from transforms.pseudonymise import keyed_digest

# The key of the persons' digests: one for the whole log (not per project), so that one person's
# consultations under every deliberation are found with one digest.
CONSULTATION_KEY = "consultation-log"
PERSON_DOMAIN = "consulted person"
DETAILS_FOLDER = "consultations"
TOMBSTONE = ".deleting-"
CASE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/:-]{0,79}")
# A case reference that holds a long number could hold an INSZ or an employer number.
LONG_NUMBER = re.compile(r"[0-9]{9}")
# The entry fields that point to a detail record: the case of a request, and the persons of a
# consultation made.
CASE_FIELD = "case"
CONSULTATION_FIELD = "consultation"
DELETED_EVENT = "consultation_deleted"


class CaseError(Refusal, RuntimeError):
    """A consultation without a usable case reference; the message never quotes the value."""


def case_problem(reference: str | None) -> str | None:
    """Why `reference` cannot be the case reference of a consultation; None when it can."""
    if reference is None or not reference.strip():
        return (
            "a consultation of named persons must carry the reference of the case that justifies "
            "it (16/046 point 9): give the case reference (`--case`)"
        )
    if not CASE_REFERENCE.fullmatch(reference):
        return (
            "the case reference must be 1 to 80 letters, digits, spaces and . _ / : -, starting "
            "with a letter or digit"
        )
    if LONG_NUMBER.search(reference):
        return (
            "the case reference holds a number of nine digits or more, which could be a person's "
            "or an employer's number: give the case's own reference"
        )
    return None


def consultation_key(key_store: Path) -> bytes:
    """The key of the persons' digests; KeyStoreError (with the command that creates it) if
    there is none."""
    return load_key(key_store, CONSULTATION_KEY)


def person_digests(insz: pl.Series, key: bytes) -> pl.Series:
    """The keyed digest of each distinct INSZ, sorted."""
    frame = pl.DataFrame({"insz": insz.drop_nulls().unique()})
    return frame.select(digest=keyed_digest(pl.col("insz"), key, PERSON_DOMAIN)).to_series().sort()


class Detail(BaseModel):
    """One detail record: the case of a request, or the persons of a consultation too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["case", "consultation"] = Field(description="a request's case, or a consultation")
    run: str = Field(description="the run id the entries of the log carry")
    at: dt.datetime = Field(description="when it was written (UTC)")
    actor: str = Field(description="the login that made the request")
    spec: str = Field(description="the spec file")
    mode: str = Field(description="the mode of the run")
    as_of: dt.date = Field(description="the day the run's rules were evaluated at")
    case_reference: str = Field(min_length=1, description="the case that justifies it")
    deliberation: str | None = Field(default=None, description="the spec's deliberation")
    purpose: str | None = Field(default=None, description="the spec's purpose")
    persons: tuple[str, ...] = Field(default=(), description="keyed digests of the persons")

    @property
    def name(self) -> str:
        return f"{self.run}.{self.kind}.json"


def details_folder(audit_log: audit_files.Log | Path) -> Path:
    return audit_files.path_of(audit_log).parent / DETAILS_FOLDER


def write_detail(audit_log: audit_files.Log | Path, detail: Detail) -> dict[str, Any]:
    """Write the record (all or nothing: a temporary file, synced, renamed) and return what the
    log's entry chains: its name and sha256."""
    folder = details_folder(audit_log)
    folder.parent.mkdir(parents=True, exist_ok=True, mode=audit_files.FOLDER_MODE)
    folder.mkdir(exist_ok=True, mode=audit_files.FOLDER_MODE)
    data = (detail.model_dump_json(indent=None) + "\n").encode()
    audit_files.write_atomically(folder / detail.name, data)
    recorded: dict[str, Any] = {"detail": detail.name, "sha256": hashlib.sha256(data).hexdigest()}
    if detail.kind == "consultation":
        recorded["persons"] = len(detail.persons)
    return recorded


def discard_detail(audit_log: audit_files.Log | Path, recorded: dict[str, Any]) -> None:
    """Remove a record whose entry could not be logged (nothing refers to it)."""
    (details_folder(audit_log) / recorded["detail"]).unlink(missing_ok=True)


def read_detail(audit_log: audit_files.Log | Path, name: str) -> Detail | None:
    """The record, None if it is gone or is not one."""
    path = details_folder(audit_log) / name
    try:
        return Detail.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True)
class DetailState:
    """What became of the detail record an entry chains."""

    entry: int  # seq of the entry that chains it
    name: str
    state: Literal["present", "deleted", "deleting", "edited", "missing"]
    deletion: int | None = None  # seq of the retention entry that deleted it

    @property
    def problem(self) -> str | None:
        if self.state == "edited":
            return (
                f"entry {self.entry}: its detail record {self.name} was edited (its sha256 is not "
                "the one the log chained)"
            )
        if self.state == "missing":
            return (
                f"entry {self.entry}: its detail record {self.name} is missing and no deletion of "
                "it is logged (removed outside retention)"
            )
        return None

    @property
    def note(self) -> str | None:
        if self.state == "deleted":
            return (
                f"entry {self.entry}: its detail record {self.name} was deleted by retention "
                f"(entry {self.deletion})"
            )
        if self.state == "deleting":
            return (
                f"entry {self.entry}: its detail record {self.name} is being deleted by retention"
            )
        return None


def chained_details(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The detail records an entry chains (its case, and the persons of a consultation)."""
    return [
        entry[f]
        for f in (CASE_FIELD, CONSULTATION_FIELD)
        if isinstance(entry.get(f), dict) and isinstance(entry[f].get("detail"), str)
    ]


def detail_states(
    entries: list[dict[str, Any]], audit_log: audit_files.Log | Path
) -> list[DetailState]:
    """Per entry and detail record it chains: present as chained, deleted by retention (and by
    which entry), being deleted, edited, or missing without a logged deletion."""
    folder = details_folder(audit_log)
    deleted = {
        e.get("detail"): e["seq"]
        for e in entries
        if e.get("event") == DELETED_EVENT and isinstance(e.get("seq"), int)
    }
    states = []
    for entry in entries:
        for recorded in chained_details(entry):
            name = recorded["detail"]
            path = folder / name
            if path.exists():
                same = _digest(path) == recorded.get("sha256")
                state: Any = "present" if same else "edited"
                states.append(DetailState(entry["seq"], name, state))
            elif name in deleted:
                states.append(DetailState(entry["seq"], name, "deleted", deleted[name]))
            elif (folder / f"{TOMBSTONE}{name}").exists():
                states.append(DetailState(entry["seq"], name, "deleting"))
            else:
                states.append(DetailState(entry["seq"], name, "missing"))
    return states


@dataclass(frozen=True)
class Consultation:
    """One consultation of a person, as `rex audit person` lists it: never the data."""

    seq: int
    event: str
    at: str
    actor: str
    deliberation: str
    spec: str
    mode: str
    as_of: str
    purpose: str
    case_reference: str


def consultations_of(
    audit_log: audit_files.Log | Path, entries: list[dict[str, Any]], insz: str, key: bytes
) -> list[Consultation]:
    """The logged consultations of the person `insz` whose records are still kept, oldest first."""
    digest = person_digests(pl.Series([insz]), key).item()
    folder = details_folder(audit_log)
    files = sorted(str(p) for p in folder.glob("*.consultation.json"))
    if not files:
        return []
    con = duckdb.connect()
    try:
        found = con.execute(
            # a record that is not JSON any more is skipped here: `rex audit verify` reports it
            "select parse_filename(filename) as name, case_reference from read_json($files, "
            "filename = true, format = 'newline_delimited', ignore_errors = true, "
            "columns = {'persons': 'varchar[]', 'case_reference': 'varchar'}) "
            "where list_contains(persons, $digest)",
            {"files": files, "digest": digest},
        ).fetchall()
    finally:
        con.close()
    cases = dict(found)
    consultations = []
    for entry in entries:
        recorded = entry.get(CONSULTATION_FIELD)
        if not isinstance(recorded, dict) or recorded.get("detail") not in cases:
            continue
        # a record is the entry's only if its digest is the one the entry chained
        if _digest(folder / recorded["detail"]) != recorded.get("sha256"):
            continue
        consultations.append(
            Consultation(
                seq=entry["seq"],
                event=str(entry.get("event")),
                at=str(entry.get("at")),
                actor=str(entry.get("actor")),
                deliberation=str(entry.get("deliberation")),
                spec=str(entry.get("spec")),
                mode=str(entry.get("mode")),
                as_of=str(entry.get("as_of")),
                purpose=str(entry.get("purpose")),
                case_reference=cases[recorded["detail"]],
            )
        )
    return consultations


@dataclass(frozen=True)
class HeldDetail:
    """A detail record on disk, with what its deadline is computed from: the run's as-of day,
    from which every term of the run counts (as its data's own deadline does)."""

    name: str
    spec: str
    mode: str
    made_on: dt.date


def held_details(audit_log: audit_files.Log | Path) -> list[HeldDetail]:
    """Every detail record on disk (a record that is not one is kept, and `rex audit verify`
    names it)."""
    folder = details_folder(audit_log)
    held = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else ():
        if path.name.startswith("."):
            continue
        try:
            recorded = json.loads(path.read_bytes())
            held.append(
                HeldDetail(
                    path.name,
                    str(recorded["spec"]),
                    str(recorded["mode"]),
                    dt.date.fromisoformat(recorded["as_of"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return held


def detail_tombstones(audit_log: audit_files.Log | Path) -> list[Path]:
    """Deletions of detail records an earlier retention run began and did not finish."""
    folder = details_folder(audit_log)
    return sorted(folder.glob(f"{TOMBSTONE}*")) if folder.exists() else []


def delete_detail(
    audit_log: audit_files.Log | Path, name: str, record: Callable[[], object]
) -> None:
    """Delete a record through a tombstone: renamed, emptied and synced, then `record()` logs
    it, then the empty tombstone goes. A deletion the log cannot take leaves the empty
    tombstone, which the next run logs and removes (`finish_deletion`): the content goes on
    time, and no deletion goes unlogged."""
    folder = details_folder(audit_log)
    tombstone = folder / f"{TOMBSTONE}{name}"
    os.replace(folder / name, tombstone)
    finish_deletion(tombstone, record)


def finish_deletion(tombstone: Path, record: Callable[[], object]) -> None:
    """Empty a record's tombstone (a run stopped before that may have left its content), log
    the deletion, remove the tombstone."""
    with open(tombstone, "r+b") as handle:
        handle.truncate(0)
        handle.flush()
        os.fsync(handle.fileno())
    record()
    tombstone.unlink()


class LookupFailed(RunFailed):
    """A look-up that stopped on an unforeseen error; its details are withheld."""


def look_up_person(
    log: audit_files.Log, roster: Path, key_store: Path, asked: str
) -> list[Consultation]:
    """The consultations of the person whose INSZ is `asked`, for the data steward only (a role
    in the staff roster). A refusal (another operator, a malformed INSZ, no consultation key)
    is logged by outcome_logged, naming no INSZ; the look-up itself is logged with how many
    consultations it showed."""
    from flows.runtime.outcome import outcome_logged
    from flows.stores import audit, audit_read
    from flows.stores.requests import one_person
    from flows.stores.roster import RoleRefused, is_data_steward, load_roster, login

    def failed(kind: str, said: str | None) -> LookupFailed:
        return LookupFailed(f"the look-up stopped on {said or kind}")

    operator = login()
    with outcome_logged(log, {"action": "person_lookup"}, failed):
        if not is_data_steward(load_roster(roster), operator):
            raise RoleRefused(
                f"{operator!r} does not hold the role 'data steward' in the staff roster "
                f"{roster}: only the data steward may ask whose data was consulted"
            )
        person = one_person(asked)
        key = consultation_key(key_store)
    found = consultations_of(log, audit_read.scan(log).entries, person, key)
    audit.append(log, "person_lookup", consultations=len(found))
    return found
