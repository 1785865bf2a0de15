"""A command that runs a flow ends quietly: nothing of its flow runs outlives the interpreter; a
command that counts only runs no flow.

Prefect's background loop kept the first flow run's context (its flow, module globals, DuckDB
objects) alive past the interpreter's exit, and DuckDB's extension then printed some 35 lines
of "nanobind: leaked ..." on stderr at the end of every run (see
flows.runtime.prefect_server.stop_prefect_background).
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import WORLD_AS_OF, rex_in_a_fresh_process


def _command(world, tmp_path, *arguments: str, **settings: str) -> subprocess.CompletedProcess:
    """`rex ARGUMENTS` in a fresh process, with a data folder of its own and the session's
    store and key."""
    data, keys = tmp_path / "data", world["paths"].key_store
    sources = ("--sources", str(world["store"]))
    return rex_in_a_fresh_process(data, keys, *arguments, *sources, **settings)


def test_a_command_that_runs_a_flow_leaves_no_leak_report_at_exit(world, tmp_path):
    run = _command(
        world,
        tmp_path,
        "export",
        "sample",
        "--spec",
        str(world["spec"]),
        "--as-of",
        WORLD_AS_OF.isoformat(),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("published: "), run.stdout
    assert "nanobind: leaked" not in run.stderr, run.stderr[:2000]
    # admitted before Prefect's API was waited for, then in its flow: one request all the same
    log = (tmp_path / "data" / "audit" / "audit.jsonl").read_text()
    assert [json.loads(line)["event"] for line in log.splitlines()] == ["request", "release"]


def test_explaining_a_population_needs_no_prefect_server(world, tmp_path):
    # counts only: it neither starts a temporary server nor reaches a configured one (this one
    # answers nobody), and its request and counts are logged as a run's are
    unreachable = "http://127.0.0.1:9/api"
    run = _command(
        world,
        tmp_path,
        *("spec", "explain", str(world["spec"]), "--as-of", WORLD_AS_OF.isoformat()),
        PREFECT_API_URL=unreachable,
    )
    assert run.returncode == 0, run.stderr
    assert "alive in the period" in run.stdout
    assert "nanobind: leaked" not in run.stderr, run.stderr[:2000]
    assert not (tmp_path / "data" / ".prefect" / "server.log").exists()
    log = (tmp_path / "data" / "audit").rglob("*.jsonl")
    events = [line for path in log for line in path.read_text().splitlines()]
    assert any('"population_explained"' in line for line in events), events
