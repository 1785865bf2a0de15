"""The manifest as one typed record: what a run writes is what it reads back, byte for byte;
an older manifest still reads; one that is not rex's is refused by name."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from flows.release.files import json_text
from flows.release.manifest import Manifest, ManifestUnreadable

WRITTEN = {
    "deliberation": "18/088",
    "project": "dulbea-barometer",
    "recipient": "DULBEA",
    "mode": "sample",
    "as_of": "2020-06-30",
    "delete_by": "2020-12-31",
    "our_copy_delete_by": "2020-11-30",
    "period": {"from": "2003-01", "until": "2015-12"},
    "persons": 10000,
    "files": {"month.parquet": {"sha256": "ab" * 32}},
    "disclosure_risk": {"unique_share": 0.25, "k_min": 1},
    "audit_head": {"seq": 3, "digest": "cd" * 32},
}


def test_a_manifest_reads_back_as_it_was_written_with_dates_as_dates(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json_text(WRITTEN))
    manifest = Manifest.read(path)
    assert manifest.delete_by == dt.date(2020, 12, 31) and manifest.persons == 10000
    assert manifest.years == set(range(2003, 2016))
    assert json_text(manifest.document()) == path.read_text()


def test_a_field_this_version_does_not_know_is_kept_as_it_was():
    later = Manifest.of({**WRITTEN, "frontier": [{"unique_share": 0.1}]})
    assert later.document()["frontier"] == [{"unique_share": 0.1}]


def test_a_manifest_older_than_our_copys_term_gives_our_copy_the_recipients_deadline():
    older = {k: v for k, v in WRITTEN.items() if k != "our_copy_delete_by"}
    assert Manifest.of(older).our_copy_deadline == dt.date(2020, 12, 31)
    assert Manifest.of(WRITTEN).our_copy_deadline == dt.date(2020, 11, 30)
    # a whole-career release: null is a deadline of its own, not a missing one
    career = Manifest.of({**WRITTEN, "delete_by": None, "our_copy_delete_by": None})
    assert career.our_copy_deadline is None


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ({k: v for k, v in WRITTEN.items() if k != "delete_by"}, "delete_by: Field required"),
        ({**WRITTEN, "delete_by": "soon"}, "delete_by: Input should be a valid date"),
        ({**WRITTEN, "files": ["month.parquet"]}, "files: Input should be a valid dictionary"),
        ({k: v for k, v in WRITTEN.items() if k != "project"}, "project: Field required"),
    ],
)
def test_a_manifest_that_is_not_rexs_is_refused_naming_the_file_and_the_field(
    tmp_path, document, said
):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ManifestUnreadable) as refused:
        Manifest.read(path)
    assert str(path) in str(refused.value) and said in str(refused.value)
    assert "soon" not in str(refused.value)  # the fields are named, the values never quoted


def test_a_manifest_that_is_not_json_is_refused_by_name(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("{ edited by hand")
    with pytest.raises(ManifestUnreadable, match="manifest.json: not valid JSON"):
        Manifest.read(path)


def test_a_manifest_without_a_period_is_refused_where_its_years_are_asked_for():
    undated = Manifest.of({k: v for k, v in WRITTEN.items() if k != "period"})
    with pytest.raises(ManifestUnreadable, match="states no period"):
        assert undated.years
