"""Test-session setup: every path a run writes goes to a temporary folder, never to data/ or ~."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="rex-tests-"))
atexit.register(shutil.rmtree, _SESSION_ROOT, ignore_errors=True)
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


def spec_variant(folder: Path, project: str, sample_persons: int, **period: str) -> Path:
    """18/088 with another project key, sample size or period: the variants the tests run."""
    import yaml

    from flows.settings import SPECS_DIR

    document = yaml.safe_load((SPECS_DIR / "18-088.yaml").read_text())
    document["project"] = project
    document["modes"]["sample"]["persons"] = sample_persons
    document["period"].update(period)
    path = folder / f"{project}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
