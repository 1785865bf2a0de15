"""The staff roster: who holds which roles, and who signed the declaration on honour.

Deliberations name their operators by login (13/021 point 24) or by role (19/104 point 9: the
attachés and case handlers of one directorate). Roles change with the staff, not with the
deliberation, so they are kept apart from the specs, in a roster the data steward maintains
(`data/access/roster.yaml`); it is also the up-to-date list of
staff that 13/021 point 24 asks to keep available. A missing roster holds nobody.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pwd
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.stores.ownership import writable_by_others
from specs.refusal import Refusal


def login() -> str:
    """Who runs this process: the account of its user id. Not the LOGNAME or USER variables,
    which anybody can set to someone else's login."""
    return pwd.getpwuid(os.geteuid()).pw_name


class RosterError(Refusal, RuntimeError):
    """The roster cannot be read; the message names the file and the field."""


class RoleRefused(Refusal):
    """The operator does not hold the role the step needs; the message names the role and the
    roster."""


class StaffMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: tuple[str, ...] = Field(default=(), description="roles the member holds")
    declaration_signed: dt.date | None = Field(
        default=None, description="day the member signed the declaration on honour"
    )


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff: dict[str, StaffMember] = Field(default_factory=dict, description="members by login")

    def member(self, login: str) -> StaffMember:
        return self.staff.get(login, StaffMember())


def load_roster(path: Path) -> Roster:
    """The roster; refused if anyone but its owner may change it, or its folder (an operator
    able to write it could give himself a role; flows.stores.ownership)."""
    if not path.exists():
        return Roster()
    _refuse_unsafe(path, writable_by_others(path, any_owner=True))
    try:
        roster = Roster.model_validate(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError as error:
        # yaml's own message quotes the lines around the error, and the roster's lines are
        # logins and roles: the message goes to the terminal, the audit log and Prefect's
        # database, so it names the place only.
        raise RosterError(f"{path}: not valid YAML {_place(error)}") from None
    except ValidationError as error:
        # The location names the login (a key of `staff`), which the audit log holds anyway as
        # the actor of each entry; the value found there is never quoted (`msg`, not `input`).
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise RosterError(f"{path}: {problems}") from None
    # the data steward's own account may keep it, as may rex's and root
    _refuse_unsafe(path, writable_by_others(path, trusted=_uids(stewards(roster))))
    return roster


def _refuse_unsafe(path: Path, unsafe: str | None) -> None:
    if unsafe is not None:
        raise RosterError(
            f"the roster {path} could be changed by another account than the data steward's, "
            f"who alone may change who holds which role: {unsafe}"
        )


def _uids(logins: list[str]) -> list[int]:
    found = []
    for name in logins:
        try:
            found.append(pwd.getpwnam(name).pw_uid)
        except KeyError:
            continue  # a login with no account here owns nothing here
    return found


def _place(error: yaml.YAMLError) -> str:
    """Where in the file a YAML error lies: 'at line L, column C', 1-based."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return "(no position given)"
    return f"at line {mark.line + 1}, column {mark.column + 1}"


def roster_digest(path: Path) -> str | None:
    """sha256 of the roster a run was checked against (None: no roster), for the audit log."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


# The role of whoever may ask the log which consultations touched a person (16/046: "who looked
# at this person's data, and why"); the data steward also keeps this roster.
DATA_STEWARD = "data steward"


def stewards(roster: Roster) -> list[str]:
    """The logins that hold the data steward's role."""
    return sorted(name for name, member in roster.staff.items() if DATA_STEWARD in member.roles)


def is_data_steward(roster: Roster, login: str) -> bool:
    """Whether `login` holds the data steward's role in the roster."""
    return DATA_STEWARD in roster.member(login).roles
