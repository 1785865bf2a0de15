"""An extract built a slice of persons at a time is the same, byte for byte, however many slices
its persons were cut into (invariant 4: no step mixes persons outside the global ones)."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract.export import control_export, onprem_build, sample_export
from flows.extract.slices import assign_slices, in_order, slice_count
from flows.release.files import content_digest
from flows.release.parquet_writer import RowGroupWriter
from flows.runtime.progress import Progress, followed
from flows.runtime.settings import SPECS_DIR, Engine, Paths
from flows.stores.consultations import CONSULTATION_KEY
from flows.stores.keys import create_key
from tests.conftest import WORLD_AS_OF
from transforms.protect import release_order

# the case that each consultation of these tests is made for (16/046 point 9)
CASE = "CTRL-2020-0007"

# More slices than are built at once, and a last slice smaller than the others (a slice costs
# about 2.7 s of fixed work here: 16 slices made the sample's test 52 s, for nothing 7 misses).
SLICINGS = (3, 7)


def release_bytes(folder: Path) -> dict[str, str]:
    """Each file's digest as reruns compare it: byte for byte, but the manifest's audit head,
    which says when the release was made (flows.release.files.content_digest)."""
    return {path.name: content_digest(path) for path in sorted(folder.iterdir())}


def engine_of(persons: int, slices: int) -> Engine:
    """An engine that cuts `persons` into `slices` slices (or, where slices of one size cannot
    make that many, into the next number they can: 27 persons make 14 slices of 2 or 27 of 1)."""
    assert persons >= slices
    size = -(-persons // slices)
    while slice_count(persons, size) < slices:
        size -= 1
    return Engine(slice_persons=size)


@pytest.mark.parametrize("slices", SLICINGS)
def test_the_sample_is_the_same_in_any_number_of_slices(world, tmp_path, slices):
    once = world["sample"]  # the world's releases are built in one slice
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    engine = engine_of(once.manifest.persons, slices)
    sliced = sample_export(world["spec"], WORLD_AS_OF, paths, world["store"], engine)
    assert release_bytes(sliced.folder) == release_bytes(once.folder)


@pytest.mark.parametrize("slices", SLICINGS)
def test_the_onprem_build_is_the_same_in_any_number_of_slices(world, tmp_path, slices):
    once = world["onprem"]
    persons = once.manifest.persons
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    engine = engine_of(persons, slices)
    reports: list[Progress] = []
    with followed(reports.append):
        sliced = onprem_build(world["spec"], WORLD_AS_OF, paths, world["store"], engine)
    assert release_bytes(sliced.folder) == release_bytes(once.folder)
    # and the run said where it stood, slice after slice (what the progress bar shows)
    done = [(r.slices_done, r.slices) for r in reports if r.step == "slices"]
    assert done == [(n, slices) for n in range(slices + 1)]
    assert reports[-1].persons_done == reports[-1].persons == persons


def _paths_with_role(root: Path, project: str, member: dict) -> Paths:
    paths = Paths(data=root / "data", key_store=root / "keys")
    create_key(paths.key_store, project)
    create_key(paths.key_store, CONSULTATION_KEY)
    paths.roster.parent.mkdir(parents=True)
    paths.roster.write_text(yaml.safe_dump({"staff": {getpass.getuser(): member}}))
    return paths


@pytest.fixture(scope="module")
def listed(world, tmp_path_factory):
    """13/021 (control, a listed population) for 48 workers, some with the months to check,
    delivered in one slice."""
    root = tmp_path_factory.mktemp("listed")
    spec = SPECS_DIR / "13-021.yaml"
    project = yaml.safe_load(spec.read_text())["project"]
    member = {"roles": ["case handler, customised employment"], "declaration_signed": "2013-04-01"}
    paths = _paths_with_role(root, project, member)
    workers = (
        pl.read_parquet(world["store"] / "dmfa" / "occupations.parquet")
        .filter(pl.col("quarter") >= 20121)["insz"]
        .unique()
        .sort()
        .head(48)
        .to_list()
    )
    lines = [f"{insz};2012-01;2012-09" if i % 3 == 0 else insz for i, insz in enumerate(workers)]
    listing = root / "request.txt"
    listing.write_text("\n".join(lines) + "\n")
    as_of = dt.date(2013, 6, 30)
    once = control_export(spec, as_of, paths, world["store"], listing, case_reference=CASE)
    return dict(spec=spec, paths=paths, listing=listing, as_of=as_of, once=once)


@pytest.mark.parametrize("slices", SLICINGS)
def test_a_control_delivery_of_listed_persons_is_the_same_in_any_number_of_slices(
    listed, world, tmp_path, slices
):
    once = listed["once"]
    assert once.manifest.persons == 48
    paths = Paths(data=tmp_path / "data", key_store=listed["paths"].key_store)
    paths.roster.parent.mkdir(parents=True)
    paths.roster.write_text(listed["paths"].roster.read_text())
    engine = engine_of(48, slices)
    sliced = control_export(
        listed["spec"],
        listed["as_of"],
        paths,
        world["store"],
        listed["listing"],
        engine,
        case_reference=CASE,
    )
    assert release_bytes(sliced.folder) == release_bytes(once.folder)


@pytest.fixture(scope="module")
def facilities(world, tmp_path_factory):
    """19/104 (control, the workers of employers, their lines only, and a summary of the FTE
    per facility), delivered in one slice."""
    root = tmp_path_factory.mktemp("facilities")
    spec = SPECS_DIR / "19-104.yaml"
    document = yaml.safe_load(spec.read_text())
    paths = _paths_with_role(root, document["project"], {"roles": [document["operator_roles"][0]]})
    as_of = dt.date(2020, 12, 15)
    once = control_export(spec, as_of, paths, world["store"], case_reference=CASE)
    return dict(spec=spec, paths=paths, as_of=as_of, once=once)


@pytest.mark.parametrize("slices", SLICINGS)
def test_a_control_delivery_with_a_summary_is_the_same_in_any_number_of_slices(
    facilities, world, tmp_path, slices
):
    once = facilities["once"]
    assert "fte_per_facility.parquet" in once.manifest.files
    paths = Paths(data=tmp_path / "data", key_store=facilities["paths"].key_store)
    paths.roster.parent.mkdir(parents=True)
    paths.roster.write_text(facilities["paths"].roster.read_text())
    engine = engine_of(once.manifest.persons, slices)
    sliced = control_export(
        facilities["spec"],
        facilities["as_of"],
        paths,
        world["store"],
        engine=engine,
        case_reference=CASE,
    )
    assert release_bytes(sliced.folder) == release_bytes(once.folder)


def test_slices_follow_the_release_order_of_the_persons():
    persons = pl.DataFrame({"insz": ["3", "1", "2", "4", "5"], "person_id": list("dbace")})
    sliced = assign_slices(persons, 2)
    assert sliced["person_id"].to_list() == list("abcde")
    assert sliced["slice"].to_list() == [0, 0, 1, 1, 2]
    assert slice_count(5, 2) == 3 and slice_count(0, 2) == 1


def test_a_file_written_in_batches_has_the_same_bytes_however_they_were_cut(tmp_path):
    table = pa.table({"n": list(range(10)), "s": [str(i) for i in range(10)]})
    files = []
    for cuts in ([10], [3, 3, 4], [1] * 10):
        path = tmp_path / f"{len(cuts)}.parquet"
        writer = RowGroupWriter(path, table.schema, row_group_rows=4)
        offset = 0
        for rows in cuts:
            writer.write(table.slice(offset, rows))
            offset += rows
        writer.close()
        files.append(path.read_bytes())
    assert files[0] == files[1] == files[2]
    assert [
        pq.ParquetFile(tmp_path / "1.parquet").metadata.row_group(i).num_rows for i in range(3)
    ] == [4, 4, 2]


@pytest.mark.parametrize("processes", [False, True], ids=["thread workers", "process workers"])
def test_an_export_on_a_dask_cluster_gives_the_bytes_of_one_process(world, tmp_path, processes):
    """Process workers share nothing with the client but the staging folder on disk (the
    slices' database and the files they write): what a cluster of machines shares."""
    from distributed import LocalCluster

    from flows.extract.tasks import with_engine

    once = world["sample"]
    paths = Paths(data=tmp_path / "data", key_store=world["paths"].key_store)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None
    ) as cluster:
        engine = Engine(
            slice_persons=engine_of(once.manifest.persons, 3).slice_persons,
            cluster=cluster.scheduler_address,
        )
        on_cluster = with_engine(sample_export, engine)
        result = on_cluster(world["spec"], WORLD_AS_OF, paths, world["store"], engine)
        # the slices ran on the cluster's workers (its scheduler dispatched them), not inline
        ran = sum(sum(p.state_counts.values()) for p in cluster.scheduler.task_prefixes.values())
    assert ran >= 3
    assert release_bytes(result.folder) == release_bytes(once.folder)


def test_validation_in_batches_counts_what_the_whole_panel_counts():
    from flows.release.validate import SliceValidation, combined, panel_outcomes
    from specs.checks import NotNull, UniqueTogether

    frame = pl.DataFrame(
        {
            "person_id": ["a", "a", "b", "b", "b", "c", "d"],
            "month": ["2013-01", "2013-02", "2013-01", "2013-01", "2013-02", "2013-01", "2013-01"],
            "days": [1, None, 3, 4, None, None, 7],
        }
    )
    checks = [NotNull("days"), UniqueTogether(("person_id", "month"))]
    whole = panel_outcomes("month", frame, checks)
    assert [o.unexpected_count for o in whole] == [3, 2]  # b's duplicate month, in one batch
    for rows in (1, 3, 100):
        validation = SliceValidation({"month": checks}, rows)
        for part in (frame[:2], frame[2:]):  # slices are whole persons; batches cut between them
            validation.add("month", part.to_arrow())
        assert combined(validation.finish()["month"]) == whole


def test_validation_keeps_what_waits_for_its_batch_under_its_budget():
    from flows.release.validate import SliceValidation, combined, panel_outcomes
    from specs.checks import NotNull

    persons = [f"p{i:03d}" for i in range(60)]
    month = pl.DataFrame({"person_id": persons, "days": [None, *range(59)]})
    quarter = pl.DataFrame({"person_id": persons, "days": [*range(58), None, None]})
    checks = {"month": [NotNull("days")], "quarter": [NotNull("days")]}
    budget = quarter[:20].to_arrow().nbytes * 3
    validation = SliceValidation(checks, rows=10_000, waiting_bytes=budget)
    for start in range(0, 60, 10):  # six slices of ten persons, far under a batch of rows
        for name, frame in (("month", month), ("quarter", quarter)):
            validation.add(name, frame[start : start + 10].to_arrow())
        assert 0 < validation.waiting <= budget
    outcomes = validation.finish()
    assert all(len(parts) > 1 for parts in outcomes.values())  # the budget made batches
    for name, frame in (("month", month), ("quarter", quarter)):
        assert combined(outcomes[name]) == panel_outcomes(name, frame, checks[name])
    assert validation.waiting == 0


def test_a_sample_validates_each_slice_as_it_comes_and_a_population_run_in_batches():
    from flows.release.validate import (
        SliceValidation,
        combined,
        panel_outcomes,
        waiting_for_validation,
    )
    from specs.checks import NotNull

    month = pl.DataFrame(
        {"person_id": [f"p{i:03d}" for i in range(40)], "days": [None, *range(39)]}
    )
    checks = {"month": [NotNull("days")]}
    sample = SliceValidation(checks, rows=10_000, waiting_bytes=waiting_for_validation(sample=True))
    population = SliceValidation(checks, rows=10_000, waiting_bytes=waiting_for_validation(False))
    for start in range(0, 40, 10):
        for validation in (sample, population):
            validation.add("month", month[start : start + 10].to_arrow())
        assert sample.waiting == 0 and population.waiting > 0
    parts = sample.finish()["month"]
    assert len(parts) == 4  # one run of the suite per slice, none waiting for another
    assert combined(parts) == combined(population.finish()["month"])
    assert combined(parts) == panel_outcomes("month", month, checks["month"])


def test_a_sample_is_cut_into_smaller_slices_than_a_population_unless_a_size_is_set():
    default = Engine()
    assert default.persons_per_slice(sample=True) < default.persons_per_slice(sample=False)
    assert {Engine(slice_persons=700).persons_per_slice(sample=s) for s in (True, False)} == {700}
    with pytest.raises(ValueError, match="persons per slice: 0"):
        Engine(slice_persons=0)


@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.integers(1, 12), st.one_of(st.none(), st.text())),
        max_size=40,
        unique_by=lambda row: row[:2],
    )
)
@settings(max_examples=50, deadline=None)
def test_a_panel_taken_a_column_at_a_time_is_the_panel_sorted_by_its_keys(rows):
    # unique keys, as a panel's are: the order is the sort's, whatever the rows' first order
    frame = pl.DataFrame(
        rows, schema={"person_id": pl.String, "month": pl.Int64, "code": pl.String}, orient="row"
    )
    columns = frame.get_columns()
    table = in_order(columns, release_order("month", frame))
    assert columns == []  # every column handed over, so none is held twice
    assert table.equals(frame.sort("person_id", "month").to_arrow(), check_metadata=True)


def test_the_exact_panels_of_a_slice_are_not_kept_once_their_caller_lets_them_go(monkeypatch):
    # a suspended generator holding the panel it handed out would keep it alive through the
    # building of the next one: two panels in memory where the slice promises one
    import weakref
    from types import SimpleNamespace

    import duckdb

    from flows.extract import slices

    con = duckdb.connect()
    persons = con.sql("select '1' as insz, null::date as birth_date, null::date as death_date")
    monkeypatch.setattr(slices, "connect", lambda *args, **kwargs: con)
    monkeypatch.setattr(slices, "slice_sources", lambda *args: {slices.panels.PERSONS: persons})
    built: list[weakref.ref[pl.DataFrame]] = []

    def build_panel(population, period, sources, name, requested):
        frame = pl.DataFrame({"insz": ["1"], name: [1]})
        built.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(slices.panels, "build_panel", build_panel)
    job = slices.SliceJob(
        database=Path("unused.duckdb"),
        engine=Engine(),
        spec=SimpleNamespace(period=None),  # type: ignore[arg-type]
        mode=SimpleNamespace(),  # type: ignore[arg-type]
        derived={},
        number=0,
        tables=(),
        names={"month": ("days",), "quarter": ("days",)},
    )
    panels = slices.exact_panels(job)
    next(panels)  # the persons
    name, frame = next(panels)
    assert name == "month" and built[0]() is frame
    del frame
    assert built[0]() is None
    assert [name for name, _ in panels] == ["quarter"]
