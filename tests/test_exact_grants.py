"""Exact values leave the premises only where the deliberation grants them, cited in the spec."""

from __future__ import annotations

import pytest
import yaml

from flows.runtime.settings import SPECS_DIR
from specs.load import SpecError, load_spec

GRANT = {"reference": "point 7", "reason": "the recipient checks the amounts as declared"}


def _variant(tmp_path, source: str, change) -> object:
    document = yaml.safe_load((SPECS_DIR / source).read_text())
    change(document)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _sample_amounts_exact(document, grant=None):
    document["modes"]["sample"]["protect"]["amounts"] = "exact"
    if grant is not None:
        document["modes"]["sample"]["exact_grants"] = {"amounts": grant}


def test_a_sample_with_exact_amounts_and_no_grant_is_refused_naming_file_mode_and_field(tmp_path):
    path = _variant(tmp_path, "18-088.yaml", _sample_amounts_exact)
    with pytest.raises(SpecError) as refused:
        load_spec(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert "mode 'sample' leaves the premises with 'protect.amounts' exact" in message
    assert "modes.sample.exact_grants.amounts" in message


def test_a_sample_with_exact_amounts_loads_when_the_spec_cites_the_grant(tmp_path):
    path = _variant(tmp_path, "18-088.yaml", lambda d: _sample_amounts_exact(d, GRANT))
    spec = load_spec(path)
    assert spec.modes["sample"].exact_grants["amounts"].reference == "point 7"


def test_the_onprem_build_keeps_exact_values_without_a_grant():
    onprem = load_spec(SPECS_DIR / "18-088.yaml").modes["onprem"]
    assert onprem.protect.amounts == "exact" and onprem.exact_grants == {}


@pytest.mark.parametrize("field", ["amounts", "dates", "nationality"])
def test_a_control_mode_without_its_grant_for_an_exact_kind_is_refused(tmp_path, field):
    path = _variant(
        tmp_path, "19-104.yaml", lambda d: d["modes"]["control"]["exact_grants"].pop(field)
    )
    with pytest.raises(
        SpecError, match=f"mode 'control' leaves the premises with 'protect.{field}'"
    ):
        load_spec(path)


def test_a_grant_for_a_value_the_mode_protects_is_refused(tmp_path):
    path = _variant(
        tmp_path,
        "18-088.yaml",
        lambda d: d["modes"]["sample"].update(exact_grants={"dates": GRANT}),
    )
    with pytest.raises(SpecError, match="'exact_grants.dates' is given but 'protect.dates' is not"):
        load_spec(path)


@pytest.mark.parametrize("name", sorted(p.name for p in SPECS_DIR.glob("*.yaml")))
def test_every_shipped_spec_loads_with_its_grants(name):
    spec = load_spec(SPECS_DIR / name)
    for mode_name, mode in spec.modes.items():
        if mode_name.leaves_premises:
            for field, grant in mode.exact_grants.items():
                assert getattr(mode.protect, field) == "exact" and grant.reference
