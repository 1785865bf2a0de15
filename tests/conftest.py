"""Test-session setup: every path a run writes goes to a temporary folder, never to data/ or ~."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="rex-tests-"))
os.environ["REX_DATA_DIR"] = str(_SESSION_ROOT / "data")
os.environ["REX_KEY_STORE"] = str(_SESSION_ROOT / "keys")

from flows.settings import Paths, quiet_libraries  # noqa: E402

quiet_libraries(_SESSION_ROOT / "data")

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (starting one costs seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def paths(tmp_path) -> Paths:
    """Fresh data folder and key store for one test."""
    return Paths(data=tmp_path / "data", key_store=tmp_path / "keys")
