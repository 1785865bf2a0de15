"""A command that runs a flow ends quietly: nothing of its flow runs outlives the interpreter.

Prefect's background loop kept the first flow run's context (its flow, module globals, DuckDB
objects) alive past the interpreter's exit, and DuckDB's extension then printed some 35 lines
of "nanobind: leaked ..." on stderr at the end of every run (see
flows.runtime.prefect_server.stop_prefect_background).
"""

from __future__ import annotations

import os
import subprocess
import sys

from flows.runtime.settings import REPO_ROOT
from tests.conftest import WORLD_AS_OF


def test_a_command_that_runs_a_flow_leaves_no_leak_report_at_exit(world, tmp_path):
    # a fresh process as a data steward starts it: its own data folder (and so its own
    # PREFECT_HOME and temporary server), the session's store and key
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")
    }
    environment |= {
        "PYTHONPATH": str(REPO_ROOT),
        "REX_DATA_DIR": str(tmp_path / "data"),
        "REX_KEY_STORE": str(world["paths"].key_store),
    }
    command = ["spec", "explain", str(world["spec"]), "--as-of", WORLD_AS_OF.isoformat()]
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", *command, "--sources", str(world["store"])],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    assert "alive in the period" in run.stdout
    assert "nanobind: leaked" not in run.stderr, run.stderr[:2000]
