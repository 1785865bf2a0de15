"""The checker of an output folder, on files written here (no workspace needed): what the
researcher API wrote is checked exactly; anything else, or anything changed since, is withheld."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from flows.analysis.child import notebook_script
from flows.analysis.output_checking import RELEASED, WITHHELD, Persons, Workspace, check_outputs
from flows.runtime.settings import SPECS_DIR
from researcher import outputs
from specs.codebook import output_checks_markdown
from specs.load import load_spec
from specs.model import Spec
from specs.modes import OutputChecks
from transforms.identifiers import HEX_DIGITS, PSEUDONYM_LETTER_SET, WIDTH

LETTERS = str.maketrans(HEX_DIGITS, PSEUDONYM_LETTER_SET)
PSEUDONYMS = pl.Series(
    "person_id",
    [hashlib.sha256(str(i).encode()).hexdigest()[:WIDTH].translate(LETTERS) for i in range(60)],
)


@pytest.fixture
def out(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "outputs"
    monkeypatch.setenv(outputs.OUTPUT_VARIABLE, str(folder))
    monkeypatch.setenv(outputs.ONPREM_VARIABLE, "1")
    return folder


@pytest.fixture
def panel(tmp_path) -> pl.LazyFrame:
    """A workspace of one panel: 60 persons, their sex, group and wage."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    pl.DataFrame(
        {
            "person_id": PSEUDONYMS,
            "sex": ["F", "M"] * 30,
            "group": ["a"] * 57 + ["b"] * 3,
            "wage": [1_000.0 + 10 * i for i in range(60)],
            "one": [1.0] * 60,
        }
    ).write_parquet(folder / "people.parquet")
    return pl.scan_parquet(folder / "people.parquet")


def _checked(
    out: Path, panel: pl.LazyFrame, rules: OutputChecks | None = None, ledger=None
) -> dict[str, tuple[str, str]]:
    path = Path(_scanned(panel))
    workspace = Workspace({path.name: path}, Persons(PSEUDONYMS), str(path.parent))
    found, _ = check_outputs(out, workspace, rules or OutputChecks(round_counts_to=1), ledger)
    return {c.name: (c.outcome, c.reason) for c in found}


def _scanned(panel: pl.LazyFrame) -> str:
    import json

    plan = json.loads(outputs.plan_of(panel))
    return plan["Scan"]["sources"]["Paths"][0]["inner"]


def test_rex_makes_the_table_itself_and_nothing_the_code_computed_counts(out, panel):
    declared = outputs.count_table(panel, ["sex"])
    # on premise the API writes only the declaration; the code's own result stays with it
    outputs.save_table(declared, "by_sex")
    assert not (out / "by_sex.csv").exists()
    assert _checked(out, panel)["by_sex.csv"] == (RELEASED, "every cell passes")


def test_a_file_the_code_wrote_is_unchecked_whatever_it_says_of_itself(out, panel):
    out.mkdir()
    panel.collect().group_by("sex").len().write_csv(out / "by_hand.csv")
    (out / outputs.REQUESTS).mkdir()
    (out / outputs.REQUESTS / "forged.csv.json").write_text('{"kind": "table", "cells": 100}')
    (out / "forged.csv").write_text("sex,persons\nF,100\n")
    checked = _checked(out, panel)
    assert checked["by_hand.csv"] == (
        WITHHELD,
        "unchecked: written by the code, not computed by rex: only a reviewer may let it out",
    )
    assert checked["forged.csv"][0] == WITHHELD


def test_a_pseudonym_anywhere_in_a_file_makes_it_person_level(out, panel):
    out.mkdir()
    (out / "note.md").write_text(f"look at {PSEUDONYMS[0]} again\n")
    assert _checked(out, panel)["note.md"] == (
        WITHHELD,
        "person-level: it names persons of the workspace (1 pseudonyms in its text)",
    )


def test_rex_fits_the_models_and_measures_persons_and_predictors_itself(out, panel):
    outputs.save_table(outputs.model(panel, "wage", ["sex"]), "by_sex")
    # a dummy for one person: intercept plus its coefficient would be her wage
    singled = panel.with_columns((pl.col("person_id") == PSEUDONYMS[0]).alias("target"))
    outputs.save_table(outputs.model(singled, "wage", ["sex", "target"]), "singled")
    few = panel.filter(pl.col("person_id").is_in(PSEUDONYMS.head(8).implode()))
    outputs.save_table(outputs.model(few, "wage", ["sex"]), "thin")
    checked = _checked(out, panel)
    assert checked["by_sex.csv"] == (RELEASED, "fitted by rex on 60 persons")
    assert checked["singled.csv"] == (
        WITHHELD,
        "1 of its predictors single out fewer than 10 persons (their coefficients would be "
        "those persons' values)",
    )
    assert checked["thin.csv"][1].startswith("fitted by rex on 8 persons")


def test_a_plot_is_drawn_by_rex_and_a_figure_of_the_codes_is_unchecked(out, panel):
    import matplotlib.pyplot as plt

    table = outputs.count_table(panel, ["sex"])
    outputs.save_plot(outputs.line_plot(table, "sex", "persons"), "drawn")
    figure, _ = plt.subplots()
    outputs.save_figure(figure, "own")
    checked = _checked(out, panel)
    assert checked["drawn.png"] == (RELEASED, "drawn by rex from its table as it may leave")
    assert checked["own.png"][1].startswith("unchecked: written by the code")


def test_a_magnitude_table_by_person_is_person_level(out, panel):
    outputs.save_table(outputs.magnitude_table(panel, ["person_id"], "wage", "sum"), "per_person")
    outcome, reason = _checked(out, panel)["per_person.csv"]
    assert outcome == WITHHELD and reason.startswith("person-level")


def test_a_query_with_python_in_it_is_not_run(out, panel):
    udf = panel.with_columns(pl.col("wage").map_elements(lambda w: w * 2, return_dtype=pl.Float64))
    outputs.save_table(outputs.magnitude_table(udf, ["sex"], "wage", "mean"), "udf")
    memory = pl.LazyFrame({"person_id": PSEUDONYMS, "sex": ["F"] * 60})
    outputs.save_table(outputs.count_table(memory, ["sex"]), "memory")
    checked = _checked(out, panel)
    assert checked["udf.csv"][1].startswith("unchecked: rex cannot run its declared query")
    assert "Python" in checked["udf.csv"][1]
    assert checked["memory.csv"][1].startswith("unchecked: rex cannot run its declared query")


def test_an_unknown_statistic_is_refused_naming_the_expected_ones(panel):
    with pytest.raises(ValueError, match="or one of sum, mean, median"):
        outputs.magnitude_table(panel, ["sex"], "wage", "mode")


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
    document["modes"]["sample"]["analysis"] = {"reviewer_roles": ["data steward"]}
    with pytest.raises(ValidationError, match="analysis runs are for the on-premise workspace"):
        Spec.model_validate(document)


def test_the_codebook_states_the_specs_output_checks():
    text = output_checks_markdown(OutputChecks(min_persons=7, round_counts_to=1).model_dump())
    assert "a cell of fewer than 7 persons is suppressed" in text
    assert "counts are released as they are" in text


def test_a_query_that_moves_one_persons_value_into_other_persons_rows_is_not_run(out, panel):
    """Every cell would hold many persons carrying one person's wage: the mean would be it."""
    target = pl.col("person_id") == PSEUDONYMS[7]
    broadcast = panel.with_columns(pl.col("wage").filter(target).first().alias("wage"))
    crossed = panel.drop("wage").join(panel.filter(target).select("wage"), how="cross")
    shifted = panel.sort("wage").with_columns(pl.col("wage").shift(1))
    # the target's rows exploded under other persons' pseudonyms
    others = PSEUDONYMS.slice(10, 20).to_list()
    copied = (
        panel.filter(target).with_columns(pl.lit(others).alias("person_id")).explode("person_id")
    )
    invented = panel.with_columns(pl.format("x{}", "person_id").alias("person_id"))
    for name, query in (
        ("broadcast", broadcast),
        ("crossed", crossed),
        ("shifted", shifted),
        ("copied", copied),
        ("invented", invented),
    ):
        outputs.save_table(outputs.magnitude_table(query, ["sex"], "wage", "mean"), name)
    checked = _checked(out, panel)
    for name in ("broadcast", "crossed", "shifted", "copied"):
        outcome, reason = checked[f"{name}.csv"]
        assert outcome == WITHHELD, name
        assert reason.startswith("unchecked: rex cannot run its declared query"), name
        assert "other persons" in reason, name
    assert "no person of the workspace" in checked["invented.csv"][1]


def test_a_query_per_person_passes_whatever_it_does_within_a_person(out, panel):
    per_person = panel.group_by("person_id").agg(pl.col("sex").first(), pl.col("wage").sum())
    joined = per_person.join(panel.select("person_id", "group"), on="person_id")
    windowed = joined.with_columns(pl.col("wage").max().over("person_id").alias("top"))
    outputs.save_table(outputs.magnitude_table(windowed, ["sex"], "top", "mean"), "per_person")
    assert _checked(out, panel)["per_person.csv"][0] != WITHHELD


def test_a_declaration_counting_by_another_column_than_the_person_is_refused(out, panel):
    rows = panel.with_columns(pl.int_range(pl.len()).cast(pl.String).alias("row"))
    outputs.save_table(outputs.count_table(rows, ["group"], person="row"), "rows_as_persons")
    reason = _checked(out, panel)["rows_as_persons.csv"][1]
    assert reason == (
        "unchecked: rex cannot run its declared query: persons are counted by the workspace's "
        "person_id"
    )


@pytest.mark.parametrize(
    "plan",
    [
        "not json",
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 900 + "1" + "}" * 900,
        '{"Scan": {"sources": {"Paths": [{"inner": "/workspace/../keys/project.key"}]}, '
        '"scan_type": {"Parquet": {}}}}',
        '{"Scan": {"sources": {"Paths": [{"inner": "/workspace/*.parquet"}]}, '
        '"scan_type": {"Parquet": {}}}}',
        '{"Scan": {"sources": {"Buffers": [[1, 2, 3, 4]]}, "scan_type": {"Parquet": {}}}}',
        '{"Scan": {"sources": {"Paths": [{"inner": "/workspace/people.parquet"}]}, '
        '"scan_type": {"Csv": {}}}}',
        '{"PythonScan": {"options": {}}}',
        '{"Sink": {"input": {}, "payload": {}}}',
    ],
)
def test_a_declaration_the_code_wrote_by_hand_is_checked_as_any_other(out, panel, plan):
    import json

    folder = out / outputs.REQUESTS
    folder.mkdir(parents=True)
    request = {
        "format": outputs.FORMAT,
        "output": "by_hand.csv",
        "kind": "table",
        "statistic": "count",
        "by": ["sex"],
        "person": "person_id",
        "plan": plan.replace("/workspace", _workspace_folder(panel)),
    }
    (folder / "by_hand.csv.json").write_text(json.dumps(request))
    outcome, reason = _checked(out, panel)["by_hand.csv"]
    assert outcome == WITHHELD
    assert reason.startswith("unchecked: rex cannot run its declared query"), reason


def _workspace_folder(panel: pl.LazyFrame) -> str:
    return str(Path(_scanned(panel)).parent)


def test_declared_levels_held_by_nobody_are_the_codes_text_and_go_to_a_reviewer(out, panel):
    """A zero row's label is the code's choice: a number outside the data's values, or free
    text, could carry anything it read."""
    secret = '{"wage": 41567.84}'
    outputs.save_table(
        outputs.count_table(panel, ["sex"], levels={"sex": ["F", "M", secret]}), "text_level"
    )
    years = panel.with_columns((pl.col("wage") // 500).cast(pl.Int64).alias("band"))
    outputs.save_table(
        outputs.count_table(years, ["band"], levels={"band": [2, 3, 41567]}), "number_level"
    )
    outputs.save_table(
        outputs.count_table(years, ["band"], levels={"band": [2, 3]}), "levels_within"
    )
    checked = _checked(out, panel, OutputChecks(zeros="release", round_counts_to=1))
    assert "1 free texts" in checked["text_level.csv"][1]
    assert "levels outside its values" in checked["number_level.csv"][1]
    assert checked["levels_within.csv"][0] != WITHHELD
