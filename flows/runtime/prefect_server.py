"""Prefect's temporary server, started by rex as a child that dies with the run.

With no API URL, Prefect 3.8 starts a temporary server itself (`SubprocessASGIServer`: uvicorn
running `prefect.server.api.server:create_app` on a loopback port) and stops it from an atexit
hook. A run killed with SIGKILL runs no atexit hook, so that server stayed behind, holding its
port and its SQLite database under PREFECT_HOME. rex therefore starts the same server itself,
before Prefect would, and:

- asks the kernel (prctl PR_SET_PDEATHSIG) to kill it when the run dies, however it dies;
- marks it with the run's pid, the run's start time and PREFECT_HOME (`SERVER_MARK`, in its
  environment), so that the next start finds one whose run is gone (its death signal lost)
  and kills it, as it kills a temporary server Prefect started itself (by a version of rex
  before this one) that init has adopted; a server whose run is alive, a concurrent run's, is
  left alone;
- stops it at a normal exit, after Prefect's own exit hooks have sent what they hold.

When a command's flows are done, `stop_prefect_background` stops Prefect's own background loop,
which would otherwise keep the first flow run alive past the interpreter's exit.

A run given PREFECT_API_URL (a long-running `prefect server start`) or inside
`prefect_test_harness` uses that server and starts none.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from specs.refusal import RunFailed

SERVER_MARK = "REX_PREFECT_SERVER"
SERVER_APP = "prefect.server.api.server:create_app"
PORT_IN_USE = 3  # uvicorn's exit status when it cannot bind its port
PR_SET_PDEATHSIG = 1
DEFAULT_STARTUP_SECONDS = 90
LOG_NAME = "server.log"

_started: dict[Path, tuple[subprocess.Popen[bytes], str]] = {}
# servers launched (`launch_server`) that no run has waited for yet
_launched: dict[Path, tuple[subprocess.Popen[bytes], str]] = {}


class PrefectServerError(RunFailed, RuntimeError):
    """Prefect's temporary server could not be started; the message says why and where."""


def _start_time(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot), which tells apart two processes
    that had the same pid; None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name, in parentheses, may hold spaces: count fields after its last ')'
    return stat.rsplit(")", 1)[1].split()[19]


def _environment(pid: str) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _is_server(pid: str) -> bool:
    try:
        return SERVER_APP.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _home_of(pid: str, environment: dict[str, str]) -> Path | None:
    """The PREFECT_HOME a process runs with, made absolute from its own working folder."""
    if "PREFECT_HOME" not in environment:
        return None
    try:
        return (Path(os.readlink(f"/proc/{pid}/cwd")) / environment["PREFECT_HOME"]).resolve()
    except OSError:
        return None


def _parent(pid: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))


def servers_of(home: Path) -> list[int]:
    """The pids of the temporary Prefect servers (rex's or Prefect's own) of this PREFECT_HOME."""
    home = home.resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_server(entry.name):
            environment = _environment(entry.name)
            mark = environment.get(SERVER_MARK, "")
            ours = mark.split(":", 2)[2:] == [str(home)]
            temporary = environment.get("PREFECT__SERVER_EPHEMERAL") == "1"
            if ours or (temporary and not mark and _home_of(entry.name, environment) == home):
                found.append(int(entry.name))
    return found


def _run_is_gone(pid: int) -> bool:
    """Whether the run that started this server has ended: the run its mark names (same pid,
    same start time) for a server of rex's; for one Prefect started itself (before rex started
    its own), the parent: an orphan is adopted by init, pid 1."""
    mark = _environment(str(pid)).get(SERVER_MARK)
    if mark is None:
        return _parent(str(pid)) == 1
    owner, started, _ = mark.split(":", 2)
    return not (owner.isdigit() and _start_time(int(owner)) == started)


def stop_stale_servers(home: Path) -> list[int]:
    """Kill the temporary servers of this PREFECT_HOME whose run is gone (a concurrent run's
    server is left alone); returns their pids."""
    stale = [pid for pid in servers_of(home) if _run_is_gone(pid)]
    for pid in stale:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return stale


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent(parent: int):
    # The kernel sends the signal when the thread that started the child ends: start the server
    # from the thread that lives as long as the run (the CLI's main thread).
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: nothing to load after

    def apply() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the run died before the death signal was set
            os._exit(1)

    return apply


def _spawn(home: Path, port: int, log) -> subprocess.Popen[bytes]:
    me = os.getpid()
    environment = {
        **os.environ,
        "PREFECT_HOME": str(home),
        # as Prefect's own temporary server: no UI, and it knows it is temporary
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        SERVER_MARK: f"{me}:{_start_time(me)}:{home}",
    }
    environment.pop("PREFECT_API_URL", None)
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", SERVER_APP),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"),
    ]
    return subprocess.Popen(
        command,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        preexec_fn=_die_with_parent(me),  # only prctl and getppid run there
    )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch_server(home: Path) -> None:
    """Start the temporary server of this PREFECT_HOME without waiting for it to answer (it
    takes 7-15 s to import Prefect's server and migrate its database), so that the run does
    its own first work meanwhile; `start_server` then waits for it. Call it from the thread
    that lives as long as the run (see `_die_with_parent`)."""
    home = home.resolve()
    if home in _started or home in _launched:
        return
    stop_stale_servers(home)
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with open(home / LOG_NAME, "ab") as log:
        process = _spawn(home, port, log)
    atexit.register(_stop, process)
    _launched[home] = (process, f"http://127.0.0.1:{port}/api")


def start_server(home: Path, timeout: float | None = None) -> str:
    """Start (once per process and PREFECT_HOME) a temporary Prefect server that dies with this
    process, or take the one `launch_server` started; returns its API URL once it answers."""
    home = home.resolve()
    if home in _started and _started[home][0].poll() is None:
        return _started[home][1]
    if home not in _launched:
        stop_stale_servers(home)
    limit = timeout or float(
        os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", DEFAULT_STARTUP_SECONDS)
    )
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / LOG_NAME
    deadline = time.monotonic() + limit
    with open(log_path, "ab") as log:
        while True:
            if home in _launched:
                process, url = _launched.pop(home)
            else:
                port = _free_port()
                url = f"http://127.0.0.1:{port}/api"
                process = _spawn(home, port, log)
            while process.poll() is None and not _healthy(url) and time.monotonic() < deadline:
                time.sleep(0.1)
            if process.poll() == PORT_IN_USE and time.monotonic() < deadline:
                continue  # another process took the port between the probe and the bind
            break
    if process.poll() is not None or not _healthy(url):
        exited = process.poll()
        _stop(process)
        what = f"exited with status {exited}" if exited is not None else "did not answer"
        raise PrefectServerError(
            f"Prefect's temporary server {what} within {limit:g} s of its start; its "
            f"messages are in {log_path}"
        )
    atexit.register(_stop, process)
    _started[home] = (process, url)
    return url


def api_is_configured() -> bool:
    """Whether runs use a configured Prefect API (PREFECT_API_URL, a test harness) and so
    start no temporary server."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


# Seconds to wait for Prefect's background services to send what they hold (events, logs) to
# the API, and then for its background loop to stop.
BACKGROUND_DRAIN_SECONDS = 30


def stop_prefect_background(timeout: float = BACKGROUND_DRAIN_SECONDS) -> None:
    """Send what Prefect's background services still hold, then stop the event-loop thread
    they run on, so that nothing of the flow runs outlives the interpreter.

    Prefect starts a service (the events worker, the API log worker) when it is first needed,
    which is inside the first flow run, and queues the service's `drain` on its global loop
    thread, to run when that thread stops. The queued call keeps a copy of the context it was
    made in: the flow run's EngineContext, with the flow, its function (and so that function's
    module globals), its state, its result or exception and traceback (frames, DuckDB
    connections). That thread is a daemon that Prefect never stops, and Python never frees what
    a daemon thread still holds at exit, so those modules are never cleared either, and DuckDB's
    extension (nanobind) reports every object of its own still alive: some 35 lines of
    "nanobind: leaked" on stderr after each run.
    """
    # wait_for_global_loop_exit is Prefect's own way to stop that loop (not public API, pinned
    # with Prefect); its shutdown calls drain the services, after which they hold no context
    from prefect._internal.concurrency.threads import wait_for_global_loop_exit
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    # as prefect_test_harness does: drain while the server they send to is still up
    EventsWorker.drain_all(timeout=timeout)
    APILogWorker.drain_all(timeout=timeout)
    wait_for_global_loop_exit(timeout)


@contextlib.contextmanager
def prefect_api(home: Path) -> Iterator[None]:
    """Run the body against a Prefect API: the one configured (PREFECT_API_URL, a test
    harness), or else a temporary server of rex's own (`start_server`). When the body is done
    (or raised), Prefect's background loop is stopped while the API is still up
    (`stop_prefect_background`)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if api_is_configured():
        try:
            yield
        finally:
            stop_prefect_background()
        return
    with temporary_settings({PREFECT_API_URL: start_server(home)}):
        try:
            yield
        finally:
            stop_prefect_background()
