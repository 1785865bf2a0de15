"""The synthetic generator at scale: chunked, streamed, and the same whatever the chunk size."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.be import nn
from typer.testing import CliRunner

from flows.cli import app
from specs.sources import SOURCE_TABLES
from synthetic import generate as synth
from synthetic.blocks import BLOCK_PERSONS
from synthetic.identifiers import DayCounters

# Three blocks, the last one partial, so that chunks of one and two blocks cut it differently.
PERSONS = 2 * BLOCK_PERSONS + 1_234
SEED = 11


def digests(store: Path) -> dict[str, str]:
    return {
        key: hashlib.sha256((store / table.relative_path).read_bytes()).hexdigest()
        for key, table in SOURCE_TABLES.items()
    }


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[int, Path]:
    """The same population generated one block at a time and two blocks at a time."""
    root = tmp_path_factory.mktemp("synthetic")
    made = {}
    for chunk in (BLOCK_PERSONS, 2 * BLOCK_PERSONS):
        made[chunk] = root / f"chunk-{chunk}"
        synth.generate(PERSONS, SEED, made[chunk], chunk_persons=chunk)
    return made


def test_store_bytes_do_not_depend_on_the_chunk_size(stores):
    one_block, two_blocks = (digests(store) for store in stores.values())
    assert one_block == two_blocks


def test_every_table_holds_rows_of_every_block(stores):
    store = stores[BLOCK_PERSONS]
    persons = pl.read_parquet(store / SOURCE_TABLES["register.persons"].relative_path)
    assert persons.height == PERSONS
    for key in ("dmfa.occupations", "nic.incapacity", "sigedis.career"):
        frame = pl.read_parquet(store / SOURCE_TABLES[key].relative_path)
        # insz of the first and of the last (partial) block both appear
        assert frame["insz"].is_in(persons["insz"].head(BLOCK_PERSONS).implode()).any(), key
        assert frame["insz"].is_in(persons["insz"].tail(1_234).implode()).any(), key


@pytest.mark.parametrize(
    ("table", "start", "end"),
    [
        ("dmfa.occupations", "occupation_start", "occupation_end"),
        ("rva.unemployment", "start_date", "end_date"),
        ("nic.incapacity", "start_date", "end_date"),
    ],
)
def test_no_spell_ends_before_it_starts(stores, table, start, end):
    frame = pl.read_parquet(stores[BLOCK_PERSONS] / SOURCE_TABLES[table].relative_path)
    assert frame.filter(pl.col(end) < pl.col(start)).height == 0


def test_an_employer_is_the_same_in_every_block(stores):
    frame = pl.read_parquet(stores[BLOCK_PERSONS] / SOURCE_TABLES["dmfa.occupations"].relative_path)
    attributes = ["nace", "employer_nis", "importance_code", "employer_nature"]
    per_employer = frame.group_by("employer_rsz").agg(pl.col(attributes).n_unique())
    assert per_employer.select(pl.max_horizontal(attributes).max()).item() == 1


def test_insz_are_unique_and_valid_over_the_whole_store(stores):
    persons = pl.read_parquet(stores[BLOCK_PERSONS] / "register" / "persons.parquet")
    assert persons["insz"].n_unique() == PERSONS
    assert all(nn.is_valid(number) for number in persons["insz"].gather_every(97).to_list())


def test_row_groups_have_a_fixed_size_whatever_the_chunks(stores):
    path = stores[BLOCK_PERSONS] / SOURCE_TABLES["dmfa.occupations"].relative_path
    metadata = pq.ParquetFile(path).metadata
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert len(sizes) > 1, "the test population should need more than one row group"
    assert set(sizes[:-1]) == {synth.ROW_GROUP_ROWS} and 0 < sizes[-1] <= synth.ROW_GROUP_ROWS


def test_a_chunk_size_that_is_not_whole_blocks_is_refused(tmp_path):
    with pytest.raises(ValueError, match=f"multiple of the block of {BLOCK_PERSONS:,}"):
        synth.generate(10, SEED, tmp_path / "store", chunk_persons=BLOCK_PERSONS + 1)
    result = CliRunner().invoke(
        app, ["synth", "--persons", "10", "--chunk-size", "7", "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 2 and "multiple of the block" in result.output
    assert not any(tmp_path.iterdir())


def test_an_interrupted_generation_leaves_neither_store_nor_staging_folder(tmp_path):
    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synth.generate(10, SEED, tmp_path / "store", on_progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_progress_reports_the_persons_done_after_each_chunk(tmp_path):
    reported: list[int] = []
    synth.generate(BLOCK_PERSONS + 10, SEED, tmp_path / "store", BLOCK_PERSONS, reported.append)
    assert reported == [BLOCK_PERSONS, BLOCK_PERSONS + 10]


days = st.lists(
    st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=60
)  # few distinct days, so counters collide often


@settings(max_examples=60, deadline=None)
@given(people=days, cuts=st.lists(st.integers(0, 60), max_size=5))
def test_insz_day_counters_do_not_depend_on_the_batches(people, cuts):
    birth = np.datetime64("1980-01-01") + np.array([d for d, _ in people])
    is_man = np.array([m for _, m in people])
    whole = DayCounters().take(birth, is_man)
    counters = DayCounters()
    bounds = [0, *sorted(c for c in cuts if c < len(people)), len(people)]
    batched = np.concatenate(
        [counters.take(birth[a:b], is_man[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    )
    assert batched.tolist() == whole.tolist()
    slots = list(zip(birth.tolist(), is_man.tolist(), whole.tolist(), strict=True))
    assert len(set(slots)) == len(slots)  # one counter per person within (day, sex)
    # counters are handed out in person order, from 0, without gaps
    for day, man in set((b, m) for b, m, _ in slots):
        assert sorted(r for b, m, r in slots if (b, m) == (day, man)) == list(
            range(sum(1 for b, m, _ in slots if (b, m) == (day, man)))
        )


def test_synth_command_writes_the_store_generate_writes(tmp_path):
    result = CliRunner().invoke(
        app, ["synth", "--persons", "40", "--seed", "3", "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 0, result.output
    assert "register.persons                       40 rows" in result.output
    synth.generate(40, 3, tmp_path / "direct")
    assert digests(tmp_path / "cli") == digests(tmp_path / "direct")
