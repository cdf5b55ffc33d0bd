"""Typed features for the dataset card, derived from the Arrow schemas of the records
(pmc_pipeline.schemas_io.arrow_schema, itself derived from schemas/*.json), never written
by hand: a field added to a JSON Schema appears in the card by itself.

The card's YAML spells features the way the Hugging Face `datasets` library writes them
(`dtype: string`, `list: string`, `struct: [...]`); `datasets` itself is not needed to write
them, only to read them (tests/test_hub.py checks both agree).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from pmc_pipeline.schemas_io import arrow_schema, field_description

# Arrow types -> the `dtype` names `datasets` uses for them (where the two differ from
# str(type), e.g. Arrow's 'double' is datasets' 'float64').
_DTYPES = {
    pa.string(): "string",
    pa.large_string(): "large_string",
    pa.bool_(): "bool",
    pa.int8(): "int8",
    pa.int16(): "int16",
    pa.int32(): "int32",
    pa.int64(): "int64",
    pa.uint8(): "uint8",
    pa.uint16(): "uint16",
    pa.uint32(): "uint32",
    pa.uint64(): "uint64",
    pa.float16(): "float16",
    pa.float32(): "float32",
    pa.float64(): "float64",
    pa.binary(): "binary",
    pa.large_binary(): "large_binary",
}

# The members of a WebDataset sample as the `datasets` webdataset loader names its columns:
# one per member extension, plus the sample key and the shard it came from.
IMAGE_MEMBER, CAPTION_MEMBER, SIDECAR_MEMBER = "jpg", "txt", "json"
WDS_KEY, WDS_URL = "__key__", "__url__"


def feature_yaml(arrow_type: pa.DataType) -> dict:
    """One feature as the card's YAML spells it (without its name)."""
    if pa.types.is_struct(arrow_type):
        return {"struct": fields_yaml(arrow_type)}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        kind = "list" if pa.types.is_list(arrow_type) else "large_list"
        item = feature_yaml(arrow_type.value_type)
        # datasets' short forms: `list: string` for a list of values, `list: [fields]` for
        # a list of structs.
        if list(item) == ["dtype"]:
            return {kind: item["dtype"]}
        if list(item) == ["struct"]:
            return {kind: item["struct"]}
        return {kind: item}
    if arrow_type in _DTYPES:
        return {"dtype": _DTYPES[arrow_type]}
    raise ValueError(f"no Hugging Face feature for the Arrow type {arrow_type}")


def fields_yaml(fields) -> list[dict]:
    """The YAML feature list of Arrow fields (a schema or a struct type's fields)."""
    return [{"name": f.name, **feature_yaml(f.type)} for f in fields]


def sidecar_type() -> pa.StructType:
    """The JSON sidecar of a shard sample: the pair record as a struct."""
    return pa.struct(list(arrow_schema("pair")))


def webdataset_features_yaml() -> list[dict]:
    """The features of a shard sample: the image, the caption, the typed sidecar, and the
    key and shard columns the loader adds. Declared so that the `datasets` webdataset loader
    does not infer the sidecar's types from its first few samples (where a field that is
    mostly null, e.g. parent_group, would be typed null and fail on the first real value)."""
    return [
        {"name": IMAGE_MEMBER, "dtype": "image"},
        {"name": SIDECAR_MEMBER, **feature_yaml(sidecar_type())},
        {"name": CAPTION_MEMBER, "dtype": "string"},
        {"name": WDS_KEY, "dtype": "string"},
        {"name": WDS_URL, "dtype": "string"},
    ]


def webdataset_features():
    """The same features as a `datasets.Features`, for loading shards without the card:
    `load_dataset("webdataset", data_files=..., features=webdataset_features())`."""
    import datasets

    sidecar = datasets.Features.from_arrow_schema(arrow_schema("pair"))
    return datasets.Features(
        {
            IMAGE_MEMBER: datasets.Image(),
            SIDECAR_MEMBER: dict(sidecar),
            CAPTION_MEMBER: datasets.Value("string"),
            WDS_KEY: datasets.Value("string"),
            WDS_URL: datasets.Value("string"),
        }
    )


def type_label(arrow_type: pa.DataType) -> str:
    """A short type name for the card's field tables: string, int64, list<string>, struct."""
    if pa.types.is_struct(arrow_type):
        return "struct"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"list<{type_label(arrow_type.value_type)}>"
    return feature_yaml(arrow_type)["dtype"]


def flat_fields(fields, prefix: str = "") -> Iterator[tuple[str, pa.Field]]:
    """(dotted path, field) of every field, nested ones included: a struct's children as
    `parent.child`, the children of a list of structs as `parent[].child`."""
    for f in fields:
        path = f"{prefix}{f.name}"
        yield path, f
        inner = f.type
        suffix = "."
        while pa.types.is_list(inner) or pa.types.is_large_list(inner):
            inner, suffix = inner.value_type, "[]" + suffix
        if pa.types.is_struct(inner):
            yield from flat_fields(inner, path + suffix)


def describe(field: pa.Field) -> str:
    return field_description(field) or ""
