"""A run's temporary Prefect server dies with the run, even one killed with SIGKILL, and the next
start stops a server whose run is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flows.runtime.prefect_server import SERVER_APP, SERVER_MARK, _start_time, stop_stale_servers
from flows.runtime.settings import REPO_ROOT

# A tiny flow run as the CLI runs flows (under flows.runtime.prefect_server), that says when it is
# running and then waits to be killed.
RUN = """
import sys, time
from pathlib import Path
from prefect import flow
from flows.runtime.prefect_server import prefect_api

@flow
def waits() -> None:
    Path(sys.argv[2]).write_text("running")
    time.sleep(120)

with prefect_api(Path(sys.argv[1])):
    waits()
"""


def prefect_servers_of(home: Path) -> list[int]:
    """Every Prefect server process (Prefect's own or rex's) whose PREFECT_HOME is `home`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if SERVER_APP.encode() in cmdline and f"PREFECT_HOME={home}".encode() in environ:
            found.append(int(entry.name))
    return found


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_run_killed_with_sigkill_leaves_no_prefect_server_behind(tmp_path):
    home = (tmp_path / ".prefect").resolve()
    home.mkdir()
    ready = tmp_path / "ready"
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    environment |= {"PREFECT_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.Popen(
        [sys.executable, "-c", RUN, str(home), str(ready)],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        started = _wait_for(lambda: ready.exists() or run.poll() is not None, 150)
        assert started and run.poll() is None, run.stderr.read().decode() if run.stderr else ""
        assert prefect_servers_of(home), "the run should have a server while it runs"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        assert _wait_for(lambda: not prefect_servers_of(home), 10), prefect_servers_of(home)
    finally:
        if run.poll() is None:
            run.kill()
        for pid in prefect_servers_of(home):
            os.kill(pid, signal.SIGKILL)


def _fake_server(home: Path, owner: str) -> subprocess.Popen[bytes]:
    """A process that looks like a rex-started server of `home` for the run `owner`."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", SERVER_APP],
        env={**os.environ, SERVER_MARK: f"{owner}:{home}"},
    )


def test_the_next_start_stops_a_server_whose_run_is_gone_and_no_other(tmp_path):
    home = (tmp_path / ".prefect").resolve()
    me = os.getpid()
    stale = _fake_server(home, f"{me}:not-my-start-time")  # our pid, reused: its run is gone
    live = _fake_server(home, f"{me}:{_start_time(me)}")  # a concurrent run, alive
    elsewhere = _fake_server(tmp_path / "other", f"{me}:not-my-start-time")
    try:
        assert stop_stale_servers(home) == [stale.pid]
        assert stale.wait(timeout=10) == -signal.SIGKILL
        assert live.poll() is None and elsewhere.poll() is None
    finally:
        for process in (stale, live, elsewhere):
            process.kill()
            process.wait()


def test_the_next_start_stops_a_server_prefect_started_for_a_run_that_is_gone(tmp_path):
    home = (tmp_path / ".prefect").resolve()
    # Prefect's own temporary server of a killed run (as before rex started its own): init
    # adopts it. The shell starts it in the background and exits at once.
    orphan = subprocess.run(
        [
            "sh",
            "-c",
            f'"{sys.executable}" -c "import time; time.sleep(120)" {SERVER_APP}'
            " >/dev/null 2>&1 & echo $!",
        ],
        env={**os.environ, "PREFECT_HOME": str(home), "PREFECT__SERVER_EPHEMERAL": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(orphan.stdout)
    try:
        assert _wait_for(lambda: prefect_servers_of(home) == [pid], 5)
        assert stop_stale_servers(home) == [pid]
        assert _wait_for(lambda: _gone(pid), 10)
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_a_server_that_does_not_start_in_time_is_stopped_and_named_in_one_line(tmp_path):
    import pytest

    from flows.runtime.prefect_server import PrefectServerError, start_server

    home = (tmp_path / ".prefect").resolve()
    with pytest.raises(PrefectServerError) as failed:
        start_server(home, timeout=0.5)
    message = str(failed.value)
    assert "did not answer within" in message and str(home / "server.log") in message
    assert len(message.splitlines()) == 1
    assert _wait_for(lambda: not prefect_servers_of(home), 5)


def test_a_server_launched_early_is_the_one_the_run_waits_for(tmp_path):
    """`launch_server` starts the server without waiting (the run does its first work while it
    starts); `start_server` then waits for that one, starts no second, and it stops with it."""
    from flows.runtime import prefect_server

    home = (tmp_path / ".prefect").resolve()
    prefect_server.launch_server(home)
    prefect_server.launch_server(home)  # a second call starts no second server
    launched = prefect_servers_of(home)
    assert len(launched) == 1
    try:
        url = prefect_server.start_server(home)
        assert prefect_servers_of(home) == launched
        assert prefect_server._healthy(url)
        assert prefect_server.start_server(home) == url
    finally:
        process, _ = prefect_server._started.pop(home)
        prefect_server._stop(process)
    assert _wait_for(lambda: not prefect_servers_of(home), 5)
