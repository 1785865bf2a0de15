"""Source stores are never lost: `rex synth` and `rex demo` replace only a synthetic store rex made,
only when asked, in one step, and touch nothing beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from specs.sources import STORE_MANIFEST
from synthetic import generate as synth

PERSONS = 40


def _store(folder: Path, seed: int) -> Path:
    synth.generate(PERSONS, seed, folder)
    return folder


def _seed_of(store: Path) -> int:
    return json.loads((store / STORE_MANIFEST).read_text())["seed"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_synth_refuses_a_folder_that_is_not_a_store(tmp_path):
    data = tmp_path / "data"
    (data / "audit").mkdir(parents=True)
    (data / "audit" / "audit.jsonl").write_text("{}\n")
    before = _tree(data)
    with pytest.raises(synth.StoreRefused, match="no store.json"):
        synth.generate(PERSONS, 1, data)
    result = CliRunner().invoke(app, ["synth", "--persons", "10", "--out", str(data)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and str(data) in result.output
    assert _tree(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no staging left beside it


def test_synth_refuses_a_store_without_store_json_even_with_replace(tmp_path):
    store = _store(tmp_path / "store", 1)
    (store / STORE_MANIFEST).unlink()  # a store that does not say it is synthetic: real data
    before = _tree(store)
    result = CliRunner().invoke(app, ["synth", "--persons", "10", "--replace", "--out", str(store)])
    assert result.exit_code == 2 and "real data" in result.output
    assert _tree(store) == before


def test_synth_replaces_a_synthetic_store_only_when_asked(tmp_path):
    store = _store(tmp_path / "store", 1)
    before = _tree(store)
    refused = CliRunner().invoke(app, ["synth", "--persons", "10", "--out", str(store)])
    assert refused.exit_code == 2 and "--replace" in refused.output
    assert _tree(store) == before
    replaced = CliRunner().invoke(
        app, ["synth", "--persons", "10", "--seed", "2", "--replace", "--out", str(store)]
    )
    assert replaced.exit_code == 0, replaced.output
    assert _seed_of(store) == 2


def test_synth_writes_into_an_empty_folder(tmp_path):
    (tmp_path / "store").mkdir()
    synth.generate(PERSONS, 1, tmp_path / "store")
    assert _seed_of(tmp_path / "store") == 1


def test_synth_replace_touches_nothing_beside_the_store(tmp_path):
    store = _store(tmp_path / "store", 1)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "table.parquet").write_bytes(b"PAR1")
    synth.generate(PERSONS, 2, store, replace=True)
    assert _seed_of(store) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other", "store"]
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert _tree(tmp_path / "other") == {"table.parquet": b"PAR1"}


def test_synth_replace_that_fails_at_the_swap_keeps_the_old_store(tmp_path, monkeypatch):
    store = _store(tmp_path / "store", 1)
    before = _tree(store)
    real_rename = Path.rename

    def rename(self: Path, target):
        # the new store moving in (the old one has been moved aside): a crash at that instant
        if Path(target) == store and not self.name.startswith(".store.old-"):
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError):
        synth.generate(PERSONS, 2, store, replace=True)
    assert _tree(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_demo_refuses_a_source_store_without_store_json(tmp_path, monkeypatch):
    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    sources = _store(tmp_path / "data" / "synthetic", 1)
    (sources / STORE_MANIFEST).unlink()
    before = _tree(sources)
    result = CliRunner().invoke(app, ["demo", "--persons", "10"])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert str(sources) in line and "store.json" in line and "real data" in line
    assert _tree(sources) == before
    assert not (tmp_path / "keys").exists()  # refused before anything else was made


def test_demo_help_says_which_store_it_uses():
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert "--replace" in result.output and "store.json" in result.output


def test_demo_keeps_a_synthetic_store_of_another_size_unless_asked(
    tmp_path, monkeypatch, prefect_harness
):
    from flows.cli.demo import DEMO_SEED

    monkeypatch.setenv("REX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REX_KEY_STORE", str(tmp_path / "keys"))
    sources = _store(tmp_path / "data" / "synthetic", 1)
    before = _tree(sources)
    kept = CliRunner().invoke(app, ["demo", "--persons", "10"])
    assert f"using the synthetic store {sources} ({PERSONS} persons, seed 1)" in kept.output
    assert _tree(sources) == before
    CliRunner().invoke(app, ["demo", "--persons", "10", "--replace"])
    assert json.loads((sources / STORE_MANIFEST).read_text())["persons"] == 10
    assert _seed_of(sources) == DEMO_SEED
