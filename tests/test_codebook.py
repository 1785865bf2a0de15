"""The codebook documents every released column, as the release holds it."""

from __future__ import annotations

from flows.runtime.settings import SPECS_DIR
from specs.catalog import PANELS, Granularity
from specs.codebook import codebook, codebook_markdown
from specs.load import load_spec
from specs.modes import ModeName
from specs.release import released_panels

SPEC = load_spec(SPECS_DIR / "18-088.yaml")
PERIODS = {
    Granularity.MONTH: ["2003-01"],
    Granularity.QUARTER: ["2003-Q1"],
    Granularity.YEAR: [1960, 2015],
}


def book(mode: ModeName):
    return codebook(released_panels(SPEC, SPEC.modes[mode], PERIODS))


def entry(mode: ModeName, panel: str, column: str) -> dict:
    return next(c for c in book(mode)[panel]["columns"] if c["name"] == column)


def test_codebook_lists_keys_and_every_requested_variable_per_panel():
    for panel, content in book(ModeName.SAMPLE).items():
        names = [c["name"] for c in content["columns"]]
        assert names == [*PANELS[panel].keys, *SPEC.variables_of_panel(panel)]
        assert all(c["meaning"] and c["type"] for c in content["columns"])


def test_codebook_gives_classes_in_sample_mode_and_units_on_premise():
    sample = entry(ModeName.SAMPLE, "quarter_job", "daily_wage")
    assert sample["protection"] == "classes" and sample["type"] == "VARCHAR"
    assert sample["classes"][0] == "<60" and sample["classes"][-1] == ">=300"
    onprem = entry(ModeName.ONPREM, "quarter_job", "daily_wage")
    assert onprem["type"] == "DOUBLE" and onprem["unit"] == "euro per day"
    assert "classes" not in onprem


def test_codebook_says_dates_are_months_in_sample_mode():
    birth = entry(ModeName.SAMPLE, "quarter", "birth_date")
    assert birth["protection"] == "month" and birth["unit"] == "month, YYYY-MM"
    assert entry(ModeName.ONPREM, "quarter", "birth_date")["type"] == "DATE"


def test_codebook_labels_codes_and_names_the_deliberations_term():
    sex = entry(ModeName.SAMPLE, "quarter", "sex")
    assert sex["codes"] == {"M": "man", "F": "woman"}
    assert sex["deliberation_name"] == "het geslacht"
    assert entry(ModeName.SAMPLE, "quarter", "nationality")["protection"] == "scrambled"


def test_codebook_markdown_has_a_row_per_column():
    text = codebook_markdown("18/088", book(ModeName.SAMPLE))
    for panel, content in book(ModeName.SAMPLE).items():
        assert f"## {panel}" in text
        assert all(f"| {c['name']} |" in text for c in content["columns"])
