"""Reviewers for the tests of the sign-off: staff accounts in a roster, and the process's login
taken as one of them at a time (on premise each reviewer logs in under their own account)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from flows.analysis import signoff
from flows.analysis.output_checking import WITHHELD
from flows.runtime.settings import Paths

REVIEWER_ROLE = "data steward, KSZ"
FIRST, SECOND, THIRD = "reviewer-a", "reviewer-b", "reviewer-c"
REASON = "the table was read cell by cell and holds no person's data"


class Accounts:
    """A roster of reviewers (and whoever else is given) and a switch of the process's login."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, paths: Paths, staff: dict[str, list[str]]
    ) -> None:
        self.monkeypatch, self.paths = monkeypatch, paths
        self.me = pwd.getpwuid(os.geteuid()).pw_name
        self.real = pwd.getpwuid
        # the author holds the role too: the rule, not the roster, keeps them from their own
        roster = {name: [REVIEWER_ROLE] for name in (self.me, FIRST, SECOND, THIRD)}
        roster |= staff
        paths.roster.parent.mkdir(parents=True, exist_ok=True)
        paths.roster.write_text(
            yaml.safe_dump({"staff": {name: {"roles": roles} for name, roles in roster.items()}})
        )
        os.chmod(paths.roster, 0o644)

    def become(self, name: str) -> None:
        uid = os.geteuid()
        real = self.real
        self.monkeypatch.setattr(
            pwd,
            "getpwuid",
            lambda wanted: SimpleNamespace(pw_name=name) if wanted == uid else real(wanted),
        )

    def back(self) -> None:
        self.become(self.me)

    def approve(self, run: str, outputs: list[int], specs_dir: Path, *reviewers: str) -> None:
        for reviewer in reviewers or (FIRST, SECOND):
            self.become(reviewer)
            for output in outputs:
                signoff.decide(self.paths, run, output, True, REASON, specs_dir)
        self.back()

    def release(self, run: str, specs_dir: Path, reviewer: str = FIRST) -> signoff.Released:
        self.become(reviewer)
        try:
            return signoff.release(self.paths, run, specs_dir)
        finally:
            self.back()

    def sign_off(self, result, specs_dir: Path) -> signoff.Released:
        """Two reviewers approve every output of the run that passed its checks; one releases."""
        passed = [c.number for c in result.checks if c.outcome != WITHHELD]
        self.approve(result.run, passed, specs_dir)
        return self.release(result.run, specs_dir)


@pytest.fixture
def run_paths(world, tmp_path) -> Paths:
    """A data folder of its own (log, runs, outputs) that sees the world's workspace."""
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    paths.data.mkdir()
    (paths.data / "onprem").symlink_to(world["paths"].onprem)
    return paths


@pytest.fixture
def accounts(monkeypatch, run_paths) -> Accounts:
    return Accounts(monkeypatch, run_paths, {})
