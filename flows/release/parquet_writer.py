"""Parquet files written a batch of rows at a time, in row groups of a fixed number of rows.

The row groups hold the same rows however the batches arrive (one frame, a chunk of persons, a
slice of persons), and each group is written as one contiguous table, so the bytes of the file
depend on its rows only: the source store is the same whatever the generator's chunk size, and a
release is the same whatever the number of slices it was built in.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Rows per Parquet row group, whatever the batches: this is what makes the bytes batch-free.
ROW_GROUP_ROWS = 131_072
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3


class RowGroupWriter:
    """A Parquet file written in row groups of exactly `row_group_rows` rows (the last: fewer),
    however the rows arrive. Every batch is cast to the schema the writer was opened with."""

    def __init__(self, path: Path, schema: pa.Schema, row_group_rows: int = ROW_GROUP_ROWS):
        self._writer = pq.ParquetWriter(
            path, schema, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL
        )
        self._schema = schema
        self._group = row_group_rows
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.schema != self._schema:
            table = table.cast(self._schema)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= self._group:
            pending = pa.concat_tables(self._pending)
            full = pending.num_rows - pending.num_rows % self._group
            for offset in range(0, full, self._group):
                self._write_group(pending.slice(offset, self._group))
            # a copy of the rows left: a slice of `pending` would keep all its buffers alive
            rest = pending.slice(full).combine_chunks()
            self._pending, self._pending_rows = [rest], rest.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._write_group(pa.concat_tables(self._pending))
        self._pending, self._pending_rows = [], 0
        self._writer.close()

    def discard(self) -> None:
        """Close the file without the pending rows (the run failed; the caller removes it)."""
        self._pending, self._pending_rows = [], 0
        self._writer.close()

    def _write_group(self, table: pa.Table) -> None:
        # One contiguous table per group, so the bytes do not depend on how it was assembled.
        self._writer.write_table(table.combine_chunks(), row_group_size=self._group)
