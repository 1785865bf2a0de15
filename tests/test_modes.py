"""Unlinkable modes: each mode pseudonymises under a key derived for it from the project key."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from flows.runtime.settings import SPECS_DIR
from specs.load import SpecError, load_spec
from specs.modes import ModeName
from transforms.modes import (
    MODE_KEY_LABEL,
    in_sample,
    mode_key,
    pseudonym_key,
    pseudonym_mode,
    pseudonyms_statement,
)
from transforms.pseudonymise import PERSON, pseudonym_map

KEY = b"\x01" * 32
SPEC = SPECS_DIR / "18-088.yaml"


def linked_spec(tmp_path, link):
    document = yaml.safe_load(SPEC.read_text())
    document["modes"]["sample"]["shares_pseudonyms_with"] = link
    path = tmp_path / "linked.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_the_mode_key_is_the_documented_hmac_of_the_mode_name():
    expected = hmac.new(KEY, f"{MODE_KEY_LABEL}\x00sample".encode(), hashlib.sha256).digest()
    assert mode_key(KEY, ModeName.SAMPLE) == expected
    assert len(expected) == 32 and expected != KEY


def test_each_mode_has_a_key_of_its_own_and_keeps_it_from_run_to_run():
    keys = {mode: mode_key(KEY, mode) for mode in ModeName}
    assert len(set(keys.values())) == len(ModeName)
    assert mode_key(bytes(KEY), ModeName.SAMPLE) == keys[ModeName.SAMPLE]
    assert mode_key(b"\x02" * 32, ModeName.SAMPLE) != keys[ModeName.SAMPLE]


@given(st.lists(st.text("0123456789", min_size=11, max_size=11), min_size=1, max_size=30))
def test_the_modes_pseudonyms_of_the_same_persons_are_disjoint_and_stable(insz):
    ids = pl.Series(insz)
    sample = pseudonym_map(ids, mode_key(KEY, ModeName.SAMPLE), PERSON)
    onprem = pseudonym_map(ids, mode_key(KEY, ModeName.ONPREM), PERSON)
    assert not set(sample["pseudonym"]) & set(onprem["pseudonym"])
    # the next yearly delivery of the same sample: the same pseudonyms
    assert pseudonym_map(ids, mode_key(KEY, ModeName.SAMPLE), PERSON).equals(sample)


def test_a_spec_without_a_link_gives_every_mode_its_own_pseudonyms():
    spec = load_spec(SPEC)
    assert pseudonym_mode(spec, ModeName.SAMPLE) is ModeName.SAMPLE
    assert pseudonym_key(spec, ModeName.SAMPLE, KEY) != pseudonym_key(spec, ModeName.ONPREM, KEY)
    assert pseudonyms_statement(spec, ModeName.ONPREM) == {
        "mode": "onprem",
        "shared_with": None,
        "reason": None,
    }


def test_a_linked_mode_carries_the_other_modes_pseudonyms_and_says_why(tmp_path):
    link = {"mode": "onprem", "reason": "the recipient links its results (point 9)"}
    spec = load_spec(linked_spec(tmp_path, link))
    assert pseudonym_key(spec, ModeName.SAMPLE, KEY) == pseudonym_key(spec, ModeName.ONPREM, KEY)
    assert pseudonyms_statement(spec, ModeName.SAMPLE) == {
        "mode": "onprem",
        "shared_with": "onprem",
        "reason": "the recipient links its results (point 9)",
    }


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ({"mode": "onprem"}, "reason"),
        ({"mode": "onprem", "reason": ""}, "reason"),
        ({"mode": "sample", "reason": "x"}, "not another mode"),
        ({"mode": "control", "reason": "x"}, "not another mode"),
        ("onprem", "mode"),
    ],
)
def test_a_link_without_a_reason_or_to_no_other_mode_is_refused(tmp_path, link, expected):
    with pytest.raises(SpecError, match=expected):
        load_spec(linked_spec(tmp_path, link))


def test_in_sample_marks_exactly_the_drawn_persons():
    person_ids = pl.DataFrame({"insz": ["3", "1", "2"], "person_id": ["c", "a", "b"]})
    drawn = pl.DataFrame({"insz": ["2"]})
    assert in_sample(person_ids, drawn).to_dicts() == [
        {"person_id": "a", "in_sample": False},
        {"person_id": "b", "in_sample": True},
        {"person_id": "c", "in_sample": False},
    ]
