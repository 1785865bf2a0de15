"""Specs: 18/088 reads as itself; a bad spec is refused with the file, the field and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.runtime.settings import SPECS_DIR
from specs.catalog import VARIABLES, Kind
from specs.load import SpecError, load_spec
from specs.modes import ModeName

SPEC_18_088 = SPECS_DIR / "18-088.yaml"
SPEC_18_088_PART_ONE = SPECS_DIR / "18-088-part1.yaml"


def write_variant(tmp_path: Path, change) -> Path:
    document = yaml.safe_load(SPEC_18_088.read_text())
    change(document)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_18_088_states_its_period_sample_and_deadlines():
    spec = load_spec(SPEC_18_088)
    assert spec.deliberation == "18/088"
    assert (spec.period.from_, spec.period.until) == ("2003-01", "2015-12")
    sample, onprem = spec.modes[ModeName.SAMPLE], spec.modes[ModeName.ONPREM]
    assert sample.persons == 10_000 and onprem.persons is None
    assert str(sample.delete_by) == "2020-12-31" and str(onprem.delete_by) == "2021-12-31"
    assert sample.protect.amounts == "classes" and sample.protect.dates == "month"
    assert sample.protect.nationality == "scramble"
    assert onprem.protect.amounts == "exact"


@pytest.mark.parametrize("path", [SPEC_18_088, SPEC_18_088_PART_ONE], ids=["part2", "part1"])
def test_18_088_gives_classes_for_every_amount_it_requests(path):
    spec = load_spec(path)
    amounts = {n for n in spec.variables.all() if VARIABLES[n].kind is Kind.AMOUNT}
    assert amounts and amounts == set(spec.classes)


def _named_in(group_prefix: str) -> set[str]:
    """The catalog variables that 18/088 names in the groups of one point."""
    return {
        v.name
        for v in VARIABLES.values()
        if any(s.deliberation == "18/088" and s.group.startswith(group_prefix) for s in v.seeds)
    }


# Point 8 asks for "every job of a quarter and its characteristics" besides the named variables:
# the job lines' paid days and start date are such characteristics.
JOB_CHARACTERISTICS = {"paid_days", "occupation_start"}


def test_18_088_part_two_names_every_variable_of_point_8_and_nothing_else():
    requested = set(load_spec(SPEC_18_088).variables.all())
    assert requested - JOB_CHARACTERISTICS == _named_in("8:")


def test_18_088_part_one_names_every_variable_of_point_6_for_the_sample_only():
    spec = load_spec(SPEC_18_088_PART_ONE)
    assert set(spec.variables.all()) == _named_in("6:")
    assert set(spec.modes) == {ModeName.SAMPLE}
    assert str(spec.modes[ModeName.SAMPLE].delete_by) == "2020-12-31"
    assert (spec.period.from_, spec.period.until) == ("2003-01", "2015-12")
    # the original sample: another project key than part two's new sample
    assert spec.project != load_spec(SPEC_18_088).project


def test_a_variable_declared_but_not_built_is_refused(tmp_path):
    path = write_variant(tmp_path, lambda d: d["variables"]["quarter"].append("birth_place"))
    with pytest.raises(SpecError, match="'birth_place' is declared in the catalog but not built"):
        load_spec(path)


def test_18_088_requests_variables_at_every_granularity():
    spec = load_spec(SPEC_18_088)
    assert spec.variables.month and spec.variables.quarter and spec.variables.year


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["variables"]["month"].append("shoe_size"),
            r"variant\.yaml: field 'variables': unknown variable 'shoe_size' under 'month'; "
            r"known month variables: .*socio_economic_position",
        ),
        (
            lambda d: d["variables"]["month"].append("birth_date"),
            "variable 'birth_date' is a quarter variable, not a month one",
        ),
        (
            lambda d: d["modes"]["sample"]["protect"].update(amounts="rounded"),
            r"field 'modes\.sample\.protect\.amounts': 'rounded' is not allowed; "
            r"allowed: 'classes' or 'exact'",
        ),
        (
            lambda d: d["modes"]["sample"]["protect"].update(names="hidden"),
            r"field 'modes\.sample\.protect\.names' is not allowed here",
        ),
        (
            lambda d: d["valid"].update({"until": "2021-13-45"}),
            r"field 'valid\.until': Input should be a valid date",
        ),
        (
            lambda d: d["period"].update({"from": "2003/01"}),
            r"field 'period\.from': expected a month written YYYY-MM, got '2003/01'",
        ),
        (lambda d: d.pop("recipient"), r"field 'recipient' is missing"),
        (
            lambda d: d["classes"].pop("daily_wage"),
            "mode 'sample' puts amounts in classes but no classes are given for: daily_wage",
        ),
        (
            lambda d: d["classes"].update(daily_wage=[80, 60]),
            "class edges of 'daily_wage' must be strictly increasing",
        ),
        (
            lambda d: d["modes"].update(cloud={"protect": {}, "delete_by": "2020-01-01"}),
            r"field 'modes\.cloud\.\[key\]'",
        ),
    ],
)
def test_bad_spec_is_refused_naming_file_field_and_rule(tmp_path, change, expected):
    with pytest.raises(SpecError, match=expected):
        load_spec(write_variant(tmp_path, change))


def test_malformed_yaml_is_refused_with_its_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("deliberation: '18/088'\nvariables: [month: \n  - x\n")
    with pytest.raises(SpecError, match=r"broken\.yaml: not valid YAML at line \d+"):
        load_spec(path)


def test_spec_check_command_accepts_18_088():
    result = CliRunner().invoke(app, ["spec", "check", str(SPEC_18_088)])
    assert result.exit_code == 0, result.output
    assert "deliberation 18/088" in result.output and "mode sample: 10,000 persons" in result.output


def test_spec_check_command_refuses_a_bad_spec_with_exit_code_2(tmp_path):
    path = write_variant(tmp_path, lambda d: d["variables"]["year"].append("iq"))
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 2
    assert "unknown variable 'iq' under 'year'" in result.output
