"""An authorisation that waits on its regulation (13/021 point 29): synthetic test data only."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import yaml

from flows.extract.errors import AuthorisationError
from flows.extract.export import sample_export
from flows.runtime.settings import Paths
from flows.stores import audit_read
from specs.sources import STORE_MANIFEST

IN_FORCE = {"since": "2020-01-01", "test_data_delete_by": "2020-03-31"}


def _spec(world, tmp_path, in_force):
    document = yaml.safe_load(world["spec"].read_text())
    document["in_force"] = in_force
    path = tmp_path / "e2e.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _paths(world, tmp_path) -> Paths:
    return Paths(data=tmp_path / "data", key_store=world["paths"].key_store)


def test_before_the_regulation_a_run_on_synthetic_data_is_a_test_with_the_test_deadline(
    world, tmp_path
):
    spec = _spec(world, tmp_path, IN_FORCE)
    result = sample_export(spec, dt.date(2019, 12, 1), _paths(world, tmp_path), world["store"])
    assert result.manifest.test_run is True
    assert result.manifest.delete_by == dt.date(2020, 3, 31)


def test_once_in_force_a_run_is_no_test_and_keeps_the_modes_deadline(world, tmp_path):
    spec = _spec(world, tmp_path, IN_FORCE)
    result = sample_export(spec, dt.date(2020, 6, 30), _paths(world, tmp_path), world["store"])
    assert result.manifest.test_run is False
    assert result.manifest.delete_by == dt.date(2020, 12, 31)


def test_before_the_regulation_a_store_not_known_as_synthetic_is_refused_and_logged(
    world, tmp_path
):
    store = tmp_path / "sources"
    shutil.copytree(world["store"], store)
    (store / STORE_MANIFEST).unlink()
    paths = _paths(world, tmp_path)
    spec = _spec(world, tmp_path, IN_FORCE)
    with pytest.raises(AuthorisationError, match="only synthetic test data may be processed"):
        sample_export(spec, dt.date(2019, 12, 1), paths, store)
    assert audit_read.read(paths.audit_log)[-1]["event"] == "refusal"
    assert not paths.releases.exists()


def test_while_the_regulation_has_not_taken_effect_test_runs_end_at_their_deadline(world, tmp_path):
    spec = _spec(world, tmp_path, {"since": None, "test_data_delete_by": "2020-03-31"})
    with pytest.raises(AuthorisationError, match="test runs of deliberation 18/088 ended on"):
        sample_export(spec, dt.date(2020, 6, 30), _paths(world, tmp_path), world["store"])


def test_the_generator_marks_its_store_as_synthetic(world):
    described = json.loads((world["store"] / STORE_MANIFEST).read_text())
    assert described["synthetic"] is True and described["persons"] > 0
