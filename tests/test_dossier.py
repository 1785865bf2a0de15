"""The dossier of a release: every section, with and without the optional measurements."""

from __future__ import annotations

import json

import polars as pl
import pytest

from flows.release import dossier
from flows.release.files import sha256_file
from flows.release.manifest import Manifest
from tests.test_flows_end_to_end import identifiers_of

MANIFEST = {
    "deliberation": "18/088",
    "project": "dulbea-barometer",
    "files": {},
    "title": "Barometer",
    "recipient": "DULBEA",
    "purpose": "barometer of incapacity for work",
    "mode": "sample",
    "mode_description": "the 10,000-person sample (point 7)",
    "spec": {"file": "18-088.yaml", "sha256": "ab" * 32},
    "period": {"from": "2003-01", "until": "2015-12"},
    "as_of": "2020-06-30",
    "persons": 10000,
    "identified": False,
    "protections": {"amounts": "classes", "dates": "month", "nationality": "scramble"},
    "delete_by": "2020-12-31",
    "our_copy_delete_by": "2021-03-31",
    "kept": "until delete_by",
    "pseudonyms": {"mode": "sample", "shared_with": None, "reason": None},
    "validation": {
        "month": [
            {"column": "person_id", "expectation": "e", "success": True, "unexpected_count": 0}
        ]
    },
}
BOOK = {
    "month": {
        "description": "person x month",
        "columns": [
            {
                "name": "daily_wage",
                "type": "VARCHAR",
                "meaning": "daily wage",
                "protection": "classes",
                "deliberation_name": "dagloon",
            },
        ],
    }
}
AUDIT = [
    {
        "panel": "month",
        "variable": "incapacity_start",
        "protection": "month",
        "recomputed_by": ["incapacity_days"],
        "rows": 200,
        "recomputable_rows": 150,
        "share": 0.75,
        "accepted": {"point": "point 8: the day counts"},
    },
    {
        "panel": "quarter_job",
        "variable": "daily_wage",
        "protection": "classes",
        "recomputed_by": ["wage_class"],
        "rows": 100,
        "recomputable_rows": 0,
        "share": 0.0,
        "accepted": None,
    },
]
RISK = {
    "quasi_identifiers": ["sex", "birth_date", "municipality"],
    "sample_persons": 10000,
    "population_persons": 90000,
    "unique_in_population": 123,
    "unique_share": 0.0123,
    "k_min": 1,
    "k_bands": {"1": 123, "2-4": 400, "5+": 9477},
    "l_diversity": {"nationality": 1},
    "trajectories": {"unique_over_year": 42},
    "max_unique_share": 0.05,
}
SECTIONS = [
    "# Dossier: deliberation 18/088, sample",
    "## The spec and the deliberation",
    "## The variables and their protections",
    "## Derivation audit",
    "## Disclosure risk",
    "## Validation",
    "## Deadlines: who destroys what by when",
]


@pytest.mark.parametrize("measured", [False, True])
def test_every_section_renders_with_and_without_the_measurements(tmp_path, measured):
    manifest = (
        {**MANIFEST, "derivation_audit": AUDIT, "disclosure_risk": RISK} if measured else MANIFEST
    )
    names = dossier.write_dossier(tmp_path, Manifest.of(manifest), BOOK)
    assert names == ["dossier.md", "dossier.html"]
    text = (tmp_path / "dossier.md").read_text()
    page = (tmp_path / "dossier.html").read_text()
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for section in SECTIONS:
        assert section.lstrip("# ") in page
    assert "| daily_wage | dagloon | classes | VARCHAR | daily wage |" in text
    assert "DULBEA | destroys this release by 2020-12-31" in text
    assert "deletes its copy by 2021-03-31" in text
    assert "point 7" in text and "Every expectation of every table passed" in text
    if measured:
        assert "not measured" not in text
        assert "accepted: point 8: the day counts" in text and "nothing given back" in text
        assert "| unique_in_population | 123 |" in text and "| 2-4 | 400 |" in text
        assert "unique_over_year" in page
    else:
        assert "The derivation audit: not measured." in text
        assert "The disclosure risk: not measured." in text
        assert text.count("not measured") == 2


def test_a_shared_pseudonym_set_is_said_with_its_reason(tmp_path):
    shared = {"mode": "onprem", "shared_with": "onprem", "reason": "linked results (point 9)"}
    dossier.write_dossier(tmp_path, Manifest.of({**MANIFEST, "pseudonyms": shared}), BOOK)
    assert (
        "shared with the onprem mode, as the spec says: linked results (point 9)"
        in (tmp_path / "dossier.md").read_text()
    )


def test_html_escapes_every_text(tmp_path):
    dossier.write_dossier(
        tmp_path, Manifest.of({**MANIFEST, "purpose": "<script>x</script>"}), BOOK
    )
    assert "<script>" not in (tmp_path / "dossier.html").read_text()


def test_each_release_has_its_dossier_listed_and_checked_and_naming_nobody(world):
    for result in (world["sample"], world["onprem"]):
        folder = result.folder
        manifest = json.loads((folder / "manifest.json").read_text())
        for name in ("dossier.md", "dossier.html"):
            assert manifest["files"][name]["sha256"] == sha256_file(folder / name)
        text = (folder / "dossier.md").read_text() + (folder / "dossier.html").read_text()
        assert "## Validation" in text and result.manifest.recipient in text
        ids = set(pl.read_parquet(folder / "quarter.parquet")["person_id"].unique())
        assert not any(i in text for i in ids)
    numbers = {i for i in identifiers_of(world["store"]) if i.isdigit() and len(i) >= 9}
    for result in (world["sample"], world["onprem"]):
        text = (result.folder / "dossier.md").read_text()
        assert not any(n in text for n in numbers)
