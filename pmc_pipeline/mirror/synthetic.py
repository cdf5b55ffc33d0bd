"""A synthetic article, every version of it, as VersionBundles for a layout writer.

`synthetic_article(ctx, index)` turns the plan of article `index` (plan.py) into files:
the pictures (images.py) and their thumbnails, the JATS of each version (articles.py), the
PDF and supplement stand-ins (blobs.py), and the truth entries (truth.py). It reads nothing
but the seed and the index, so any worker can make any article.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import cast

from PIL import Image

from pmc_pipeline.mirror import drawing, images, lookalike, naming, plan, truth
from pmc_pipeline.mirror.articles import (
    ArticleMeta,
    FigureMarkup,
    Supplement,
    article_markup,
    draw_text,
    parse,
    serialize,
)
from pmc_pipeline.mirror.blobs import (
    SUPPLEMENT_TYPES,
    choose_supplement_type,
    pdf_bytes,
    supplement_bytes,
)
from pmc_pipeline.mirror.bundle import ArticleFacts, MediaFile, VersionBundle
from pmc_pipeline.mirror.drawing import VisualSpec
from pmc_pipeline.mirror.images import Encoding
from pmc_pipeline.mirror.rng import chance, rng_for
from pmc_pipeline.mirror.text import caption_markup
from pmc_pipeline.model import Layout, figure_key

NEAR_MAX_DISTANCE = 2  # a near duplicate's phash distance to its source, at most
P_MISSING_THUMBNAIL = 0.4  # of figures whose full image is missing, those without thumbnail


@dataclass(frozen=True)
class SyntheticContext:
    """What every synthetic article of one mirror shares."""

    seed: int
    layout: str
    pmcid_base: int
    snapshot_date: str
    pdf_scale: float = 1.0
    supplement_scale: float = 1.0


@functools.lru_cache(maxsize=65536)
def _header(seed: int, index: int, pmcid_base: int, snapshot_date: str) -> plan.ArticleHeader:
    return plan.article_header(seed, index, pmcid_base, snapshot_date)


@dataclass
class FigureImage:
    """The files of one figure and what they hold."""

    full_name: str
    full_data: bytes | None  # None: the file is missing
    thumb_name: str | None
    thumb_data: bytes | None
    visual: VisualSpec  # what the picture shows (a duplicate's: its source's)
    format: str
    mode: str
    width: int
    height: int
    phash: int | None  # of a decodable full image
    duplicate: dict | None  # {'of', 'kind', 'distance'} for a duplicate


def _thumbnail(picture: Image.Image, full_size: tuple[int, int]) -> bytes:
    return images.thumbnail_gif(picture, images.pmc_thumbnail_size(*full_size))


def _source(
    ctx: SyntheticContext, draft: plan.FigureDraft
) -> tuple[str, plan.FigureDraft, bytes, Image.Image]:
    """(key, draft, file bytes, picture) of the figure a duplicate copies."""
    index, slot = draft.source  # type: ignore[misc]
    header = _header(ctx.seed, index, ctx.pmcid_base, ctx.snapshot_date)
    position, source = plan.source_draft(ctx.seed, header, slot)
    version = header.versions if ctx.layout == Layout.CLOUD else None
    rgb = drawing.render(source.visual)
    return (
        figure_key(header.pmcid, version, position),
        source,
        images.encode(rgb, source.encoding),
        rgb,
    )


def _duplicate_image(
    ctx: SyntheticContext, header: plan.ArticleHeader, draft: plan.FigureDraft, stem: str
) -> FigureImage:
    key, source, source_bytes, source_rgb = _source(ctx, draft)
    if draft.role == "exact_dup":
        data, fmt, mode, rgb = (
            source_bytes,
            source.encoding.format,
            source.encoding.mode,
            source_rgb,
        )
        duplicate = {"of": key, "kind": "same_bytes", "distance": 0}
    elif draft.role == "pixel_dup":
        data, fmt = images.reencode_same_pixels(source_bytes)
        decoded = images.decode(source_bytes)
        mode, rgb = decoded.mode, decoded.convert("RGB")
        duplicate = {"of": key, "kind": "same_pixels", "distance": 0}
    else:
        base = images.decode(source_bytes).convert("RGB")
        base_hash = lookalike.phash(base)
        rng = rng_for(ctx.seed, "near", header.index, draft.slot)
        # The planned change, or milder ones if it moved the hash too far.
        for transform in (cast(str, draft.near_transform), "recompress", "resize"):
            rgb = images.perturb(base, transform, rng)
            quality = images.near_duplicate_quality(transform, rng)
            data = images.encode(rgb, Encoding("JPEG", "RGB", quality=quality))
            dist = lookalike.distance(lookalike.phash(images.decode(data)), base_hash)
            if dist <= NEAR_MAX_DISTANCE:
                break
        fmt, mode = "JPEG", "RGB"
        duplicate = {"of": key, "kind": transform, "distance": dist}
    name = f"{stem}.{images.EXTENSIONS[fmt]}"
    small = images.preview(rgb)
    thumb = None if fmt == "GIF" else _thumbnail(small, rgb.size)
    return FigureImage(
        full_name=name,
        full_data=data,
        thumb_name=None if thumb is None else f"{stem}.gif",
        thumb_data=thumb,
        visual=source.visual,
        format=fmt,
        mode=mode,
        width=rgb.width,
        height=rgb.height,
        phash=lookalike.phash(small),
        duplicate=duplicate,
    )


def _figure_image(
    ctx: SyntheticContext, header: plan.ArticleHeader, draft: plan.FigureDraft, stem: str
) -> FigureImage:
    if draft.source is not None:
        return _duplicate_image(ctx, header, draft, stem)
    enc = draft.encoding
    rgb = drawing.render(draft.visual)
    data: bytes | None = images.encode(rgb, enc)
    extension = "jpg" if draft.misnamed else enc.extension
    rng = rng_for(ctx.seed, "damage", header.index, draft.slot)
    with_thumb = enc.format != "GIF"
    decodable = True
    if draft.role == "corrupt":
        data = images.corrupt(cast(bytes, data), cast(str, draft.corruption), rng)
        decodable = False
    elif draft.role == "missing":
        data = None
        decodable = False
        with_thumb = with_thumb and not chance(rng, P_MISSING_THUMBNAIL)
    size_ok = draft.role not in ("tiny", "extreme")
    small = images.preview(rgb)
    return FigureImage(
        full_name=f"{stem}.{extension}",
        full_data=data,
        thumb_name=f"{stem}.gif" if with_thumb else None,
        thumb_data=_thumbnail(small, rgb.size) if with_thumb else None,
        visual=draft.visual,
        format=enc.format,
        mode=enc.mode,
        width=rgb.width,
        height=rgb.height,
        phash=lookalike.phash(small) if decodable and size_ok else None,
        duplicate=None,
    )


@dataclass
class _Figure:
    draft: plan.FigureDraft
    position: int  # 1-based document order over figures and tables
    markup: FigureMarkup
    image: FigureImage


def _number_figures(
    header: plan.ArticleHeader, drafts: list[plan.FigureDraft]
) -> list[tuple[str, str, str | None, str]]:
    """(id, shown number, label, file stem) of each figure, in document order."""
    counts = {"figure": 0, "table": 0, "app": 0, "sub-article": 0}
    out = []
    for draft in drafts:
        counts[draft.kind] += 1
        n = counts[draft.kind]
        if draft.kind == "table":
            fig_id, shown, label = f"T{n}", str(n), f"Table {n}"
        else:
            fig_id = header.journal.fig_id.format(n=n, art=header.article_number)
            if draft.placement in ("app", "sub-article"):
                counts[draft.placement] += 1
                k = counts[draft.placement]
                shown = f"A{k}" if draft.placement == "app" else f"R{k}"
                label = (
                    f"Appendix figure {k}"
                    if draft.placement == "app"
                    else f"Author response image {k}"
                )
            else:
                shown = str(n - counts["app"] - counts["sub-article"])
                label = header.journal.label.format(n=shown)
        out.append(
            (
                fig_id,
                shown,
                label if draft.has_label else None,
                naming.figure_stem(header, draft.kind, n),
            )
        )
    return out


def _figures(ctx: SyntheticContext, header: plan.ArticleHeader) -> list[_Figure]:
    header_of = functools.partial(header_for, ctx)
    drafts = plan.resolve_sources(ctx.seed, header, plan.figure_drafts(ctx.seed, header), header_of)
    figures: list[_Figure] = []
    group_id = f"fg{header.fig_group_start}" if header.fig_group_start is not None else None
    for position, (draft, (fig_id, shown, label, stem)) in enumerate(
        zip(drafts, _number_figures(header, drafts), strict=True), start=1
    ):
        image = _figure_image(ctx, header, draft, stem)
        earlier_ids = [f.markup.fig_id for f in figures]
        caption = None
        if draft.has_caption:
            caption = caption_markup(
                rng_for(ctx.seed, "caption", header.index, draft.slot), image.visual, earlier_ids
            )
        if ctx.layout == Layout.CLOUD:
            graphics = [(image.full_name, "image")]
            if image.thumb_name:
                graphics.append((image.thumb_name, "thumb"))
        else:
            graphics = [(stem, "image")]
        markup = FigureMarkup(
            fig_id=fig_id,
            kind=draft.kind,
            placement=draft.placement,
            number=shown,
            label=label,
            caption=caption,
            graphics=graphics,
            mentions=draft.mentions,
            group_id=group_id if draft.placement == "fig-group" else None,
            floating=draft.placement == "floats-group"
            or (draft.placement == "fig-group" and header.floats_layout),
        )
        figures.append(_Figure(draft, position, markup, image))
    return figures


def header_for(ctx: SyntheticContext, index: int) -> plan.ArticleHeader:
    """The article-level plan of synthetic article `index`."""
    return _header(ctx.seed, index, ctx.pmcid_base, ctx.snapshot_date)


def _supplements(
    ctx: SyntheticContext, header: plan.ArticleHeader
) -> tuple[list[Supplement], list[MediaFile]]:
    markups, files = [], []
    for n in range(1, header.n_supplements + 1):
        rng = rng_for(ctx.seed, "supplement", header.index, n)
        extension = choose_supplement_type(rng)
        _, mimetype, subtype, _ = SUPPLEMENT_TYPES[extension]
        name = naming.supplement_name(header, n, extension)
        markups.append(Supplement(f"sup{n}", name, mimetype, subtype, f"Supplementary file {n}"))
        files.append(
            MediaFile(
                name,
                supplement_bytes(ctx.seed, (header.index, n), extension, rng, ctx.supplement_scale),
            )
        )
    return markups, files


def citation(header: plan.ArticleHeader) -> str:
    """'J Synth Cell Biol. 2023 Mar 14; 12(3):85-94', as PMC's lists write citations."""
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[
        header.month - 1
    ]
    return (
        f"{header.journal.abbrev}. {header.year} {month} {header.day}; "
        f"{header.volume}({header.issue}):{header.first_page}-{header.first_page + 9}"
    )


def _front_matter(header: plan.ArticleHeader, version: int, pdf_name: str | None) -> ArticleMeta:
    """What the front matter of one version states: the header's facts of the same names,
    the version and the PDF's name."""
    own = ("version", "pdf_name")
    facts = {f.name: getattr(header, f.name) for f in fields(ArticleMeta) if f.name not in own}
    return ArticleMeta(**facts, version=version, pdf_name=pdf_name)


def synthetic_article(ctx: SyntheticContext, index: int) -> list[VersionBundle]:
    """Every version of synthetic article `index` the layout holds, oldest first: all of
    them in the cloud layout; in the legacy layout the newest, and only if open access."""
    header = _header(ctx.seed, index, ctx.pmcid_base, ctx.snapshot_date)
    if ctx.layout == Layout.LEGACY and not header.open_access:
        return []
    figures = _figures(ctx, header)
    supplements, supplement_files = _supplements(ctx, header)
    text = draw_text(rng_for(ctx.seed, "text", index))
    stem = naming.article_stem(header)
    pdf = None
    if header.has_pdf:
        pdf = pdf_bytes(ctx.seed, (index,), rng_for(ctx.seed, "pdf", index), ctx.pdf_scale)
    versions = range(1, header.versions + 1) if ctx.layout == Layout.CLOUD else [header.versions]
    bundles = []
    for version in versions:
        # An older version lacks the figures its successors added at the end.
        shown = figures[: max(0, len(figures) - (header.versions - version))]
        pdf_name = f"{header.pmcid}.{version}.pdf" if ctx.layout == Layout.CLOUD else f"{stem}.pdf"
        meta = _front_matter(header, version, pdf_name if pdf else None)
        markup = article_markup(
            rng_for(ctx.seed, "markup", index, version),
            meta,
            text,
            [f.markup for f in shown],
            supplements,
            ctx.layout,
        )
        xml = serialize(markup, ctx.layout)
        root = parse(xml)
        key_version = version if ctx.layout == Layout.CLOUD else None
        media: list[MediaFile] = []
        figure_truths, phashes = [], []
        xml_facts = truth.figure_facts(root)
        for figure in shown:
            image = figure.image
            if image.full_data is not None:
                media.append(MediaFile(image.full_name, image.full_data))
            if image.thumb_data is not None:
                media.append(MediaFile(cast(str, image.thumb_name), image.thumb_data))
            key = figure_key(header.pmcid, key_version, figure.position)
            figure_truths.append(
                truth.synthetic_figure(
                    key, figure.position, figure.draft, figure.markup, image, xml_facts
                )
            )
            if image.phash is not None:
                phashes.append((key, image.phash))
        media.extend(supplement_files)
        latest = version == header.versions
        facts = ArticleFacts(
            pmid=header.pmid,
            doi=header.doi,
            mid=header.mid,
            title=truth.article_title(root),
            citation=citation(header),
            open_access=header.open_access,
            manuscript=header.manuscript,
            historical_ocr=header.historical_ocr,
            retracted=header.retracted,
            license_code=header.license_code,
        )
        bundles.append(
            VersionBundle(
                pmcid=header.pmcid,
                version=version,
                latest=latest,
                updated=header.updated[version - 1],
                xml=xml,
                stem=stem,
                text=truth.plain_text(root),
                pdf=pdf,
                media=media,
                facts=facts,
                truth=truth.synthetic_article(
                    header,
                    version,
                    key_version,
                    latest,
                    facts,
                    figure_truths,
                    [f.name for f in supplement_files],
                ),
                phashes=phashes if latest else [],
            )
        )
    return bundles
