"""The ground truth of a mirror: OUT/.mirror-truth.json (format in docs/mirror.md).

Workers describe each article version as they make it (`synthetic_article`,
`synthetic_figure`); `TruthWriter` streams those entries to a scratch file and, once every
article is in, writes the final file with what only the whole mirror shows: which images
are duplicated by which (dup_groups) and which unrelated images look alike by accident
(similar_pairs). The file is hidden (leading dot) so it is not part of the layout.

Expected statuses follow the project's documented defaults (pmc_pipeline/filters.py:
tables dropped, captions of at least 3 words, min side 128 px, max aspect ratio 10, the
.gif thumbnail used when the full image is missing; sources/selection.py: retracted and
not-open-access articles excluded). Where the outcome depends on a choice the truth cannot
know (which member of a duplicate group is canonical), it is null.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from pmc_pipeline.mirror import lookalike
from pmc_pipeline.mirror.files import epoch
from pmc_pipeline.mirror.images import NEAR_TRANSFORMS
from pmc_pipeline.model import ArticleStatus, FigureStatus, article_key

TRUTH_NAME = ".mirror-truth.json"
FORMAT = "pmc-pipeline-mirror-truth/1"
MIN_CAPTION_WORDS = 3
THUMBNAIL_FALLBACK_REASON = "min_side"  # a thumbnail's short side is at most 100 px


def _local(element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _norm(text: str) -> str:
    return " ".join(text.split())


def _ancestors(element):
    parent = element.getparent()
    while parent is not None:
        yield parent
        parent = parent.getparent()


# --- facts read back from the XML we wrote --------------------------------------------------


def caption_text(caption) -> str:
    """A caption's text: its <title> and each <p>, whitespace-normalised, joined by spaces."""
    blocks = [c for c in caption if _local(c) in ("title", "p")]
    return " ".join(t for t in (_norm("".join(b.itertext())) for b in blocks) if t)


def figure_facts(root) -> dict[str, dict]:
    """For each <fig>/<table-wrap> id: its caption text (None without <caption>) and the
    number of body paragraphs citing it (an xref whose rid lists the id; paragraphs inside
    captions do not count)."""
    facts: dict[str, dict] = {}
    for element in root.iter():
        if _local(element) in ("fig", "table-wrap") and element.get("id"):
            caption = next((c for c in element if _local(c) == "caption"), None)
            facts[element.get("id")] = {
                "caption": caption_text(caption) if caption is not None else None,
                "mentions": 0,
            }
    for p in root.iter():
        if _local(p) != "p" or any(_local(a) == "caption" for a in _ancestors(p)):
            continue
        cited: set[str] = set()
        for xref in p.iter():
            if _local(xref) == "xref" and xref.get("ref-type") in ("fig", "table"):
                cited.update((xref.get("rid") or "").split())
        for rid in cited & facts.keys():
            facts[rid]["mentions"] += 1
    return facts


def article_title(root) -> str | None:
    for element in root.iter():
        if _local(element) == "article-title":
            return _norm("".join(element.itertext())) or None
    return None


_TEXT_BLOCKS = ("article-title", "title", "p")


def plain_text(root) -> str:
    """The article as plain text (the cloud layout's .txt): titles and paragraphs in
    document order, references left out."""
    blocks = []
    for element in root.iter():
        if _local(element) not in _TEXT_BLOCKS:
            continue
        ancestors = [_local(a) for a in _ancestors(element)]
        if "ref-list" in ancestors or any(a in _TEXT_BLOCKS for a in ancestors):
            continue  # references, and blocks nested in a block already taken
        text = _norm("".join(element.itertext()))
        if text:
            blocks.append(text)
    return "\n\n".join(blocks) + "\n"


# --- entries ---------------------------------------------------------------------------------


@dataclass
class TruthFigure:
    """One figure's entry in the truth file (docs/mirror.md): what the mirror wrote for it,
    and what a default build must make of it (expected_*: None where the truth cannot say).
    Synthetic figures fill every field; real articles' figures (real.py) what their XML
    and image files show, the rest left at the defaults."""

    index: int  # 1-based, as the parser counts figures and tables-as-images
    key: str
    id: str | None
    kind: str  # FigureKind
    caption: str | None
    graphics: list[dict]  # {"href", "role"} as the XML names them
    image_file: str | None
    thumbnail_file: str | None
    image_source: str | None  # synthetic, real or stand_in
    format: str | None
    mode: str | None
    width: int | None
    height: int | None
    corrupt: str | None = None  # how the image file was damaged, if it was
    missing: bool = False  # the XML names an image file the mirror does not hold
    label: str | None = None
    placement: str | None = None
    parent_group: str | None = None
    mentions: int | None = None  # body paragraphs citing it
    visual: dict | None = None  # what a synthetic picture shows
    size_class: str | None = None  # normal, tiny or extreme
    misnamed: bool = False
    duplicate_of: str | None = None
    duplicate_kind: str | None = None
    phash_distance: int | None = None
    dup_group: str | None = None  # filled in when the whole mirror is known
    similar_to: list[str] = field(default_factory=list)
    expected_status: str | None = None
    expected_reason: str | None = None
    expected_keep: bool | None = None

    def expect(self, status: str | None, reason: str | None) -> None:
        self.expected_status = status
        self.expected_reason = reason
        self.expected_keep = None if status is None else status == FigureStatus.KEPT

    def to_json(self) -> dict:
        return asdict(self)


def expected_figure(figure: TruthFigure) -> tuple[str | None, str | None]:
    """(FigureStatus, reason) under the default rules, the rules in filters.py's order;
    (None, reason) for a duplicate, whose fate is decided by the canonical choice."""
    if figure.kind == "table":
        return FigureStatus.FILTERED, "table_excluded"
    if len((figure.caption or "").split()) < MIN_CAPTION_WORDS:
        return FigureStatus.FILTERED, "caption_too_short"
    if figure.missing:
        if figure.thumbnail_file:
            return FigureStatus.FILTERED, THUMBNAIL_FALLBACK_REASON
        return FigureStatus.IMAGE_FAILED, "no_image"
    if figure.corrupt:
        return FigureStatus.IMAGE_FAILED, None  # the decoder names the reason
    if figure.size_class == "tiny":
        return FigureStatus.FILTERED, "min_side"
    if figure.size_class == "extreme":
        return FigureStatus.FILTERED, "aspect_ratio"
    if figure.duplicate_of:
        return None, "near_duplicate" if figure.duplicate_kind not in (
            "same_bytes",
            "same_pixels",
        ) else "duplicate"
    return FigureStatus.KEPT, None


def synthetic_figure(key: str, position: int, draft, markup, image, xml_facts: dict) -> TruthFigure:
    facts = xml_facts[markup.fig_id]
    dup = image.duplicate or {}
    figure = TruthFigure(
        index=position,
        key=key,
        id=markup.fig_id,
        kind=markup.kind,
        label=_norm(markup.label) if markup.label is not None else None,
        caption=facts["caption"],
        placement=markup.placement,
        parent_group=markup.group_id,
        mentions=facts["mentions"],
        graphics=[{"href": href, "role": role} for href, role in markup.graphics],
        image_file=image.full_name,
        thumbnail_file=image.thumb_name,
        image_source="synthetic",
        visual={
            "kind": image.visual.kind,
            "color": image.visual.color,
            "shape": image.visual.shape,
            "panels": list(image.visual.panels),
        },
        format=image.format,
        mode=image.mode,
        width=image.width,
        height=image.height,
        size_class=draft.role if draft.role in ("tiny", "extreme") else "normal",
        misnamed=draft.misnamed,
        missing=image.full_data is None,
        corrupt=draft.corruption,
        duplicate_of=dup.get("of"),
        duplicate_kind=dup.get("kind"),
        phash_distance=dup.get("distance"),
    )
    figure.expect(*expected_figure(figure))
    return figure


def expected_article(
    retracted: bool, open_access: bool, latest: bool, has_figures: bool
) -> tuple[str | None, str | None]:
    """(ArticleStatus, reason) of an article version listed by a default build; None for
    an older version, which a default build does not list (newest version only)."""
    if not latest:
        return None, "superseded"
    if retracted:
        return ArticleStatus.EXCLUDED, "retracted"
    if not open_access:
        return ArticleStatus.EXCLUDED, "not_open_access"
    if not has_figures:
        return ArticleStatus.NO_FIGURES, None
    return ArticleStatus.OK, None


def article_entry(
    *,
    pmcid: str,
    version: int,
    key_version: int | None,
    latest: bool,
    source: str,
    facts,
    journal: str | None,
    article_type: str | None,
    updated: str,
    pdf: bool,
    supplements: list[str],
    figures: list[TruthFigure],
    extra: dict | None = None,
) -> dict:
    status, reason = expected_article(facts.retracted, facts.open_access, latest, bool(figures))
    if status != ArticleStatus.OK:
        for figure in figures:
            figure.expect(None, None)  # not seen by a default build
    return {
        "pmcid": pmcid,
        "version": key_version,
        "content_version": version,
        "latest": latest,
        "key": article_key(pmcid, key_version),
        "location": None,  # filled in by the layout writer
        "source": source,
        "pmid": facts.pmid,
        "doi": facts.doi,
        "mid": facts.mid,
        "title": facts.title,
        "journal": journal,
        "article_type": article_type,
        "license": facts.license_code,
        "retracted": facts.retracted,
        "open_access": facts.open_access,
        "manuscript": facts.manuscript,
        "historical_ocr": facts.historical_ocr,
        "updated": updated,
        "pdf": pdf,
        "supplements": supplements,
        "expected_status": status,
        "expected_reason": reason,
        **(extra or {}),
        "figures": [figure.to_json() for figure in figures],
    }


def synthetic_article(
    header,
    version: int,
    key_version: int | None,
    latest: bool,
    facts,
    figures: list[TruthFigure],
    supplements: list[str],
) -> dict:
    return article_entry(
        pmcid=header.pmcid,
        version=version,
        key_version=key_version,
        latest=latest,
        source="synthetic",
        facts=facts,
        journal=header.journal.title,
        article_type=header.article_type,
        updated=header.updated[version - 1],
        pdf=header.has_pdf,
        supplements=supplements,
        figures=figures,
        extra={"index": header.index, "license_style": header.license_style},
    )


# --- the file ---------------------------------------------------------------------------------


class TruthWriter:
    """Streams article entries to a scratch file; `close` writes the truth file."""

    def __init__(self, out_dir: Path, head: dict) -> None:
        self.path = out_dir / TRUTH_NAME
        self._scratch_path = out_dir / (TRUTH_NAME + ".partial")
        self._scratch = self._scratch_path.open("w", encoding="utf-8")
        self._head = head
        self._phashes: list[tuple[str, int]] = []
        self._groups: dict[str, list[str]] = defaultdict(list)

    def add(self, entry: dict, phashes: list[tuple[str, int]]) -> None:
        self._scratch.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        self._phashes.extend(phashes)
        if entry["latest"]:
            for figure in entry["figures"]:
                if figure.get("duplicate_of"):
                    self._groups[figure["duplicate_of"]].append(figure["key"])

    def close(self, tail: dict, modified: str) -> Path:
        """Write the truth file (tail: more top-level fields, e.g. the summary), dated
        `modified` like the listings, so even its mtime is reproducible."""
        self._scratch.close()
        groups = {source: sorted(members) for source, members in sorted(self._groups.items())}
        group_of = {source: source for source in groups}
        group_of.update({m: source for source, members in groups.items() for m in members})
        pairs = [
            (a, b, d)
            for a, b, d in lookalike.similar_pairs(self._phashes)
            if group_of.get(a) is None or group_of.get(a) != group_of.get(b)
        ]
        similar: dict[str, list[str]] = defaultdict(list)
        for a, b, _ in pairs:
            similar[a].append(b)
            similar[b].append(a)
        tmp = self.path.with_suffix(".tmp")
        with (
            tmp.open("w", encoding="utf-8") as out,
            self._scratch_path.open(encoding="utf-8") as scratch,
        ):
            head = json.dumps(self._head, ensure_ascii=False, sort_keys=True, indent=1)
            out.write(head[:-2] + ',\n "articles": [\n')
            first = True
            for line in scratch:
                entry = json.loads(line)
                entry["figures"] = [
                    _finish_figure(figure, entry, group_of, similar) for figure in entry["figures"]
                ]
                out.write(
                    ("" if first else ",\n") + json.dumps(entry, ensure_ascii=False, sort_keys=True)
                )
                first = False
            rest = {"dup_groups": groups, "similar_pairs": [list(p) for p in pairs], **tail}
            body = json.dumps(rest, ensure_ascii=False, sort_keys=True, indent=1)
            out.write("\n ],\n" + body[2:])
            out.write("\n")
        stamp = epoch(modified)
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, self.path)
        self._scratch_path.unlink()
        return self.path

    def abort(self) -> None:
        self._scratch.close()
        self._scratch_path.unlink(missing_ok=True)


def _finish_figure(
    entry: dict, article: dict, group_of: dict[str, str], similar: dict[str, list[str]]
) -> dict:
    """The figure's entry with what only the whole mirror shows (its duplicate group, the
    unrelated images that look like it, and what that does to its expected status)."""
    if entry.get("key") is None or not article["latest"]:
        return entry
    figure = TruthFigure(**entry)
    figure.dup_group = group_of.get(figure.key)
    figure.similar_to = sorted(similar.get(figure.key, []))
    undecided = figure.expected_status in (FigureStatus.KEPT, None)
    if (
        article["expected_status"] == ArticleStatus.OK
        and undecided
        and (figure.dup_group or figure.similar_to)
    ):
        reason = "duplicate" if figure.dup_group else "lookalike"
        if figure.duplicate_kind in NEAR_TRANSFORMS:
            reason = "near_duplicate"
        figure.expect(None, reason)
    return figure.to_json()
