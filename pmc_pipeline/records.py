"""The rows a build writes, built from the model objects.

The published shapes are the JSON Schemas in schemas/ (article_row, figure, pair); staging
rows are those plus a few working columns (STAGING_*_EXTRA). Keeping every row builder here
means the Beam job, the plain loop and the tests produce identical rows.
"""

from __future__ import annotations

import pyarrow as pa

from pmc_pipeline.captions import caption_fields
from pmc_pipeline.filters import caption_tokens
from pmc_pipeline.model import Article, ArticleRef, Figure, figure_key
from pmc_pipeline.schemas_io import arrow_schema, load_schema

# Working columns of staging rows, (Arrow type, description); assemble drops them before
# publishing.
_GENERATION = (pa.int64(), "the extract run that staged the row (newer generations win)")
_CHUNK = (pa.string(), "the staging chunk holding the row, g<generation>-<bucket>")
STAGING_ARTICLE_EXTRA = {"generation": _GENERATION, "chunk": _CHUNK}
# A candidate's JPEG is not a column: staging.write_chunk puts it in the chunk's images.bin
# and the row keeps where (chunk, jpeg_offset; its length is image_bytes).
STAGING_FIGURE_EXTRA = {
    "generation": _GENERATION,
    "chunk": _CHUNK,
    "jpeg_offset": (pa.int64(), "offset of the JPEG in the chunk's images.bin; null: no JPEG"),
    "jpeg_crc32": (pa.int64(), "CRC-32 of the JPEG, checked when it is read back"),
}


def article_row(
    ref: ArticleRef,
    article: Article | None,
    status: str,
    reason: str | None,
    *,
    bytes_read: int = 0,
    n_figures: int = 0,
) -> dict:
    """The article's row. The listing (ref) is authoritative for identity; the parsed XML, when
    there is one, adds bibliographic metadata. n_kept is filled in by assemble."""
    a = article or Article()
    license_code = a.license.code if article else None
    return {
        "article_key": ref.key,
        "pmcid": ref.pmcid,
        "version": ref.version,
        "pmid": ref.pmid or a.pmid,
        "doi": a.doi,
        "title": a.title,
        "journal": a.journal,
        "publisher": a.publisher,
        "year": a.year,
        "article_type": a.article_type,
        "license": license_code or _listing_license(ref),
        "license_url": a.license.url if article else None,
        "keywords": list(a.keywords),
        "citation": ref.citation,
        "layout": ref.layout,
        "location": ref.location,
        "last_updated": ref.last_updated,
        "etag": ref.etag,
        "status": status,
        "reason": reason_code(reason),
        "reason_detail": reason_detail(reason),
        "n_figures": n_figures,
        "n_kept": 0,
        "bytes_read": int(bytes_read),
        "split": None,  # decided at assemble, where the split fractions are options
    }


def reason_code(reason: str | None) -> str | None:
    """The code of a reason as the steps state it ('fetch: 503 after 5 attempts' -> 'fetch'):
    what the `reason` column holds, and what stats.json counts by."""
    return reason.split(":", 1)[0].strip() if reason else None


def reason_detail(reason: str | None) -> str | None:
    """The free text after the code ('503 after 5 attempts'), or None: `reason_detail`."""
    if not reason or ":" not in reason:
        return None
    return reason.split(":", 1)[1].strip() or None


def full_reason(row: dict) -> str | None:
    """A row's reason as one line, code and detail: 'fetch: 503 after 5 attempts'."""
    if not row.get("reason"):
        return None
    detail = row.get("reason_detail")
    return f"{row['reason']}: {detail}" if detail else row["reason"]


def _listing_license(ref: ArticleRef) -> str | None:
    from pmc_pipeline.licenses import normalize_license

    return normalize_license(ref.license)


def figure_row(
    ref: ArticleRef,
    article: Article,
    figure: Figure,
    status: str,
    reason: str | None,
    image=None,
    jpeg: bytes | None = None,
    image_name: str | None = None,
) -> dict:
    """An extracted figure row: the published figure fields plus the JPEG of a candidate
    (which staging.write_chunk moves out of the row into the chunk's images.bin)."""
    meta = image.to_metadata() if image is not None else {}
    return {
        "key": figure_key(ref.pmcid, ref.version, figure.index),
        "article_key": ref.key,
        "pmcid": ref.pmcid,
        "version": ref.version,
        "figure_id": figure.id,
        "figure_index": figure.index,
        "kind": figure.kind,
        "label": figure.label,
        "caption": figure.caption,
        "caption_tokens": caption_tokens(figure.caption),
        **caption_fields(figure.caption, figure.title),  # types, compound, panels
        "placement": figure.placement,
        "parent_group": figure.parent_group,
        "graphic_href": figure.image_href,
        "image_name": image_name,
        "mentions": list(figure.mentions),
        "width": meta.get("width"),
        "height": meta.get("height"),
        "orig_width": meta.get("orig_width"),
        "orig_height": meta.get("orig_height"),
        "orig_format": meta.get("orig_format"),
        "orig_mode": meta.get("orig_mode"),
        "image_bytes": len(jpeg) if jpeg is not None else None,
        "pixel_sha256": meta.get("pixel_sha256"),
        "phash": meta.get("phash"),
        "status": status,
        "reason": reason_code(reason),
        "reason_detail": reason_detail(reason),
        "duplicate_of": None,
        "split": None,
        "jpeg": jpeg,
    }


ARTICLE_FIELDS = tuple(load_schema("article_row")["properties"])
FIGURE_FIELDS = tuple(load_schema("figure")["properties"])
PAIR_FIELDS = tuple(load_schema("pair")["properties"])
EVIDENCE_TYPES = tuple(load_schema("pair")["properties"]["figure_type_evidence"]["properties"])


def published(row: dict, fields: tuple[str, ...]) -> dict:
    """The row restricted to a published schema's fields, in schema order."""
    return {name: row.get(name) for name in fields}


def pair_record(figure: dict, article: dict, shard: str) -> dict:
    """The published pair of a kept figure: its sidecar JSON and Parquet row."""
    merged = {**article, **figure, "shard": shard, "split": figure["split"]}
    # Every type of the evidence struct, null where none was found: the sidecar is then
    # equal to the Parquet row, whichever way the row was made.
    evidence = merged.get("figure_type_evidence") or {}
    merged["figure_type_evidence"] = {t: evidence.get(t) or None for t in EVIDENCE_TYPES}
    return published(merged, PAIR_FIELDS)


def arrow_schemas() -> dict[str, pa.Schema]:
    return {
        "article_row": arrow_schema("article_row"),
        "figure": arrow_schema("figure"),
        "pair": arrow_schema("pair"),
        "staging_article": arrow_schema("article_row", STAGING_ARTICLE_EXTRA, nullable=True),
        "staging_figure": arrow_schema("figure", STAGING_FIGURE_EXTRA, nullable=True),
    }
