"""Access to the JSON Schemas in schemas/ (installed as the package pmc_pipeline.schemas), and
the Arrow schemas derived from them.

Every Arrow field carries its JSON Schema `description` as field metadata
(`{b"description": ...}`), so a Parquet file written with these schemas documents its own
columns; pyarrow, pandas and DuckDB show it, and the Hub files (pmc_pipeline.hub) read the
same metadata back for the dataset card and croissant.json.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent / "schemas"
DESCRIPTION = b"description"  # the Arrow field metadata key of a field's description


@cache
def load_schema(name: str) -> dict:
    """The JSON Schema `schemas/<name>.schema.json` as a dict."""
    filename = f"{name}.schema.json"
    if (_SOURCE_TREE / filename).is_file():  # a source checkout or editable install
        return json.loads((_SOURCE_TREE / filename).read_text(encoding="utf-8"))
    return json.loads(resources.files("pmc_pipeline.schemas").joinpath(filename).read_text("utf-8"))


def _resolve(prop: dict, root: dict) -> dict:
    """`prop` with a local `$ref` ('#/$defs/panel') replaced by what it points at (sibling
    keywords such as a description win over the target's)."""
    ref = prop.get("$ref")
    if ref is None:
        return prop
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref ('#/...') can map to Arrow, not {ref!r}")
    target = root
    for part in ref[2:].split("/"):
        target = target[part]
    return {**_resolve(target, root), **{k: v for k, v in prop.items() if k != "$ref"}}


def _types(prop: dict) -> list[str]:
    """The JSON Schema types a property allows ('null' included); an enum or const without
    a type gives the type of its values."""
    if "type" in prop:
        return prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    values = prop.get("enum", [prop["const"]] if "const" in prop else [])
    names = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
    found = sorted({names.get(type(v), "?") for v in values})
    if not found or "?" in found:
        raise ValueError(f"cannot tell the type of {prop!r}: give it a 'type'")
    return found


def _arrow_type(prop: dict, root: dict):
    import pyarrow as pa

    types = _types(prop)
    base = [t for t in types if t != "null"]
    if len(base) != 1:
        raise ValueError(f"cannot map JSON Schema type {types!r} to Arrow")
    kind = base[0]
    if kind == "array":
        if "items" not in prop:
            raise ValueError(f"an array needs 'items' to map to Arrow: {prop!r}")
        return pa.list_(_arrow_type(_resolve(prop["items"], root), root))
    if kind == "object":
        if not prop.get("properties"):
            raise ValueError(f"an object needs 'properties' to map to Arrow: {prop!r}")
        return pa.struct(_arrow_fields(prop, root, nullable=False))
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
    }[kind]


def _arrow_fields(obj: dict, root: dict, *, nullable: bool) -> list:
    """The Arrow fields of an object schema's properties, in their order, each with its
    description as metadata. A field is nullable when null is allowed, when it is not
    required, or when `nullable` relaxes every field."""
    import pyarrow as pa

    required = set(obj.get("required", ()))
    fields = []
    for name, prop in obj["properties"].items():
        prop = _resolve(prop, root)
        optional = nullable or "null" in _types(prop) or name not in required
        description = prop.get("description")
        metadata = {DESCRIPTION: description.encode("utf-8")} if description else None
        fields.append(pa.field(name, _arrow_type(prop, root), nullable=optional, metadata=metadata))
    return fields


def arrow_schema(name: str, extra: dict | None = None, *, nullable: bool = False):
    """The Arrow schema of the records described by `schemas/<name>.schema.json`, fields in
    the JSON Schema's property order, each carrying its description as field metadata.
    `extra` maps additional field names to Arrow types, or to (type, description) pairs
    (e.g. the working columns of staging rows, which the published records do not carry).
    `nullable=True` relaxes every top-level field (staging rows are filled in over two
    phases)."""
    import pyarrow as pa

    schema = load_schema(name)
    fields = _arrow_fields(schema, schema, nullable=nullable)
    for field_name, spec in (extra or {}).items():
        arrow_type, description = spec if isinstance(spec, tuple) else (spec, None)
        metadata = {DESCRIPTION: description.encode("utf-8")} if description else None
        fields.append(pa.field(field_name, arrow_type, metadata=metadata))
    return pa.schema(fields)


def field_description(field) -> str | None:
    """The description an Arrow field carries (see arrow_schema), or None."""
    value = (field.metadata or {}).get(DESCRIPTION)
    return value.decode("utf-8") if value is not None else None
