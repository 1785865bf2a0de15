"""`rex synth --defects`: what it injects, that the checks find it, what the flows make of it."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract.export import sample_export
from flows.runtime.settings import Paths
from flows.stores import audit_read
from flows.stores.keys import create_key
from flows.stores.sources import open_sources
from specs.sources import SOURCE_TABLES
from synthetic import defects
from synthetic.defects import inject_defects
from synthetic.generate import conform, population_tables
from tests.conftest import spec_variant
from transforms import source_checks as sc
from transforms.source_checks import Action, DefectKind, SourceDefects

SEED = 11
CLEANABLE = frozenset(k for k, rule in sc.RULES.items() if rule.action is Action.CLEAN)
# Kinds whose rule gives back exactly the records before injection (an overlap is cut at the
# next episode, which need not be where the episode ended before).
RESTORED = CLEANABLE - {DefectKind.OVERLAPPING_EPISODE}
# High enough that a few hundred persons show every kind many times (few of them die, so every
# dead person gets a record after death).
HIGH_RATES = {kind: 0.2 for kind in DefectKind} | {DefectKind.AFTER_DEATH: 1.0}


@functools.cache
def population(persons: int) -> dict[str, pl.DataFrame]:
    return {k: conform(v, SOURCE_TABLES[k]) for k, v in population_tables(persons, SEED).items()}


def relations(tables: dict[str, pl.DataFrame]) -> dict[str, duckdb.DuckDBPyRelation]:
    con = duckdb.connect()
    return {
        key: con.from_arrow(conform(frame, SOURCE_TABLES[key]).to_arrow())
        for key, frame in tables.items()
    }


def counts(tables: dict[str, pl.DataFrame]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for f in sc.find_defects(relations(tables)):
        found[(f.table, f.kind.value)] = found.get((f.table, f.kind.value), 0) + f.records
    return {key: n for key, n in found.items() if n}


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(pl.all(), nulls_last=True)


def of_persons(tables: dict[str, pl.DataFrame], persons: pl.Series) -> dict[str, pl.DataFrame]:
    return {
        key: frame.filter(pl.col("insz").is_in(persons.implode())) for key, frame in tables.items()
    }


@settings(max_examples=10, deadline=None)
@given(parts=st.integers(2, 5), salt=st.integers(0, 2**32))
def test_injection_does_not_depend_on_how_persons_are_split(parts, salt):
    tables = population(300)
    insz = tables["register.persons"]["insz"]
    part_of = pl.Series(insz.hash(salt) % parts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(defects, "RATES", HIGH_RATES)
        whole = inject_defects(tables, SEED)
        pieces = [
            inject_defects(of_persons(tables, insz.filter(part_of == p)), SEED)
            for p in range(parts)
        ]
    for key in tables:
        joined = pl.concat([piece[key] for piece in pieces])
        assert canonical(joined).equals(canonical(whole[key])), key


@functools.cache
def with_many_defects(persons: int) -> dict[str, pl.DataFrame]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(defects, "RATES", HIGH_RATES)
        return inject_defects(population(persons), SEED)


@settings(max_examples=3, deadline=None)
@given(parts=st.integers(2, 3), salt=st.integers(0, 2**32))
def test_counts_and_cleaning_do_not_depend_on_how_persons_are_split(parts, salt):
    tables = with_many_defects(300)
    # every INSZ, wrong ones too, is a person here: a record goes where its INSZ goes
    insz = pl.concat([frame["insz"] for frame in tables.values()]).unique()
    part_of = pl.Series(insz.hash(salt) % parts)
    whole = counts(tables)
    pieces = [of_persons(tables, insz.filter(part_of == p)) for p in range(parts)]
    summed: dict[tuple[str, str], int] = {}
    for piece in pieces:
        for key, n in counts(piece).items():
            summed[key] = summed.get(key, 0) + n
    assert summed == whole

    def cleaned(part: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        sources = relations(part)
        return {k: r.pl() for k, r in sc.clean_sources(sources, sc.find_defects(sources)).items()}

    cleaned_whole = cleaned(tables)
    cleaned_pieces = [cleaned(piece) for piece in pieces]
    for key in tables:
        joined = pl.concat([piece[key] for piece in cleaned_pieces])
        assert canonical(joined).equals(canonical(cleaned_whole[key])), key


def test_unknown_codes_are_outside_their_code_lists():
    for (table, name), code in defects.UNKNOWN_CODES.items():
        (column,) = (c for c in SOURCE_TABLES[table].columns if c.name == name)
        assert column.codes is not None and code not in column.codes


def test_a_clean_population_passes_every_check_with_zero_counts_but_a052_corrections():
    # the insurers correct a message by a new version of it: the only finding of a clean store
    messages = population(300)["nic.a052_messages"]
    corrected = messages.filter(
        pl.col("message_version") < pl.col("message_version").max().over("message_number")
    ).height
    assert corrected > 0
    assert counts(population(300)) == {("nic.a052_messages", "superseded_version"): corrected}


def test_every_injected_kind_is_found_in_every_table_it_is_injected_into():
    found = counts(with_many_defects(300))
    assert set(found) == {
        ("dmfa.occupations", "duplicate_declaration"),
        ("dmfa.occupations", "corrected_declaration"),
        ("dmfa.occupations", "invalid_check_digits"),
        ("rva.activation_allowances", "invalid_check_digits"),
        ("dmfa.occupations", "unknown_code"),
        ("rva.unemployment", "unknown_code"),
        ("nic.incapacity", "unknown_code"),
        ("rva.unemployment", "overlapping_episode"),
        ("nic.incapacity", "overlapping_episode"),
        ("dmfa.occupations", "after_death"),
        ("rva.unemployment", "after_death"),
        ("nic.incapacity", "after_death"),
        ("sigedis.career", "after_death"),
        ("nic.a052_messages", "unknown_code"),
        ("nic.a052_messages", "superseded_version"),
        ("nic.a052_messages", "version_out_of_order"),
        ("nic.a052_messages", "message_after_episode"),
    }


def test_injection_at_the_documented_rates_hits_a_small_share():
    injected = inject_defects(population(300), SEED)
    lines = population(300)["dmfa.occupations"].height
    found = counts(injected)
    assert 0 < found[("dmfa.occupations", "corrected_declaration")] < 3 * 0.005 * lines
    assert found[("dmfa.occupations", "duplicate_declaration")] < 3 * 0.002 * lines


def test_cleaning_gives_back_the_records_before_injection(monkeypatch):
    monkeypatch.setattr(defects, "RATES", HIGH_RATES)
    clean = population(300)
    sources = relations(inject_defects(clean, SEED, RESTORED))
    findings = sc.find_defects(sources)
    sc.refuse_uncleanable(findings)
    cleaned = sc.clean_sources(sources, findings)
    # the A052 corrections are the insurers' own: cleaned as they are in a clean store
    originals = relations(clean)
    expected = sc.clean_sources(originals, sc.find_defects(originals))
    for key in clean:
        frame = expected[key].pl()
        # a corrected line is kept in its corrected version, values as before injection
        without_version = pl.exclude("declaration_version")
        got = canonical(cleaned[key].pl().select(without_version))
        assert got.equals(canonical(frame.select(without_version))), key


def test_same_seed_same_defects_another_seed_others():
    clean = population(300)
    first, again = inject_defects(clean, SEED), inject_defects(clean, SEED)
    other = inject_defects(clean, SEED + 1)
    assert all(first[key].equals(again[key]) for key in clean)
    assert not first["dmfa.occupations"].equals(other["dmfa.occupations"])


# End to end: a store with defects is cleaned and released, or refused with the counts.

PERSONS = 3_000
SAMPLE = 200
AS_OF = dt.date(2020, 6, 30)


def identifiers_of(store: Path) -> set[str]:
    """Every INSZ, employer, enterprise and local-unit number in the store, wrong ones too."""
    sources = open_sources(duckdb.connect(), store)
    found: set[str] = set()
    for key, table in SOURCE_TABLES.items():
        for column in table.columns:
            if column.name in sc.IDENTIFIER_CHECKS:
                found |= set(sources[key].select(column.name).pl()[column.name].drop_nulls())
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("defects")
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, "defects")
    return dict(root=root, paths=paths, spec=spec_variant(root, "defects", SAMPLE))


def test_cleanable_defects_are_cleaned_and_counted_in_the_manifest_and_log(project, monkeypatch):
    from synthetic.generate import generate

    store = project["root"] / "cleanable"
    monkeypatch.setattr(
        "synthetic.generate.inject_defects", functools.partial(inject_defects, kinds=CLEANABLE)
    )
    generate(PERSONS, SEED, store, with_defects=True)
    expected = {
        (f.table, f.kind.value, f.column): f.records
        for f in sc.find_defects(open_sources(duckdb.connect(), store))
    }
    assert {kind for (_, kind, _), n in expected.items() if n} == {k.value for k in CLEANABLE}

    result = sample_export(project["spec"], AS_OF, project["paths"], store)

    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert {
        (f["table"], f["kind"], f["column"]): f["records"] for f in manifest["source_checks"]
    } == expected
    assert all(f["rule"] == "clean" for f in manifest["source_checks"] if f["records"])
    entry = audit_read.read(project["paths"].audit_log)[-1]
    assert entry["event"] == "release"
    assert {(f["table"], f["kind"], f["column"]): f["records"] for f in entry["source_checks"]} == {
        key: n for key, n in expected.items() if n
    }
    identifiers = identifiers_of(store)
    written = (result.folder / "manifest.json").read_text() + project["paths"].audit_log.read_text()
    assert not any(i in written for i in identifiers)


def test_a_store_made_with_defects_is_refused_with_counts_and_no_identifier(project, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    store = project["root"] / "all-kinds"
    paths = Paths(data=project["root"] / "refused", key_store=project["paths"].key_store)
    monkeypatch.setenv("REX_DATA_DIR", str(paths.data))
    monkeypatch.setenv("REX_KEY_STORE", str(paths.key_store))
    made = CliRunner().invoke(
        app,
        ["synth", "--defects", "--persons", str(PERSONS), "--seed", str(SEED), "--out", str(store)],
    )
    assert made.exit_code == 0, made.output

    with pytest.raises(SourceDefects) as refused:
        sample_export(project["spec"], AS_OF, paths, store)
    message = str(refused.value)
    assert "invalid_check_digits in insz (refuse)" in message
    assert "unknown_code in worker_code (refuse)" in message
    entry = audit_read.read(paths.audit_log)[-1]
    assert entry["event"] == "refusal" and entry["reason"] == message

    cli = CliRunner().invoke(
        app,
        [
            "export",
            "sample",
            "--spec",
            str(project["spec"]),
            "--as-of",
            str(AS_OF),
            "--sources",
            str(store),
        ],
    )
    assert cli.exit_code == 2 and "records with invalid_check_digits" in cli.output

    log = paths.audit_log.read_text()
    identifiers = identifiers_of(store)
    assert not any(i in message or i in log or i in cli.output for i in identifiers)
    assert not paths.releases.exists() or not any(paths.releases.rglob("*"))
