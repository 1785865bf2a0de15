"""The sandbox a researcher's code runs in: bubblewrap's namespaces, an account of its own, and
limits that hold for everything the code starts.

The code is hostile until proven otherwise (18/088 point 16: only anonymous results leave), and
what it can reach it can take out. So it sees a root file system that holds only what it needs,
read-only: the system's `/usr`, the Python installation and environment it runs under, rex's
`researcher` package and the barometer's functions (`/rex`), its own code (`/code`) and the
workspace (`/workspace`); the one place it may write is a fresh output folder (`/outputs`),
plus a small `/tmp` and `/home` in memory. No key store, data folder, source store, audit log,
roster or other run is mounted; its `/proc` shows its own PID namespace only; its network
namespace has no interface but a loopback of its own (no server of rex's is on it).

When rex runs as root (the deployment this is built for), bubblewrap sets the namespaces up and
`setpriv` then makes the code an unprivileged account (`REX_SANDBOX_UID`, default 65534, with
no capabilities and no new privileges): the kernel then counts the code's processes against
the run's limit, and the files it writes belong to that account. Run by another account, rex
asks bubblewrap for a user namespace instead; the code then runs as rex's account seen from
outside, and its process limit counts that account's processes too.

Limits: CPU time, address space, processes, the size of one file and no core dumps are rlimits,
inherited by everything the code starts; wall time, and the total size and number of files of
its outputs, are watched from outside, and a run past any of them is killed. Killing bubblewrap
kills the PID namespace, and with it every process the code started, whatever it did with
sessions and process groups. What the code prints reaches rex through pipes, capped, so that it
can neither rewrite nor flood the files rex keeps.

A machine without bubblewrap refuses analysis runs (SandboxUnavailable); rex never runs them
less isolated.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from specs.refusal import Refusal

BWRAP = "bwrap"
SETPRIV = "setpriv"
INSTALL_HINT = (
    "install bubblewrap (Debian and Ubuntu: `apt-get install bubblewrap`; `make sandbox` does "
    "it as root)"
)
# The account the code runs as when rex runs as root (nobody, unless the deployment sets one).
SANDBOX_UID_VARIABLE = "REX_SANDBOX_UID"
DEFAULT_SANDBOX_UID = 65534

# Where things are inside the sandbox.
WORKSPACE = "/workspace"
OUTPUTS = "/outputs"
CODE = "/code"
HOME = "/home"
REX = "/rex"
# The environment variables of rex's own the code may see (everything else is left out).
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ")
# The system folders that are either links into /usr (merged /usr) or folders of their own.
SYSTEM_FOLDERS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# In memory, so counted here rather than on the disk: what the code may keep in /tmp and /home.
SCRATCH = ("/tmp", HOME)
SCRATCH_BYTES = 256 << 20
# What is kept of the code's standard output and error, each; the rest is dropped and said so.
STREAM_BYTES = 16 << 20
# How often the output folder is measured while the code runs.
WATCH_SECONDS = 0.2


class SandboxUnavailable(Refusal, RuntimeError):
    """The sandbox cannot be set up on this machine; the message says how to install it."""


@dataclass(frozen=True)
class Limits:
    seconds: int
    memory_bytes: int
    processes: int
    output_bytes: int
    output_files: int


@dataclass(frozen=True)
class Mounts:
    """What the code sees: the workspace (read-only), its output folder (the only one it may
    write), its code and whatever else it reads, each at its place inside."""

    workspace: Path
    outputs: Path
    read_only: tuple[tuple[Path, str], ...]  # (on this machine, inside the sandbox)

    def workspace_files(self) -> list[tuple[Path, str]]:
        """The workspace's files, each mounted on its own: its folder may be closed to the
        sandbox's account (releases are published 0750), and nothing but its files is taken."""
        files = sorted(p for p in self.workspace.iterdir() if p.is_file() and not p.is_symlink())
        unreadable = [p.name for p in files if not p.stat().st_mode & 0o004]
        if unreadable:
            raise SandboxUnavailable(
                f"the workspace {self.workspace} has {len(unreadable)} files the sandbox's "
                f"account cannot read (e.g. {unreadable[0]}): give them mode o+r"
            )
        return [(p, f"{WORKSPACE}/{p.name}") for p in files]


@dataclass(frozen=True)
class Ended:
    """How the sandbox ended: the code's exit status (None: killed by rex), why rex killed it,
    and how long it ran."""

    returncode: int | None
    stopped_for: str | None
    seconds: float


def runs_as_root() -> bool:
    """Whether rex runs as root, and so drops the code to an account of its own."""
    return os.geteuid() == 0


def sandbox_uid() -> int:
    """The account the code runs as when rex runs as root."""
    value = os.environ.get(SANDBOX_UID_VARIABLE, str(DEFAULT_SANDBOX_UID))
    if not value.isdigit() or int(value) == 0:
        raise SandboxUnavailable(
            f"{SANDBOX_UID_VARIABLE} must be the number of an unprivileged account (not 0)"
        )
    return int(value)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SandboxUnavailable(
            f"analysis runs need `{name}` to isolate the researcher's code, and it is not on "
            f"this machine's PATH: {INSTALL_HINT}; rex never runs them less isolated"
        )
    return found


def python_folders() -> list[Path]:
    """The Python installation and the environment the code runs under (read-only inside)."""
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    executable = Path(sys.executable)
    folders.add(executable.resolve().parent.parent)
    return sorted(folders)


def rex_folders(repo: Path) -> tuple[tuple[Path, str], ...]:
    """rex's researcher API and the barometer's functions, importable inside as at home."""
    return ((repo / "researcher", f"{REX}/researcher"), (repo / "notebooks", f"{REX}/notebooks"))


def environment(extra: dict[str, str]) -> dict[str, str]:
    """The code's whole environment: nothing of rex's but the locale."""
    passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return {
        **passed,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": HOME,
        "TMPDIR": "/tmp",
        "PYTHONPATH": f"{REX}:{REX}/notebooks",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{HOME}/.matplotlib",
        **extra,
    }


def _system_arguments() -> list[str]:
    arguments = ["--ro-bind", "/usr", "/usr"]
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            arguments += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            arguments += ["--ro-bind", folder, folder]
    # the dynamic linker's cache: without it every library is looked for on every path
    arguments += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return arguments


def bwrap_command(
    mounts: Mounts, argv: Sequence[str], env: dict[str, str], as_root: bool, uid: int
) -> list[str]:
    """The whole command line: bubblewrap, its mounts, and the code's command inside."""
    command = [
        _tool(BWRAP),
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
    if not as_root:
        command += ["--unshare-user", "--uid", str(uid), "--gid", str(uid), "--disable-userns"]
    command += _system_arguments()
    command += ["--proc", "/proc", "--dev", "/dev"]
    # the scratch folders first: a mount made later in one of them (a Python environment
    # under /tmp or /home) then lies on top of it instead of being hidden by it
    for place in SCRATCH:
        command += ["--size", str(SCRATCH_BYTES), "--perms", "1777", "--tmpfs", place]
    read_only = [(folder, str(folder)) for folder in python_folders()] + list(mounts.read_only)
    read_only += mounts.workspace_files()
    # the folders above each mount, made readable: bubblewrap would make them owner-only
    above = {str(p) for _, inside in read_only for p in Path(inside).parents}
    for folder in sorted(above - {"/", *SCRATCH}):
        command += ["--perms", "0555", "--dir", folder]
    for source, inside in read_only:
        command += ["--ro-bind", str(source), inside]
    command += ["--bind", str(mounts.outputs), OUTPUTS]
    for name, value in env.items():
        command += ["--setenv", name, value]
    command += ["--chdir", HOME, "--"]
    if as_root:
        command += [
            _tool(SETPRIV),
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    return command + list(argv)


def _account_tasks(uid: int) -> int:
    """How many processes and threads the account runs now (its rlimit counts them all)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += sum(1 for _ in (entry / "task").iterdir())
    return count


def _rlimits(limits: Limits, as_root: bool) -> Callable[[], None]:
    """What runs in the child before bubblewrap: limits every process inside inherits."""
    processes = limits.processes if as_root else limits.processes + _account_tasks(os.geteuid())

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))

    return apply


def usage(folder: Path, file_limit: int) -> tuple[int, int]:
    """Bytes on disk and entries under `folder`, links not followed; stops counting past
    `file_limit` entries (the answer is then over the limit, which is all that matters)."""
    used, entries = 0, 0
    pending = [folder]
    while pending and entries <= file_limit:
        with contextlib.suppress(OSError), os.scandir(pending.pop()) as found:
            for entry in found:
                entries += 1
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    used += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
    return used, entries


def over_limit(folder: Path, limits: Limits) -> str | None:
    """Why the output folder is past the run's limits (None: it is not)."""
    used, entries = usage(folder, limits.output_files)
    if entries > limits.output_files:
        return f"its outputs hold more than {limits.output_files:,} files and folders"
    if used > limits.output_bytes:
        return f"its outputs take more than {limits.output_bytes / (1 << 20):,.0f} MiB"
    return None


def _capture(stream: IO[bytes], target: Path) -> threading.Thread:
    """Copy what the code prints into `target`, up to STREAM_BYTES; the rest is dropped."""

    def copy() -> None:
        kept = 0
        with open(target, "wb") as out:
            for block in iter(lambda: stream.read(1 << 16), b""):
                if kept < STREAM_BYTES:
                    out.write(block[: STREAM_BYTES - kept])
                    kept += len(block)
            if kept > STREAM_BYTES:
                out.write(f"\n[rex: past {STREAM_BYTES:,} bytes, the rest was dropped]\n".encode())

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _killed_on_exit(process: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def require() -> None:
    """Refuse at once, with how to install it, when the sandbox cannot be set up here."""
    _tool(BWRAP)
    if runs_as_root():
        _tool(SETPRIV)
    user = [] if runs_as_root() else ["--unshare-user", "--disable-userns"]
    probe = subprocess.run(
        [
            _tool(BWRAP),
            "--unshare-pid",
            "--unshare-net",
            *user,
            *_system_arguments(),
            "--",
            "/bin/true",
        ],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    if probe.returncode != 0:
        said = probe.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise SandboxUnavailable(
            "bubblewrap is installed but cannot set up its namespaces on this machine "
            f"({said[0] if said else f'exit status {probe.returncode}'}); analysis runs need "
            "them, and rex never runs them less isolated"
        )


def run(
    argv: Sequence[str],
    mounts: Mounts,
    limits: Limits,
    env: dict[str, str],
    stdout: Path,
    stderr: Path,
) -> Ended:
    """Run `argv` in the sandbox until it ends or passes a limit; what it prints goes to
    `stdout` and `stderr` (rex's files, which the code cannot reach)."""
    as_root = runs_as_root()
    uid = sandbox_uid() if as_root else DEFAULT_SANDBOX_UID
    if as_root:
        os.chown(mounts.outputs, uid, uid)
    os.chmod(mounts.outputs, 0o700)
    command = bwrap_command(mounts, argv, environment(env), as_root, uid)
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        env={"PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_rlimits(limits, as_root),
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    readers = [_capture(process.stdout, stdout), _capture(process.stderr, stderr)]
    stopped_for: str | None = None
    with _killed_on_exit(process):
        while process.poll() is None:
            if time.monotonic() - started > limits.seconds:
                stopped_for = "the run's time limit"
            else:
                past = over_limit(mounts.outputs, limits)
                stopped_for = past and f"the limits of its outputs ({past})"
            if stopped_for is not None:
                # the PID namespace dies with bubblewrap: everything the code started goes too
                process.kill()
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=WATCH_SECONDS)
        returncode = process.wait()
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - started
    if stopped_for is None:
        # what was written between the last look and the end counts as well
        past = over_limit(mounts.outputs, limits)
        stopped_for = past and f"the limits of its outputs ({past})"
    return Ended(None if stopped_for else returncode, stopped_for, seconds)
