"""Arrow schemas derived from schemas/*.json: every field carries its JSON Schema description
as field metadata, in every table a build writes (published and staging), read back from
real Parquet files; nested objects and arrays map to structs and lists."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.nested_schemas import COMPOUND, PANEL

from pmc_pipeline import schemas_io
from pmc_pipeline.outputs import Output
from pmc_pipeline.records import arrow_schemas
from pmc_pipeline.schemas_io import DESCRIPTION, arrow_schema, field_description, load_schema
from pmc_pipeline.staging import write_parquet

# Each table a build writes -> the JSON Schema it derives from.
SOURCES = {
    "pair": "pair",
    "figure": "figure",
    "article_row": "article_row",
    "staging_figure": "figure",
    "staging_article": "article_row",
}


def test_every_table_written_is_covered():
    assert sorted(arrow_schemas()) == sorted(SOURCES)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_field_of_every_written_table_has_a_description(name):
    schema = arrow_schemas()[name]
    assert [f.name for f in schema if not field_description(f)] == []
    source = load_schema(SOURCES[name])
    for field in schema:
        if field.name in source["properties"]:
            assert field_description(field) == source["properties"][field.name]["description"]


def test_descriptions_survive_a_parquet_file_and_equal_rows_give_equal_bytes(tmp_path):
    out = Output(str(tmp_path))
    schema = arrow_schemas()["staging_figure"]
    row = {f.name: None for f in schema} | {"key": "PMC1v1_f001", "mentions": ["see Fig. 1"]}
    write_parquet(out, "a.parquet", [row], schema)
    write_parquet(out, "b.parquet", [row], schema)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    read = pq.read_schema(tmp_path / "a.parquet")
    assert read.field("caption").metadata == {
        DESCRIPTION: b"the full caption text (title and every paragraph)"
    }
    assert field_description(read.field("jpeg_offset")).startswith("offset of the JPEG")
    assert pq.read_table(tmp_path / "a.parquet").to_pylist() == [row]


NESTED = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "description": "the key"},
        "kind": {"enum": ["figure", "table"], "description": "an enum with no type"},
        "panels": {
            "type": "array",
            "description": "the panels",
            "items": {"$ref": "#/$defs/panel"},
        },
        "compound": {**COMPOUND, "description": "compound figure"},
    },
    "required": ["key", "kind", "panels"],
    "$defs": {"panel": PANEL},
}


@pytest.fixture
def schema_dir(tmp_path, monkeypatch):
    """schemas_io reading its JSON Schemas from tmp_path."""
    monkeypatch.setattr(schemas_io, "_SOURCE_TREE", tmp_path)
    load_schema.cache_clear()
    yield tmp_path
    load_schema.cache_clear()


def test_nested_objects_and_arrays_map_to_structs_and_lists(schema_dir):
    (schema_dir / "nested.schema.json").write_text(json.dumps(NESTED))
    schema = arrow_schema("nested")
    panel = pa.struct(
        [
            pa.field("label", pa.string(), nullable=True),
            pa.field("bbox", pa.list_(pa.float64()), nullable=False),
        ]
    )
    assert schema.field("kind").type == pa.string()
    assert schema.field("panels").type == pa.list_(panel)
    assert schema.field("compound").type == pa.struct(
        [pa.field("is_compound", pa.bool_(), nullable=False)]
    )
    assert schema.field("compound").nullable and not schema.field("key").nullable
    assert field_description(schema.field("panels").type.value_type.field("label")) == (
        "panel label"
    )
    assert field_description(schema.field("compound").type.field("is_compound")) == "yes or no"
    rows = [
        {
            "key": "k",
            "kind": "figure",
            "panels": [{"label": "A", "bbox": [0.0, 1.0]}],
            "compound": {"is_compound": True},
        }
    ]
    assert pa.Table.from_pylist(rows, schema=schema).to_pylist() == rows


def test_a_schema_arrow_cannot_hold_is_refused_with_the_reason(schema_dir):
    free_form = {"type": "object", "properties": {"extra": {"type": "object"}}}
    (schema_dir / "free.schema.json").write_text(json.dumps(free_form))
    with pytest.raises(ValueError, match="needs 'properties'"):
        arrow_schema("free")
    remote = {"type": "object", "properties": {"x": {"$ref": "https://x.invalid/s.json"}}}
    (schema_dir / "remote.schema.json").write_text(json.dumps(remote))
    with pytest.raises(ValueError, match="only local"):
        arrow_schema("remote")
