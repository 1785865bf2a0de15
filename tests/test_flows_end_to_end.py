"""Both flows end to end on a generated population, checked against the invariants of design.md."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.extract.authorise import release_folder
from flows.extract.errors import AuthorisationError
from flows.extract.export import onprem_build, sample_export
from flows.release.files import content_digest
from flows.release.validate import ValidationFailed
from flows.runtime.settings import Paths
from flows.stores import audit_read
from flows.stores.keys import KeyStoreError, create_key, load_key
from flows.stores.sources import SourceError, open_sources
from specs import checks
from specs.catalog import PANELS
from specs.load import load_spec
from specs.modes import ModeName
from tests.conftest import WORLD_AS_OF, WORLD_SAMPLE, spec_variant
from transforms import calendar, panels
from transforms import population as population_query

SAMPLE = WORLD_SAMPLE
AS_OF = WORLD_AS_OF


def release_frames(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


def test_release_holds_exactly_the_authorised_columns(world):
    spec = load_spec(world["spec"])
    for result, mark in ((world["sample"], set()), (world["onprem"], {"persons"})):
        frames = release_frames(result.folder)
        assert set(frames) == {p for p in PANELS if spec.variables_of_panel(p)} | mark
        for name, frame in frames.items():
            expected = ["person_id", "in_sample"] if name == "persons" else None
            assert frame.columns == (
                expected or [*PANELS[name].keys, *spec.variables_of_panel(name)]
            )
        formats = [".parquet", ".csv", ".dta"] if result is world["sample"] else [".parquet"]
        assert sorted(p.name for p in result.folder.iterdir()) == sorted(
            [
                *(f"{n}{suffix}" for n in frames for suffix in formats),
                *("codebook.json", "codebook.md", "manifest.json", "dossier.md", "dossier.html"),
            ]
        )


def identifiers_of(store: Path) -> set[str]:
    """Every identifier, name and address in the sources."""
    con = duckdb.connect()
    sources = open_sources(con, store)
    found: set[str] = set()
    for key, columns in {
        "register.persons": ["insz", "last_name", "street"],
        "dmfa.occupations": ["employer_rsz", "enterprise_kbo", "local_unit_id"],
    }.items():
        for column in columns:
            found |= set(sources[key].select(column).pl()[column].unique().to_list())
    return found


def test_no_identifier_name_address_or_key_in_any_release_byte_or_the_log(world):
    identifiers = identifiers_of(world["store"])
    surnames = {i for i in identifiers if not i.isdigit()}
    numbers = {i for i in identifiers if i.isdigit()}
    key = load_key(world["paths"].key_store, "e2e")
    for result in (world["sample"], world["onprem"]):
        for name, frame in release_frames(result.folder).items():
            values = set()
            for column in frame.columns:
                values |= set(frame[column].cast(pl.String).drop_nulls().unique().to_list())
            assert not values & identifiers, f"identifier in {name}"
        for path in result.folder.iterdir():
            data = path.read_bytes()
            assert key not in data and key.hex().encode() not in data
            if path.suffix in {".json", ".md"}:
                text = data.decode()
                assert not any(n in text for n in numbers), path.name
                assert not any(f'"{s}"' in text for s in surnames), path.name
    log = world["paths"].audit_log.read_text()
    assert key.hex() not in log and not any(n in log for n in numbers)


def test_sample_has_exactly_the_sample_size_and_protected_values(world):
    frames = release_frames(world["sample"].folder)
    assert frames["month"]["person_id"].n_unique() == SAMPLE
    assert frames["quarter"]["person_id"].n_unique() == SAMPLE
    assert frames["quarter"]["birth_date"].str.contains(r"^\d{4}-\d{2}$").all()
    assert frames["quarter_job"]["daily_wage"].drop_nulls().str.contains(r"^(<|\[|>=)").all()
    assert world["sample"].manifest.persons == SAMPLE


def test_onprem_keeps_exact_values(world):
    onprem = release_frames(world["onprem"].folder)
    assert onprem["quarter"].schema["birth_date"] == pl.Date
    assert onprem["quarter_job"].schema["daily_wage"] == pl.Float64


def test_sample_and_onprem_share_no_person_or_employer_pseudonym(world):
    sample = release_frames(world["sample"].folder)
    onprem = release_frames(world["onprem"].folder)
    assert not set(sample["month"]["person_id"]) & set(onprem["month"]["person_id"])
    employers = set(sample["quarter_job"]["employer_id"].drop_nulls())
    assert employers and not employers & set(onprem["quarter_job"]["employer_id"])
    # an attacker joining the two releases on their pseudonyms gets nothing
    for name, keys in (("month", ["person_id", "month"]), ("quarter_job", ["employer_id"])):
        assert sample[name].join(onprem[name], on=keys, how="inner").height == 0
    for result in (world["sample"], world["onprem"]):
        assert result.manifest.pseudonyms == {
            "mode": result.manifest.mode,
            "shared_with": None,
            "reason": None,
        }


def test_onprem_marks_the_sample_persons_and_they_match_the_sample_in_aggregate(world):
    sample = release_frames(world["sample"].folder)
    onprem = release_frames(world["onprem"].folder)
    mark = onprem["persons"]
    assert mark.height == onprem["month"]["person_id"].n_unique()
    assert mark["in_sample"].sum() == SAMPLE
    # over the same persons, the unprotected columns agree in aggregate, month by month
    drawn = onprem["month"].join(mark.filter("in_sample"), on="person_id", how="semi")
    kept = ["month", "socio_economic_position", "incapacity_phase"]

    def counts(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by(kept).len().sort(kept, nulls_last=True)

    assert counts(sample["month"]).equals(counts(drawn))
    assert sample["month"].height == drawn.height


def test_another_projects_key_gives_unlinkable_pseudonyms(world, tmp_path):
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    create_key(paths.key_store, "other-project")
    spec = spec_variant(tmp_path, "other-project", SAMPLE)
    other = onprem_build(spec, AS_OF, paths, world["store"])
    ours = release_frames(world["onprem"].folder)["month"]
    theirs = release_frames(other.folder)["month"]
    assert ours["person_id"].n_unique() == theirs["person_id"].n_unique()
    assert not set(ours["person_id"]) & set(theirs["person_id"])


def test_same_sources_key_spec_and_date_give_byte_identical_releases(world, tmp_path):
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    again = sample_export(world["spec"], AS_OF, paths, world["store"])
    assert again.status == "published"
    for path in world["sample"].folder.iterdir():
        # byte for byte, but the manifest's audit head (when it was made, not what)
        assert content_digest(again.folder / path.name) == content_digest(path), path.name
    manifest = json.loads((again.folder / "manifest.json").read_text())
    assert manifest["audit_head"]["seq"] == 1  # its fresh log held its request
    rerun = sample_export(world["spec"], AS_OF, world["paths"], world["store"])
    assert rerun.status == "unchanged"


def test_failing_suite_publishes_nothing_and_is_logged(world, tmp_path, monkeypatch):
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    real = checks.panel_checks

    def with_impossible_check(columns, sample_size, every_person_present):
        return [
            *real(columns, sample_size, every_person_present),
            checks.InSet("person_id", ("nobody",)),
        ]

    monkeypatch.setattr("flows.extract.build.panel_checks", with_impossible_check)
    with pytest.raises(ValidationFailed, match="be_allowed on column 'person_id'"):
        sample_export(world["spec"], AS_OF, paths, world["store"])
    assert not paths.releases.exists() or not any(paths.releases.rglob("*"))
    assert audit_read.read(paths.audit_log)[-1]["event"] == "refusal"


@pytest.mark.parametrize(
    ("as_of", "mode", "message"),
    [
        (dt.date(2026, 11, 22), ModeName.SAMPLE, "allows runs in 2018-07-03 .. 2021-12-31"),
        (dt.date(2018, 1, 1), ModeName.ONPREM, "allows runs in 2018-07-03 .. 2021-12-31"),
        (dt.date(2021, 3, 1), ModeName.SAMPLE, "must be deleted by 2020-12-31"),
    ],
)
def test_run_outside_the_authorisation_is_refused_and_logged(world, tmp_path, as_of, mode, message):
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    flow = sample_export if mode is ModeName.SAMPLE else onprem_build
    with pytest.raises(AuthorisationError, match=message):
        flow(world["spec"], as_of, paths, world["store"])
    entry = audit_read.read(paths.audit_log)[-1]
    assert entry["event"] == "refusal" and message in entry["reason"]
    assert not release_folder(paths, load_spec(world["spec"]), mode, as_of).exists()


def test_missing_key_is_refused_and_logged(world, tmp_path):
    paths = Paths(data=tmp_path / "data", key_store=tmp_path / "empty-store")
    with pytest.raises(KeyStoreError, match="rex keys create e2e"):
        sample_export(world["spec"], AS_OF, paths, world["store"])
    assert audit_read.read(paths.audit_log)[-1]["event"] == "refusal"
    assert not (tmp_path / "empty-store" / "e2e.key").exists()


def test_corrupt_source_file_is_refused_naming_the_file(world, tmp_path):
    store = tmp_path / "sources"
    shutil.copytree(world["store"], store)
    (store / "rva" / "unemployment.parquet").write_bytes(b"not parquet at all")
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    with pytest.raises(SourceError, match=r"rva/unemployment\.parquet cannot be read as Parquet"):
        sample_export(world["spec"], AS_OF, paths, store)
    assert audit_read.read(paths.audit_log)[-1]["event"] == "refusal"


def test_a_source_file_of_an_older_schema_is_refused_naming_what_it_lacks(world, tmp_path):
    store = tmp_path / "sources"
    shutil.copytree(world["store"], store)
    occupations = store / "dmfa" / "occupations.parquet"
    pl.read_parquet(occupations).drop("curatorship", "contribution_cents").write_parquet(
        occupations
    )
    with pytest.raises(SourceError) as refusal:
        open_sources(duckdb.connect(), store)
    assert str(refusal.value) == (
        f"source file {occupations} lacks the column(s) curatorship, contribution_cents (a store "
        "written for an older schema? a synthetic one is made again by `rex synth`)"
    )


def test_audit_log_records_each_release_and_its_chain_verifies(world):
    entries = audit_read.read(world["paths"].audit_log)
    releases = [e for e in entries if e["event"] == "release"]
    assert {e["mode"] for e in releases} == {"sample", "onprem"}
    assert all(e["deliberation"] == "18/088" and e["recipient"] and e["purpose"] for e in releases)
    assert audit_read.verify_chain(world["paths"].audit_log) == []


def test_manifest_lists_every_file_with_its_hash(world):
    manifest = json.loads((world["sample"].folder / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        from flows.release.files import sha256_file

        assert sha256_file(world["sample"].folder / name) == entry["sha256"]
    assert manifest["delete_by"] == "2020-12-31" and manifest["key_fingerprint"]


def test_panels_do_not_depend_on_how_the_population_is_sliced(world):
    con = duckdb.connect()
    sources = open_sources(con, world["store"])
    spec = load_spec(world["spec"])
    population = population_query.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(spec.period),
        spec.population.rule,
    )

    names = {name: spec.variables_of_panel(name) for name in PANELS}

    def panels_of(part):
        return panels.build_panels(part, spec.period, sources, names)

    whole = panels_of(population)
    halves = [population.filter("hash(insz) % 2 = 0"), population.filter("hash(insz) % 2 = 1")]
    parts = [panels_of(h) for h in halves]
    for name, frame in whole.items():
        keys = [k for k in ("insz", "month", "quarter", "job", "year") if k in frame.columns]
        sliced = pl.concat([part[name] for part in parts]).sort(keys)
        assert frame.sort(keys).equals(sliced), name


def test_cli_refuses_a_run_outside_the_window_with_the_window_in_the_message(world, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("REX_KEY_STORE", str(world["paths"].key_store))
    command = [
        "export",
        "sample",
        "--spec",
        str(world["spec"]),
        "--as-of",
        "2026-11-22",
        "--sources",
        str(world["store"]),
    ]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert "allows runs in 2018-07-03 .. 2021-12-31" in result.output


def test_run_by_someone_not_listed_as_operator_is_refused_and_logged(world, tmp_path):
    import yaml

    document = yaml.safe_load(world["spec"].read_text())
    document["operators"] = ["dwh-operator"]
    spec = tmp_path / "e2e.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    with pytest.raises(AuthorisationError, match="is not an operator of deliberation 18/088"):
        sample_export(spec, AS_OF, paths, world["store"])
    request, refusal = audit_read.read(paths.audit_log)[-2:]
    assert (request["event"], refusal["event"]) == ("request", "refusal")
    assert request["run"] == refusal["run"]
    assert not paths.releases.exists()


def test_each_release_is_preceded_by_its_request_and_passes_review(world):
    from flows.schedule.review import review
    from transforms.pseudonymise import pseudonym_set_digest

    log = world["paths"].audit_log
    total, findings = review(log, world["spec"].parent, sample=10, as_of=AS_OF, seed=0)
    assert total >= 2 and len(findings) == total  # both releases, and any rerun of them
    assert [f.violations for f in findings] == [()] * total
    release = next(
        e for e in audit_read.read(log) if e["event"] == "release" and e["mode"] == "sample"
    )
    person_ids = release_frames(world["sample"].folder)["month"]["person_id"]
    assert release["pseudonym_set_sha256"] == pseudonym_set_digest(person_ids)
    assert release["variables"]["month"][:2] == ["person_id", "month"]


def test_export_after_the_key_was_shredded_is_refused_and_logged(world, tmp_path):
    key_store = tmp_path / "keys"
    shutil.copytree(world["paths"].key_store, key_store)
    from flows.stores.keys import shred_key

    shred_key(key_store, "e2e", "2022-01-01")
    paths = Paths(data=tmp_path / "data", key_store=key_store)
    with pytest.raises(KeyStoreError, match="shredded on 2022-01-01.*never be recomputed"):
        onprem_build(world["spec"], AS_OF, paths, world["store"])
    assert audit_read.read(paths.audit_log)[-1]["event"] == "refusal"
