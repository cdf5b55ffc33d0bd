"""Access to the JSON Schemas in schemas/ (installed as the package pmc_pipeline.schemas)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent / "schemas"


@cache
def load_schema(name: str) -> dict:
    """The JSON Schema `schemas/<name>.schema.json` as a dict."""
    filename = f"{name}.schema.json"
    if (_SOURCE_TREE / filename).is_file():  # a source checkout or editable install
        return json.loads((_SOURCE_TREE / filename).read_text(encoding="utf-8"))
    return json.loads(resources.files("pmc_pipeline.schemas").joinpath(filename).read_text("utf-8"))


def _arrow_type(prop: dict):
    import pyarrow as pa

    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    base = [t for t in types if t != "null"]
    if len(base) != 1:
        raise ValueError(f"cannot map JSON Schema type {types!r} to Arrow")
    kind = base[0]
    if kind == "array":
        return pa.list_(_arrow_type(prop["items"]))
    if kind == "object":  # a fixed set of properties: a struct, fields in schema order
        return pa.struct(
            [pa.field(name, _arrow_type(sub)) for name, sub in prop["properties"].items()]
        )
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
    }[kind]


def arrow_schema(name: str, extra: dict | None = None, *, nullable: bool = False):
    """The Arrow schema of the records described by `schemas/<name>.schema.json`, fields in
    the JSON Schema's property order; `extra` maps additional field names to Arrow types
    (e.g. the image bytes of staging rows, which the published records do not carry).
    `nullable=True` relaxes every field (staging rows are filled in over two phases)."""
    import pyarrow as pa

    schema = load_schema(name)
    required = set(schema.get("required", ()))
    fields = []
    for field_name, prop in schema["properties"].items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        optional = nullable or "null" in types or field_name not in required
        fields.append(pa.field(field_name, _arrow_type(prop), nullable=optional))
    for field_name, arrow_type in (extra or {}).items():
        fields.append(pa.field(field_name, arrow_type))
    return pa.schema(fields)
