"""Test-session setup: every path a run writes goes to a temporary folder, never to data/ or ~."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="rex-tests-"))
atexit.register(shutil.rmtree, _SESSION_ROOT, ignore_errors=True)
os.environ["REX_DATA_DIR"] = str(_SESSION_ROOT / "data")
os.environ["REX_KEY_STORE"] = str(_SESSION_ROOT / "keys")

import datetime as dt  # noqa: E402

from flows.runtime.settings import Paths, quiet_libraries  # noqa: E402

quiet_libraries(_SESSION_ROOT / "data")

HERE = Path(__file__).parent

# The generated world that the end-to-end tests and the notebook test share.
WORLD_PERSONS = 3_000
WORLD_SAMPLE = 200
WORLD_AS_OF = dt.date(2020, 6, 30)


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (starting one costs seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.runtime.prefect_server import stop_prefect_background

    with prefect_test_harness(server_startup_timeout=90):
        yield
    # as the command line does after its flows: nothing of them outlives the session
    stop_prefect_background()


@pytest.fixture
def paths(tmp_path) -> Paths:
    """Fresh data folder and key store for one test."""
    return Paths(data=tmp_path / "data", key_store=tmp_path / "keys")


def spec_variant(folder: Path, project: str, sample_persons: int, **period: str) -> Path:
    """18/088 with another project key, sample size or period: the variants the tests run."""
    import yaml

    from flows.runtime.settings import SPECS_DIR

    document = yaml.safe_load((SPECS_DIR / "18-088.yaml").read_text())
    document["project"] = project
    document["modes"]["sample"]["persons"] = sample_persons
    document["period"].update(period)
    path = folder / f"{project}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def world(tmp_path_factory, prefect_harness):
    """A source store, a key, and one published sample and on-premise release (built once)."""
    from flows.extract.export import onprem_build, sample_export
    from flows.stores.keys import create_key
    from synthetic.generate import generate

    root = tmp_path_factory.mktemp("world")
    store = root / "sources"
    generate(WORLD_PERSONS, 7, store)
    paths = Paths(data=root / "data", key_store=root / "keys")
    spec = spec_variant(root, "e2e", WORLD_SAMPLE)
    create_key(paths.key_store, "e2e")
    sample = sample_export(spec, WORLD_AS_OF, paths, store)
    onprem = onprem_build(spec, WORLD_AS_OF, paths, store)
    return dict(root=root, store=store, paths=paths, spec=spec, sample=sample, onprem=onprem)


def copy_audit_key(source: Paths, target: Paths) -> None:
    """Give the audit log copied from `source` to `target` its audit key: a key is found by
    the path of the log it keys (flows.stores.audit_files.Log.key_file), so a copied log needs
    it copied under its own name, as an operator who moves the data folder renames it."""
    target.key_store.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy2(source.audit_log.key_file, target.audit_log.key_file)


def rex_in_a_fresh_process(
    data: Path, key_store: Path, *arguments: str, **settings: str
) -> subprocess.CompletedProcess:
    """`rex ARGUMENTS` in a fresh process as a data steward starts it, in the folder above
    `data`: its own data folder (and so its own PREFECT_HOME and, unless `settings` give
    PREFECT_API_URL, its own temporary server) and key store."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")
    }
    environment |= {
        "PYTHONPATH": str(Path(__file__).parent.parent),
        "REX_DATA_DIR": str(data),
        "REX_KEY_STORE": str(key_store),
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *arguments],
        env=environment,
        cwd=data.parent,
        capture_output=True,
        text=True,
        timeout=180,
    )
