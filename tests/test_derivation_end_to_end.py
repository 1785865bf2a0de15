"""The derivation audit end to end: the released 18/088 sample against the on-premise build of
the same store (the shared `world` of tests.conftest)."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml

from flows.extract.export import sample_export
from flows.runtime.settings import Paths
from flows.stores import audit_read
from specs.patterns import class_labels
from tests.conftest import WORLD_AS_OF
from transforms.classes import to_classes
from transforms.derivation_audit import DerivationRefused

DAILY_WAGE_EDGES = [60, 80, 100, 120, 140, 160, 180, 200, 250, 300]
WAGE_CLASS_STEP = 1.25


def manifest(result) -> dict:
    return json.loads((result.folder / "manifest.json").read_text())


def audit_of(result) -> dict[tuple[str, tuple[str, ...]], dict]:
    return {
        (f["variable"], tuple(f["recomputed_by"])): f for f in manifest(result)["derivation_audit"]
    }


def test_the_sample_releases_wage_class_in_the_daily_wage_classes_only(world):
    jobs = pl.read_parquet(world["sample"].folder / "quarter_job.parquet")
    assert jobs.height > 0
    assert jobs["wage_class"].dtype == pl.String
    assert set(jobs["wage_class"].unique()) <= set(class_labels(DAILY_WAGE_EDGES))
    # what an attacker gets from a released wage class: a number to compute with, or nothing
    middle = (jobs["wage_class"].cast(pl.Float64, strict=False) - 0.5) * WAGE_CLASS_STEP
    finer_than_its_class = middle.is_not_null() & jobs["daily_wage"].is_not_null()
    assert not finer_than_its_class.any()
    # where both are given they say the same class: wage_class adds nothing to daily_wage
    both = jobs.filter(pl.col("daily_wage").is_not_null())
    assert (both["wage_class"] == both["daily_wage"]).mean() > 0.99


def test_on_the_on_premise_build_the_wage_class_falls_in_the_class_of_the_daily_wage(world):
    # the exact values of the same store: the class the sample gives a wage class is the class of
    # its daily wage, so the release's wage class is no finer than its daily wage
    jobs = pl.read_parquet(world["onprem"].folder / "quarter_job.parquet").filter(
        pl.col("daily_wage").is_not_null() & (pl.col("wage_class") < 500)
    )
    assert jobs.height > 0
    lower = (pl.col("wage_class") - 1).clip(lower_bound=0) * WAGE_CLASS_STEP
    classed = jobs.select(
        to_classes(lower, DAILY_WAGE_EDGES).alias("of_wage_class"),
        to_classes(pl.col("daily_wage"), DAILY_WAGE_EDGES).alias("of_daily_wage"),
    )
    assert (classed["of_wage_class"] == classed["of_daily_wage"]).mean() > 0.99


def test_the_sample_manifest_reports_the_audit_with_the_accepted_day_counts(world):
    found = audit_of(world["sample"])
    wages = found[("daily_wage", ("wage_class",))]
    assert wages["rows"] > 0 and wages["recomputable_rows"] == 0 and wages["accepted"] is None
    assert found[("job_gross_wage", ("wage_class", "paid_days"))]["recomputable_rows"] == 0
    days = found[("incapacity_start", ("incapacity_days",))]
    assert days["panel"] == "month" and days["protection"] == "month"
    assert days["recomputable_rows"] > 0
    assert days["share"] == round(days["recomputable_rows"] / days["rows"], 6)
    assert days["accepted"]["point"].startswith("point 8")
    ends = found[("incapacity_end", ("incapacity_days",))]
    assert ends["accepted"]["point"].startswith("point 8")
    assert manifest(world["onprem"])["derivation_audit"] == []


def test_the_codebook_states_the_derived_protections(world):
    book = json.loads((world["sample"].folder / "codebook.json").read_text())
    jobs = {c["name"]: c for c in book["quarter_job"]["columns"]}
    assert jobs["wage_class"]["derived_from"] == "daily_wage"
    months = {c["name"]: c for c in book["month"]["columns"]}
    assert months["incapacity_days"]["accepted_derivation"].startswith("point 8")


def test_an_unaccepted_derivation_refuses_the_release_and_logs_the_refusal(world, tmp_path):
    # the spec accepts the day counts together with another column, which is not what the
    # release gives them back by: the audit finds an unaccepted derivation
    document = yaml.safe_load(world["spec"].read_text())
    document["accepted_derivations"][0]["by"] = ["incapacity_days", "incapacity_end"]
    spec = tmp_path / "e2e.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    with pytest.raises(DerivationRefused, match="incapacity_start \\(month\\) is given back by"):
        sample_export(spec, WORLD_AS_OF, paths, world["store"])
    assert not paths.releases.exists() or not any(paths.releases.rglob("*"))
    entry = audit_read.read(paths.audit_log)[-1]
    assert entry["event"] == "refusal" and "incapacity_days" in entry["reason"]
