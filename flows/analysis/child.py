"""Running a researcher's code on the on-premise workspace, in the sandbox (flows.analysis.sandbox).

The code sees the workspace's panels read-only at `/workspace` (`REX_RELEASE` and `REX_ONPREM`,
the variables the barometer notebook reads, so the same code runs on the sample at home and on
the whole population here) and writes into `/outputs` (`REX_OUTPUT`), a folder of the run's that
nothing else is in. rex keeps the code's copy, what it printed and the run's record in the run's
folder, which the sandbox does not mount: the code can neither rewrite them nor reach them.

Once the sandbox has ended (and with its PID namespace every process the code started), rex
takes the outputs into a folder of its own (`collect`): regular files only, never following a
link, under names of a safe pattern; the folder the code wrote is then removed. Every check,
the publication and a steward's later release read rex's copy, never the code's folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from flows.analysis import sandbox
from flows.runtime.settings import REPO_ROOT
from researcher.outputs import REQUESTS

STDOUT = "stdout.txt"
STDERR = "stderr.txt"
GIB = 1 << 30
# What the code wrote before rex took it (removed once taken).
WRITTEN = "written"
# The names rex takes an output under: a path of such parts, the API's records folder aside.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

Limits = sandbox.Limits


@dataclass(frozen=True)
class ChildOutcome:
    """How the code ended: its exit status (None: stopped by rex), why rex stopped it, how long
    it ran, and what of its output folder rex did not take."""

    returncode: int | None
    seconds: float
    stopped_for: str | None = None
    not_taken: tuple[str, ...] = ()

    @property
    def failure(self) -> str | None:
        """Why the run's outputs cannot be trusted (None: the code ran to its end)."""
        if self.stopped_for is not None:
            return f"the code was stopped at {self.stopped_for}"
        if self.returncode is None:
            return "the code was stopped"
        # bubblewrap reports a code ended by a signal as 128 + the signal's number
        signalled = -self.returncode if self.returncode < 0 else self.returncode - 128
        if self.returncode < 0 or signalled in {s.value for s in signal.Signals}:
            name = signal.Signals(signalled).name
            reason = {
                "SIGXCPU": "CPU time limit",
                "SIGXFSZ": "file size limit",
                "SIGKILL": "killed, e.g. out of memory",
            }
            return f"the code was stopped by {name} ({reason.get(name, 'a signal')})"
        if self.returncode != 0:
            return f"the code exited with status {self.returncode} (its messages are in {STDERR})"
        return None


def command(code: Path, run_folder: Path) -> tuple[Path, list[str]]:
    """What runs: the file mounted at /code (a Python script as it is; a notebook as the script
    of its code cells, written into the run's folder) and the command inside the sandbox."""
    if code.suffix == ".py":
        script = code
    elif code.suffix == ".ipynb":
        script = run_folder / f"{code.stem}.script.py"
        script.write_text(notebook_script(json.loads(code.read_text())))
        os.chmod(script, 0o444)
    else:
        raise ValueError(f"{code}: expected a Python script (.py) or a notebook (.ipynb)")
    return script, [sys.executable, f"{sandbox.CODE}/code.py"]


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


def _copy_regular(source: Path, target: Path) -> bool:
    """Copy `source` to `target` if it is a regular file (a link is never followed)."""
    try:
        descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    with open(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return False
        with open(target, "xb") as out:
            shutil.copyfileobj(handle, out, 1 << 20)
    os.chmod(target, 0o444)
    return True


def collect(written: Path, outputs: Path, limits: Limits) -> tuple[str, ...]:
    """Take what the code wrote into rex's own folder, within the run's output limits; returns
    what was not taken, by kind (never by name: names are the code's to choose, and may carry
    values)."""
    outputs.mkdir()
    not_taken: list[str] = []
    budget, entries = limits.output_bytes, 0
    pending = [Path()]
    while pending:
        relative = pending.pop()
        with os.scandir(written / relative) as found:
            listed = sorted(found, key=lambda e: e.name)
        for entry in listed:
            part = relative / entry.name
            entries += 1
            size = entry.stat(follow_symlinks=False).st_size
            if not (entry.name == REQUESTS and relative == Path()) and not SAFE_NAME.fullmatch(
                entry.name
            ):
                not_taken.append("a name outside [A-Za-z0-9._-] (starting with a letter or digit)")
            elif entries > limits.output_files or size > budget:
                not_taken.append("past the run's output limits")
            elif entry.is_dir(follow_symlinks=False):
                (outputs / part).mkdir()
                pending.append(part)
            elif _copy_regular(written / part, outputs / part):
                budget -= size
            else:
                not_taken.append("not a regular file (a link, a device, a pipe or a socket)")
    shutil.rmtree(written, ignore_errors=True)
    return tuple(sorted(not_taken))


def run_code(
    code: Path, workspace: Path, run_folder: Path, outputs: Path, limits: Limits
) -> ChildOutcome:
    """Run the code against the workspace in the sandbox; what it prints goes to the run's
    folder; its outputs end in `outputs`, rex's copy."""
    written = run_folder / WRITTEN
    written.mkdir()
    script, argv = command(code, run_folder)
    mounts = sandbox.Mounts(
        workspace=workspace.resolve(),
        outputs=written,
        read_only=((script, f"{sandbox.CODE}/code.py"), *sandbox.rex_folders(REPO_ROOT)),
    )
    env = {"REX_RELEASE": sandbox.WORKSPACE, "REX_ONPREM": sandbox.WORKSPACE}
    env["REX_OUTPUT"] = sandbox.OUTPUTS
    ended = sandbox.run(argv, mounts, limits, env, run_folder / STDOUT, run_folder / STDERR)
    not_taken: tuple[str, ...] = ()
    with contextlib.suppress(FileNotFoundError):
        not_taken = collect(written, outputs, limits)
    if not outputs.exists():
        outputs.mkdir()
    return ChildOutcome(ended.returncode, ended.seconds, ended.stopped_for, not_taken)
