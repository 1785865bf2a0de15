"""The checker of an output folder, on files written here (no workspace needed): what the
researcher API wrote is checked exactly; anything else, or anything changed since, is withheld."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from flows.child import notebook_script
from flows.output_checking import RELEASED, WITHHELD, check_outputs
from flows.settings import SPECS_DIR
from researcher import outputs
from specs.codebook import output_checks_markdown
from specs.load import load_spec
from specs.model import OutputChecks, Spec

PSEUDONYMS = pl.Series("person_id", ["abcdefghijklmnopabcd", "ponmlkjihgfedcbaponm"])


@pytest.fixture
def out(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "outputs"
    monkeypatch.setenv(outputs.OUTPUT_VARIABLE, str(folder))
    return folder


def _people(count: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"person_id": [f"p{i:04d}" for i in range(count)], "sex": ["F", "M"] * (count // 2)}
    )


def _checked(out: Path, rules: OutputChecks | None = None) -> dict[str, tuple[str, str]]:
    found = check_outputs(out, PSEUDONYMS, rules or OutputChecks(round_counts_to=1))
    return {c.name: (c.outcome, c.reason) for c in found}


def test_a_table_changed_after_the_api_wrote_it_is_withheld(out):
    path = outputs.save_table(outputs.count_table(_people(40), ["sex"]), "by_sex")
    assert _checked(out)["by_sex.csv"] == (RELEASED, "every cell passes")
    path.write_text(path.read_text().replace("20", "21"))
    assert _checked(out)["by_sex.csv"] == (
        WITHHELD,
        "unchecked: changed after rex's researcher API wrote it",
    )


def test_a_table_whose_counts_are_not_the_recorded_persons_is_withheld(out):
    honest = outputs.count_table(_people(40), ["sex"])
    forged = outputs.CheckedTable(honest.table.with_columns(pl.col("persons") * 10), honest.cells)
    outputs.save_table(forged, "forged")
    assert _checked(out)["forged.csv"][1].startswith("unchecked: its counts are not the persons")


def test_a_file_written_otherwise_is_unchecked_and_withheld(out):
    out.mkdir()
    _people(40).group_by("sex").len().write_csv(out / "by_hand.csv")
    (out / "sub").mkdir()
    (out / "sub" / "notes.txt").write_text("counts look fine")
    checked = _checked(out)
    assert checked["by_hand.csv"] == (
        WITHHELD,
        "unchecked: not written with rex's researcher API (researcher.outputs)",
    )
    assert checked["sub/notes.txt"][0] == WITHHELD


def test_a_pseudonym_anywhere_in_a_file_makes_it_person_level(out):
    out.mkdir()
    (out / "note.md").write_text(f"look at {PSEUDONYMS[0]} again\n")
    assert _checked(out)["note.md"] == (
        WITHHELD,
        "person-level: it names persons of the workspace (1 pseudonyms in its text)",
    )


def test_estimates_need_the_threshold_of_persons_and_of_degrees_of_freedom(out):
    coefficients = pl.DataFrame({"term": ["intercept", "age"], "estimate": [1.5, 0.02]})
    outputs.save_estimates(coefficients, "model_ok", persons=500, residual_dof=498)
    outputs.save_estimates(coefficients, "model_thin", persons=12, residual_dof=3)
    checked = _checked(out)
    assert checked["model_ok.csv"] == (RELEASED, "fitted on 500 persons")
    assert checked["model_thin.csv"] == (
        WITHHELD,
        "fitted on 12 persons with 3 residual degrees of freedom; at least 10 of each are needed",
    )


def test_a_plot_leaves_only_when_its_tables_leave_with_no_cell_suppressed(out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = outputs.save_table(outputs.count_table(_people(40), ["sex"]), "full")
    thin = _people(40).with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(pl.lit("x")).otherwise(pl.lit("y")).alias("g")
    )
    partly = outputs.save_table(outputs.count_table(thin, ["g"]), "partly")
    figure, _ = plt.subplots()
    outputs.save_plot(figure, "from_full", [full])
    outputs.save_plot(figure, "from_partly", [partly])
    outputs.save_plot(figure, "from_nothing", [])
    checked = _checked(out)
    assert checked["from_full.png"] == (RELEASED, "drawn from full.csv")
    assert checked["from_partly.png"] == (
        WITHHELD,
        "drawn from 'partly.csv', of which 1 cells are suppressed",
    )
    assert checked["from_nothing.png"][0] == WITHHELD


def test_a_magnitude_table_by_person_is_person_level(out):
    people = _people(40).with_columns(pl.lit(2.5).alias("days"))
    outputs.save_table(outputs.magnitude_table(people, ["person_id"], "days", "sum"), "per_person")
    outcome, reason = _checked(out)["per_person.csv"]
    assert outcome == WITHHELD and reason.startswith("person-level")


def test_an_unknown_statistic_is_refused_naming_the_expected_ones():
    with pytest.raises(ValueError, match="expected one of sum, mean, median"):
        outputs.magnitude_table(_people(4), ["sex"], "person_id", "mode")


def test_a_notebook_runs_as_its_code_cells_without_magics():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# title"]},
            {"cell_type": "code", "source": ["%matplotlib inline\n", "x = 1\n"]},
            {"cell_type": "code", "source": "!ls\nprint(x)"},
        ]
    }
    assert notebook_script(notebook) == "x = 1\n\nprint(x)\n\n"


def test_18_088_allows_analysis_runs_on_premise_with_the_anchors_defaults():
    spec = load_spec(SPECS_DIR / "18-088.yaml")
    analysis = spec.modes["onprem"].analysis
    assert analysis is not None and analysis.output_checks == OutputChecks()
    assert spec.modes["sample"].analysis is None


def test_analysis_runs_are_for_the_on_premise_mode_only():
    document = yaml.safe_load((SPECS_DIR / "18-088.yaml").read_text())
    document["modes"]["sample"]["analysis"] = {"steward_roles": ["data steward"]}
    with pytest.raises(ValidationError, match="analysis runs are for the on-premise workspace"):
        Spec.model_validate(document)


def test_the_codebook_states_the_specs_output_checks():
    text = output_checks_markdown(OutputChecks(min_persons=7, round_counts_to=1).model_dump())
    assert "a cell of fewer than 7 persons is suppressed" in text
    assert "counts are released as they are" in text
