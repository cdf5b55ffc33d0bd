"""croissant.json: the build described in MLCommons Croissant 1.0 (JSON-LD).

Distribution: a FileObject for stats.json (with its sha256) and one FileSet per kind of
published file (the WebDataset shards, the Parquet pairs, figures and articles), each a glob
relative to the folder croissant.json sits in, so the description stays valid wherever the
folder is copied (a Hub repository, a bucket, a disk). Record sets: one per Parquet table,
its fields typed from the same Arrow schemas the Parquet files are written with (so from the
JSON Schemas in schemas/), each field's description the schema's; a `splits` record set
names the splits (cr:Split) that the pairs' `split` field refers to. The shards hold the
images: the pairs record set describes their sidecar, which is the Parquet pair row.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from pmc_pipeline.hub.facts import BuildFacts
from pmc_pipeline.hub.features import describe
from pmc_pipeline.schemas_io import arrow_schema, load_schema

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
# The JSON-LD context of Croissant 1.0, as the specification gives it.
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
PARQUET, TAR, JSON = "application/x-parquet", "application/x-tar", "application/json"

# Record set -> (JSON Schema name, its FileSet, the field that keys a record).
TABLES = {
    "pairs": ("pair", "parquet-pairs", "key"),
    "figures": ("figure", "parquet-figures", "key"),
    "articles": ("article_row", "parquet-articles", "article_key"),
}
SPLITS = "splits"


def _data_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "sc:Text"
    if pa.types.is_integer(arrow_type):
        return "sc:Integer"
    if pa.types.is_floating(arrow_type):
        return "sc:Float"
    if pa.types.is_boolean(arrow_type):
        return "sc:Boolean"
    raise ValueError(f"no Croissant dataType for the Arrow type {arrow_type}")


def _field(record_set: str, file_set: str, f: pa.Field, parent: tuple[str, ...] = ()) -> dict:
    """A cr:Field for an Arrow field; a list is `repeated`, a struct has subFields that
    read their part of the column with a JSON path."""
    path = (*parent, f.name)
    inner, repeated = f.type, False
    while pa.types.is_list(inner) or pa.types.is_large_list(inner):
        inner, repeated = inner.value_type, True
    node = {
        "@type": "cr:Field",
        "@id": f"{record_set}/{'/'.join(path)}",
        "name": f.name,
        "description": describe(f),
    }
    source: dict = {"fileSet": {"@id": file_set}, "extract": {"column": path[0]}}
    if parent:
        source["transform"] = {"jsonPath": "$." + ".".join(path[1:])}
    if pa.types.is_struct(inner):
        node["subField"] = [_field(record_set, file_set, child, path) for child in inner]
    else:
        node["dataType"] = _data_type(inner)
    node["source"] = source
    if repeated:
        node["repeated"] = True
    if not node["description"]:
        del node["description"]
    return node


def _record_set(name: str, *, with_splits: bool) -> dict:
    schema_name, file_set, key = TABLES[name]
    fields = [_field(name, file_set, f) for f in arrow_schema(schema_name)]
    for f in fields:
        if name == "pairs" and with_splits and f["name"] == "split":
            f["references"] = {"field": {"@id": f"{SPLITS}/name"}}  # one of the named splits
    return {
        "@type": "cr:RecordSet",
        "@id": name,
        "name": name,
        "description": load_schema(schema_name).get("description", ""),
        "key": {"@id": f"{name}/{key}"},
        "field": fields,
    }


def _splits_record_set(facts: BuildFacts) -> dict:
    return {
        "@type": "cr:RecordSet",
        "@id": SPLITS,
        "name": SPLITS,
        "dataType": "cr:Split",
        "description": "The splits of the pairs, decided by article (never two splits for one "
        "article).",
        "key": {"@id": f"{SPLITS}/name"},
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{SPLITS}/name",
                "name": "name",
                "description": "the split's name, as in the pairs' `split` field",
                "dataType": "sc:Text",
            }
        ],
        "data": [{f"{SPLITS}/name": split} for split in facts.build_splits],
    }


def croissant(
    facts: BuildFacts,
    *,
    name: str,
    description: str,
    license_url: str,
    cite_as: str,
    keywords: list[str],
    stats_bytes: bytes,
) -> dict:
    """The Croissant description of a build (a dict to write as JSON)."""
    build = facts.stats.get("build") or {}
    doc = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": name,
        "description": description,
        "license": license_url,
        "citeAs": cite_as,
        "keywords": keywords,
        "isLiveDataset": False,
    }
    # The version and date of the build, when stats.json records them (builds made before
    # it did have neither: Croissant only recommends them).
    if build.get("version"):
        doc["version"] = str(build["version"])
    if build.get("built_at"):
        doc["datePublished"] = str(build["built_at"])
    doc["distribution"] = [
        {
            "@type": "cr:FileObject",
            "@id": "stats.json",
            "name": "stats.json",
            "description": "What the build counted: statuses, reasons, pairs per split, the "
            "accounting identity.",
            "contentUrl": "stats.json",
            "encodingFormat": JSON,
            "sha256": hashlib.sha256(stats_bytes).hexdigest(),
        },
        {
            "@type": "cr:FileSet",
            "@id": "webdataset-shards",
            "name": "webdataset-shards",
            "description": "WebDataset shards, one folder per split: <key>.jpg (the image), "
            "<key>.txt (the caption), <key>.json (the pair record, as in parquet/pairs).",
            "encodingFormat": TAR,
            "includes": "webdataset/*/*.tar",
        },
        {
            "@type": "cr:FileSet",
            "@id": "parquet-pairs",
            "name": "parquet-pairs",
            "description": "One row per kept pair, one folder per split, one file per shard.",
            "encodingFormat": PARQUET,
            "includes": "parquet/pairs/*/*.parquet",
        },
        {
            "@type": "cr:FileSet",
            "@id": "parquet-figures",
            "name": "parquet-figures",
            "description": "One row per figure seen, kept or not, with its status and reason.",
            "encodingFormat": PARQUET,
            "includes": "parquet/figures/*.parquet",
        },
        {
            "@type": "cr:FileSet",
            "@id": "parquet-articles",
            "name": "parquet-articles",
            "description": "One row per article listed, with its status and reason.",
            "encodingFormat": PARQUET,
            "includes": "parquet/articles/*.parquet",
        },
    ]
    # A build that kept no pair has no split to name (and Croissant wants data non-empty).
    with_splits = bool(facts.build_splits)
    splits = [_splits_record_set(facts)] if with_splits else []
    doc["recordSet"] = splits + [_record_set(n, with_splits=with_splits) for n in TABLES]
    return doc
