"""The build's Parquet writer (staging.write_parquet): written a row group at a time, in the
order given, it gives the bytes pyarrow's own pq.write_table gives for the sorted table with
the same settings, however the rows were batched."""

from __future__ import annotations

import io
import random

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pmc_pipeline import shards, staging
from pmc_pipeline.outputs import Output

SCHEMA = pa.schema([("key", pa.string()), ("caption", pa.string()), ("n", pa.int64())])


def rows(n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = [
        {
            "key": f"PMC{rng.randrange(10**7)}v1_f{i:03d}",
            "caption": "x" * rng.randrange(300),
            "n": i,
        }
        for i in range(n)
    ]
    rng.shuffle(out)
    return out


def reference(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(
        table.combine_chunks(),
        buffer,
        compression="zstd",
        row_group_size=staging.ROW_GROUP_SIZE,
        write_statistics=True,
    )
    return buffer.getvalue()


@pytest.mark.parametrize("n", [0, 1, 9_999, 10_000, 23_456])
def test_sorted_row_groups_give_pyarrows_bytes(tmp_path, n):
    table = pa.Table.from_batches(
        pa.Table.from_pylist(rows(n), schema=SCHEMA).to_batches(max_chunksize=1_234), SCHEMA
    )
    order = pc.sort_indices(table, sort_keys=[("key", "ascending")])
    staging.write_parquet(Output(str(tmp_path)), "t.parquet", table, SCHEMA, order)
    written = (tmp_path / "t.parquet").read_bytes()
    assert written == reference(table.sort_by("key"))
    assert pq.ParquetFile(tmp_path / "t.parquet").metadata.num_row_groups == max(
        1, -(-n // staging.ROW_GROUP_SIZE)
    )
    assert staging.parquet_bytes(table.sort_by("key"), SCHEMA) == written


def test_a_table_part_is_sorted_by_key_from_dicts_or_arrow(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "arrow_schemas", lambda: {"t": SCHEMA})
    given = rows(12_345)
    out = Output(str(tmp_path))
    from_dicts = shards.write_table_part(out, "figures", 0, given, "t")
    first = (tmp_path / from_dicts["path"]).read_bytes()
    shards.write_table_part(out, "figures", 0, pa.Table.from_pylist(given, schema=SCHEMA), "t")
    assert (tmp_path / from_dicts["path"]).read_bytes() == first
    got = pq.read_table(tmp_path / from_dicts["path"]).to_pylist()
    assert got == sorted(given, key=lambda r: r["key"])
