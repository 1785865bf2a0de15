"""Running a researcher's code on the on-premise workspace, in a child process of its own.

The child gets the workspace's panels to read (`REX_RELEASE` and `REX_ONPREM`, the variables the
barometer notebook reads, so the same code runs on the sample at home and on the whole population
here), a fresh output folder (`REX_OUTPUT`), a time and a memory limit (set with setrlimit in
the child, so they hold for everything it starts), no core dumps (they would hold data), and
nothing else of rex's environment: no key store, no data folder, no Prefect. What it prints goes
to files in the run's folder only, never to the terminal: it may quote rows.

The workspace is made read-only for the run (files 0444, folders 0555) and its files are checked
against its manifest afterwards: permissions do not bind the superuser, the check does, and a run
that changed the workspace has its outputs refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flows.release import sha256_file
from flows.settings import REPO_ROOT
from flows.verify import MANIFEST, alterations

STDOUT = "stdout.txt"
STDERR = "stderr.txt"
GIB = 1 << 30
# The environment variables a run's code may see from ours (everything else is left out).
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class Limits:
    seconds: int
    memory_bytes: int


@dataclass(frozen=True)
class ChildOutcome:
    """How the code ended: its exit status (None: stopped at the time limit) and how long."""

    returncode: int | None
    seconds: float
    workspace_changes: tuple[str, ...]

    @property
    def failure(self) -> str | None:
        """Why the run's outputs cannot be trusted (None: the code ran to its end)."""
        if self.workspace_changes:
            return "the code changed the workspace (" + "; ".join(self.workspace_changes) + ")"
        if self.returncode is None:
            return "the code was stopped at the run's time limit"
        if self.returncode < 0:
            name = signal.Signals(-self.returncode).name
            reason = {"SIGXCPU": "CPU time limit", "SIGKILL": "killed, e.g. out of memory"}
            return f"the code was stopped by {name} ({reason.get(name, 'a signal')})"
        if self.returncode != 0:
            return f"the code exited with status {self.returncode} (its messages are in {STDERR})"
        return None


def _limited(limits: Limits) -> Callable[[], None]:
    """What the child runs before the code: its limits, in its own process group."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def command(code: Path, run_folder: Path) -> list[str]:
    """How to run the code: a Python script as it is; a notebook as the script of its code
    cells (written into the run's folder), so that its cells' outputs are nowhere but there."""
    if code.suffix == ".py":
        return [sys.executable, str(code)]
    if code.suffix == ".ipynb":
        script = run_folder / f"{code.stem}.py"
        script.write_text(notebook_script(json.loads(code.read_text())))
        return [sys.executable, str(script)]
    raise ValueError(f"{code}: expected a Python script (.py) or a notebook (.ipynb)")


def notebook_script(notebook: dict) -> str:
    """The code cells of a notebook, in order; IPython's magics and shell lines are left out."""
    cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    lines = []
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        lines += [line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))]
        lines.append("")
    return "\n".join(lines) + "\n"


def environment(workspace: Path, outputs: Path, home: Path) -> dict[str, str]:
    passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return {
        **passed,
        "HOME": str(home),
        "REX_RELEASE": str(workspace),
        "REX_ONPREM": str(workspace),
        "REX_OUTPUT": str(outputs),
        # rex's researcher API and the barometer's functions, importable as at home
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "notebooks")]),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@contextmanager
def read_only(workspace: Path) -> Iterator[None]:
    """The workspace's files and folders without write permission, restored afterwards."""
    entries = [workspace, *workspace.rglob("*")]
    modes = {path: stat.S_IMODE(path.lstat().st_mode) for path in entries}
    try:
        for path in entries:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        yield
    finally:
        for path, mode in modes.items():
            if path.exists():
                os.chmod(path, mode)


def run_code(
    code: Path, workspace: Path, run_folder: Path, outputs: Path, limits: Limits
) -> ChildOutcome:
    """Run the code against the workspace; its output and errors go to the run's folder."""
    home = run_folder / "home"
    home.mkdir()
    outputs.mkdir()
    # the code runs under this account, so it could give itself write access back and rewrite
    # the manifest to match what it changed: the manifest is compared with itself before the run
    manifest_before = sha256_file(workspace / MANIFEST)
    started = time.perf_counter()
    argv = command(code, run_folder)
    with (
        read_only(workspace),
        open(run_folder / STDOUT, "wb") as out,
        open(run_folder / STDERR, "wb") as err,
    ):
        child = subprocess.Popen(
            argv,
            cwd=home,
            env=environment(workspace, outputs, home),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=_limited(limits),
            start_new_session=True,
        )
        try:
            returncode: int | None = child.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            returncode = None
        # whatever the code left running in its group goes with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
    seconds = time.perf_counter() - started
    changed = alterations(workspace)
    if (workspace / MANIFEST).is_file() and sha256_file(workspace / MANIFEST) != manifest_before:
        changed.insert(0, f"{MANIFEST} was rewritten during the run")
    return ChildOutcome(returncode, seconds, tuple(changed))
