"""Real articles in a mirror (`--jats DIR`): their XML as-is, their images real or drawn.

Every *.xml / *.nxml under DIR (recursively, sorted by path) becomes one article version.
Its XML bytes are kept unchanged: the cloud layout's `PMCnnn.V.xml`, the legacy package's
`<file stem>.nxml` (OAI-PMH-wrapped records too). Its PMCID comes from the XML
(`article-id` of type pmc or pmcid); a file without one, or whose PMCID an earlier file
already took, gets a synthetic one (PMC9xxxxxxx, from a hash of its path).

Each `<graphic>` href becomes a file: a real image from `--images DIR` whose name matches
(with or without extension), or else a stand-in drawn in the picture kind its caption
names (a caption saying "western blot" gets a blot). Media and inline-graphic hrefs get
stand-ins too, so packages look complete. Unsafe input is refused before it is read:
files over the size cap, DTDs declaring entities, hrefs that are paths or URLs.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, cast

from lxml import etree
from PIL import Image

from pmc_pipeline.licenses import normalize_license
from pmc_pipeline.mirror import drawing, images, lookalike, truth
from pmc_pipeline.mirror.blobs import SUPPLEMENT_TYPES, pdf_bytes, supplement_bytes
from pmc_pipeline.mirror.bundle import ArticleFacts, MediaFile, VersionBundle
from pmc_pipeline.mirror.drawing import VisualSpec
from pmc_pipeline.mirror.images import Encoding
from pmc_pipeline.mirror.rng import derive_int, rng_for
from pmc_pipeline.model import FigureKind, Layout, UnsafeInput, figure_key, normalize_pmcid

MAX_XML_BYTES = 64 * 1024 * 1024
MAX_IMAGE_BYTES = 64 * 1024 * 1024
XML_SUFFIXES = (".xml", ".nxml")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
SYNTHETIC_PMCID_BASE = 90_000_000
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff")
# Source formats PMC converts to JPEG for the web (an href may still name them).
CONVERTED_SUFFIXES = (".eps", ".ps", ".svg", ".pict", ".jp2", ".bmp")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")  # the first start tag: the root element
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

# Caption words -> the picture kind a stand-in shows (first match wins).
_KIND_WORDS = (
    (("western blot", "immunoblot", "blot"), "western_blot"),
    (
        ("fluorescen", "confocal", "immunostain", "micrograph", "microscop"),
        "fluorescence_micrograph",
    ),
    (("histolog", "h&e", "hematoxylin", "haematoxylin", "section"), "histology"),
    (("heatmap", "heat map"), "heatmap"),
    (("scatter", "correlation"), "scatter_plot"),
    (("bar graph", "bar chart", "bars"), "bar_chart"),
    (("time course", "curve", "kinetics", "survival"), "line_plot"),
    ((" ct ", "mri", "tomograph", "scan", "radiograph"), "ct_scan"),
    (("schematic", "diagram", "workflow", "model", "overview", "pathway"), "schematic"),
)
_COLOR_WORDS = ("red", "green", "blue", "orange", "purple", "magenta", "black")


@dataclass(frozen=True)
class RealJob:
    path: str  # the XML file
    relative: str  # its path under the --jats directory (names it in the truth file)
    pmcid: str
    ordinal: int  # position among the real articles


def discover(jats_dir: Path) -> list[Path]:
    """Every *.xml / *.nxml file under jats_dir, sorted by relative path."""
    found = [p for p in jats_dir.rglob("*") if p.is_file() and p.suffix.lower() in XML_SUFFIXES]
    return sorted(found, key=lambda p: p.relative_to(jats_dir).as_posix())


def read_xml(path: Path) -> bytes:
    """The file's bytes; UnsafeInput for an oversize file or one declaring entities."""
    size = path.stat().st_size
    if size > MAX_XML_BYTES:
        raise UnsafeInput(f"oversize: {path} has {size} bytes (cap {MAX_XML_BYTES})")
    data = path.read_bytes()
    # Entity declarations can only sit in the DTD, before the root element: refuse them
    # outright rather than trust every later reader of the mirror to leave them unexpanded.
    root = _ROOT_START.search(data)
    if _ENTITY_DECL.search(data[: root.start()] if root else data):
        raise UnsafeInput(f"entity declarations in the DTD of {path}")
    return data


def _local(element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse(data: bytes):
    return etree.fromstring(data, _PARSER)


def article_element(root):
    """The <article> element: the root, or inside an OAI-PMH record."""
    if _local(root) == "article":
        return root
    return next((e for e in root.iter() if _local(e) == "article"), None)


def _article_meta(article):
    for element in article.iter():
        if _local(element) == "article-meta":
            return element
    return None


def pmcid_in_xml(article) -> str | None:
    meta = _article_meta(article)
    if meta is None:
        return None
    for element in meta:
        if _local(element) == "article-id" and element.get("pub-id-type") in ("pmc", "pmcid"):
            try:
                return normalize_pmcid(element.text or "")[0]
            except ValueError:
                continue
    return None


def assign_pmcids(jats_dir: Path, paths: list[Path], taken: set[str]) -> list[RealJob]:
    """A job per file with its PMCID: from the XML, or synthetic when absent or taken."""
    jobs = []
    for ordinal, path in enumerate(paths):
        relative = path.relative_to(jats_dir).as_posix()
        pmcid = None
        try:
            article = article_element(parse(read_xml(path)))
            pmcid = pmcid_in_xml(article) if article is not None else None
        except (etree.XMLSyntaxError, UnsafeInput):
            pass  # refused again, with its reason, when the article itself is made
        if pmcid is None or pmcid in taken:
            number = SYNTHETIC_PMCID_BASE + derive_int(0, "real-pmcid", relative) % 9_000_000
            while f"PMC{number}" in taken:
                number += 1
            pmcid = f"PMC{number}"
        taken.add(pmcid)
        jobs.append(RealJob(str(path), relative, pmcid, ordinal))
    return jobs


# --- images for hrefs ------------------------------------------------------------------------


def safe_file_name(href: str) -> str | None:
    """The file name an href maps to (its last path segment), or None for hrefs that are
    URLs or would climb out of the article folder."""
    href = href.strip()
    if not href or "://" in href or href.startswith(("/", "\\")) or ":" in href.split("/")[0]:
        return None
    name = PurePosixPath(href.replace("\\", "/")).name
    if name in ("", ".", "..") or name.startswith("."):
        return None
    return name


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


class ImageIndex:
    """The image files of an --images directory, by lower-case name and by stem."""

    def __init__(self, images_dir: Path | None) -> None:
        self.by_name: dict[str, Path] = {}
        self.by_stem: dict[str, list[Path]] = {}
        if images_dir is None:
            return
        for path in sorted(
            images_dir.rglob("*"), key=lambda p: p.relative_to(images_dir).as_posix()
        ):
            suffix = _suffix(path.name)
            if path.is_file() and suffix in IMAGE_SUFFIXES:
                self.by_name.setdefault(path.name.lower(), path)
                self.by_stem.setdefault(path.name[: -len(suffix)].lower(), []).append(path)

    def find(self, name: str, thumb: bool) -> Path | None:
        """The file for `name`: the same name, else one with the same stem, a .gif for a
        thumbnail and anything but a .gif for a full image (a thumbnail is no stand-in for
        a missing full image: that gets drawn)."""
        exact = self.by_name.get(name.lower())
        if exact is not None:
            return exact
        suffix = _suffix(name)
        stem = name[: -len(suffix)] if suffix in IMAGE_SUFFIXES + CONVERTED_SUFFIXES else name
        candidates = self.by_stem.get(stem.lower(), [])
        return next((p for p in candidates if (_suffix(p.name) == ".gif") == thumb), None)


def _visual_from_caption(caption: str, seed: int, name: str, kind: str) -> VisualSpec:
    text = f" {caption.lower()} "
    visual_kind: str | None
    if kind == FigureKind.TABLE:
        visual_kind = "table"
    else:
        visual_kind = next((k for words, k in _KIND_WORDS if any(w in text for w in words)), None)
        if visual_kind is None:
            visual_kind = drawing.VISUAL_KINDS[
                derive_int(seed, "kind", name) % (len(drawing.VISUAL_KINDS) - 1)
            ]
    color = next((c for c in _COLOR_WORDS if f" {c} " in text), None)
    rng = rng_for(seed, "stand-in", name)
    color = color or rng.choice(("red", "blue", "green", "black"))
    width = rng.randint(400, 900)
    height = int(width * rng.uniform(0.6, 1.2))
    return VisualSpec(
        visual_kind,
        color,
        rng.choice(("circles", "squares", "triangles")),
        width,
        height,
        rng.getrandbits(32),
    )


def _stand_in_encoding(name: str) -> Encoding:
    suffix = _suffix(name)
    if suffix == ".png":
        return Encoding("PNG", "RGB")
    if suffix == ".gif":
        return Encoding("GIF", "P")
    if suffix in (".tif", ".tiff"):
        return Encoding("TIFF", "RGB")
    return Encoding("JPEG", "RGB", quality=88)


def _decoded(data: bytes) -> Image.Image | None:
    """The decoded image, or None when the bytes do not decode (or claim too many pixels:
    the header is checked before any pixel is decoded)."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > cast(int, Image.MAX_IMAGE_PIXELS):
            return None
        image.load()
        return image
    except Exception:  # any decoder failure means: not usable as an image
        return None


@dataclass
class _ArticleFiles:
    """The files made for one real article, by name, and what each image is. Pictures come
    from the --images index when a file matches, else are drawn (seeded by the article's
    path and the file's name)."""

    index: ImageIndex
    seed: int
    article: str  # the article's path under --jats
    media: dict[str, bytes] = field(default_factory=dict)
    described: dict[str, dict] = field(default_factory=dict)
    phashes: dict[str, int] = field(default_factory=dict)
    pictures: dict[str, tuple[Image.Image, tuple[int, int]]] = field(default_factory=dict)

    def add_picture(
        self, name: str, *, thumb: bool, caption: str, kind: str, full_name: str | None = None
    ) -> None:
        """Put the image file `name` in: real if found, else drawn (a thumbnail is drawn
        from its full image `full_name`, real or not, so the two show the same)."""
        if name in self.media:
            return
        found = self.index.find(name, thumb)
        if found is not None and found.stat().st_size <= MAX_IMAGE_BYTES:
            data = found.read_bytes()
            picture = _decoded(data)
            described: dict[str, Any] = {
                "image_source": "real",
                "format": None,
                "mode": None,
                "width": None,
                "height": None,
            }
            if picture is not None:
                described.update(
                    format=picture.format,
                    mode=picture.mode,
                    width=picture.width,
                    height=picture.height,
                )
        else:
            picture, data, described = self._stand_in(name, thumb, caption, kind, full_name)
        described["corrupt"] = picture is None
        self.media[name] = data
        self.described[name] = described
        if not thumb and picture is not None:
            small = images.preview(picture)
            self.pictures[name] = (small, picture.size)
            self.phashes[name] = lookalike.phash(small)

    def _stand_in(
        self, name: str, thumb: bool, caption: str, kind: str, full_name: str | None
    ) -> tuple[Image.Image, bytes, dict[str, Any]]:
        """A drawn picture for `name`, its file's bytes and what they are."""
        drawn = self.pictures.get(full_name) if thumb and full_name else None
        if drawn is None:
            path = f"{self.article}/{full_name or name}"
            picture = drawing.render(_visual_from_caption(caption, self.seed, path, kind))
            size = picture.size
        else:
            picture, size = drawn
        if thumb:
            encoding = Encoding("GIF", "P")
            size = images.pmc_thumbnail_size(*size)
            data = images.thumbnail_gif(picture, size)
        else:
            encoding = _stand_in_encoding(name)
            data = images.encode(picture, encoding)
        described: dict[str, Any] = {
            "image_source": "stand_in",
            "format": encoding.format,
            "mode": encoding.mode,
        }
        described.update(width=size[0], height=size[1])
        return picture, data, described


def _file_names(href: str) -> tuple[str, str | None] | None:
    """(full image file, companion thumbnail file or None) for a graphic href."""
    name = safe_file_name(href)
    if name is None:
        return None
    suffix = _suffix(name)
    if suffix in IMAGE_SUFFIXES:
        return name, None
    if suffix in CONVERTED_SUFFIXES:
        name = name[: -len(suffix)]
    # An href without an image extension (legacy nxml): the files are '<href>.jpg' and its
    # '<href>.gif' thumbnail, as in a legacy package.
    return f"{name}.jpg", f"{name}.gif"


def _figure_elements(article) -> list:
    """Figures as the project's JATS parser counts them: every <fig>, and every
    <table-wrap> holding a graphic and no <table> (outside a <fig>), in document order,
    reference lists left out."""
    found = []
    for element in article.iter():
        name = _local(element)
        if name == "fig":
            if not any(_local(a) == "ref-list" for a in element.iterancestors()):
                found.append(element)
        elif name == "table-wrap":
            has_graphic = any(_local(e) == "graphic" for e in element.iter())
            has_table = any(_local(e) == "table" for e in element.iter())
            in_fig = any(_local(a) == "fig" for a in element.iterancestors())
            if has_graphic and not has_table and not in_fig:
                found.append(element)
    return found


def _caption_of(element) -> str:
    caption = next((c for c in element if _local(c) == "caption"), None)
    return truth.caption_text(caption) if caption is not None else ""


def _license(article) -> str | None:
    meta = _article_meta(article)
    if meta is None:
        return None
    for element in meta.iter():
        if _local(element) == "license":
            statements = [element.get(XLINK_HREF), element.get("license-type")]
            statements += [
                "".join(e.itertext()) for e in element.iter() if _local(e) == "license_ref"
            ]
            statements.append(" ".join("".join(element.itertext()).split()))
            for statement in statements:
                code = normalize_license(statement)
                if code:
                    return code
            return "NO-CC CODE"
    return None


def _meta_text(article, names: tuple[str, ...]) -> str | None:
    meta = _article_meta(article)
    if meta is None:
        return None
    for element in meta.iter():
        if _local(element) in names:
            return " ".join("".join(element.itertext()).split()) or None
    return None


def _article_id(article, kinds: tuple[str, ...]) -> str | None:
    meta = _article_meta(article)
    for element in meta if meta is not None else ():
        if _local(element) == "article-id" and element.get("pub-id-type") in kinds:
            return (element.text or "").strip() or None
    return None


def _journal(article) -> str | None:
    for element in article.iter():
        if _local(element) == "journal-title":
            return " ".join("".join(element.itertext()).split()) or None
    return None


def real_article(
    job: RealJob,
    layout: str,
    seed: int,
    index: ImageIndex,
    snapshot_date: str,
    pdf_scale: float,
    supplement_scale: float,
) -> VersionBundle:
    """The bundle of one real article (version 1, last updated 30 days before the
    snapshot, a second apart in path order)."""
    path = Path(job.path)
    xml = read_xml(path)
    article = article_element(parse(xml))
    if article is None:
        raise ValueError(f"{path}: no <article> element")
    files = _ArticleFiles(index, seed, job.relative)
    key_version = 1 if layout == Layout.CLOUD else None
    figures = [
        _figure(files, element, figure_key(job.pmcid, key_version, position), position)
        for position, element in enumerate(_figure_elements(article), start=1)
    ]
    supplements = _other_media(files, article, seed, job, supplement_scale)
    facts = _facts(article)
    updated = _updated(snapshot_date, job.ordinal)
    entry = truth.article_entry(
        pmcid=job.pmcid,
        version=1,
        key_version=key_version,
        latest=True,
        source="real",
        facts=facts,
        journal=_journal(article),
        article_type=article.get("article-type"),
        updated=updated,
        pdf=True,
        supplements=supplements,
        figures=figures,
        extra={"path": job.relative, "xml_pmcid": pmcid_in_xml(article)},
    )
    entry["expected_status"] = None  # real markup: decided by the parser, not by us
    entry["expected_reason"] = None
    name_to_key = {f.image_file: f.key for f in figures if f.image_file}
    return VersionBundle(
        pmcid=job.pmcid,
        version=1,
        latest=True,
        updated=updated,
        xml=xml,
        stem=path.stem,
        text=truth.plain_text(article),
        pdf=pdf_bytes(
            seed, ("real", job.relative), rng_for(seed, "real-pdf", job.relative), pdf_scale
        ),
        media=[MediaFile(n, d) for n, d in sorted(files.media.items())],
        facts=facts,
        truth=entry,
        phashes=[(name_to_key[n], h) for n, h in sorted(files.phashes.items()) if n in name_to_key],
    )


def _figure(files: _ArticleFiles, element, key: str, position: int) -> truth.TruthFigure:
    """A figure's truth entry, its graphics' image files put in `files` on the way: each
    full image (and the thumbnail beside it, for an href without an extension), and each
    thumbnail the XML names."""
    caption = _caption_of(element)
    kind = FigureKind.FIGURE if _local(element) == "fig" else FigureKind.TABLE
    graphics, image_file, thumb_file = [], None, None
    for graphic in (e for e in element.iter() if _local(e) == "graphic"):
        href = graphic.get(XLINK_HREF) or graphic.get("href") or ""
        role = "thumb" if graphic.get("content-type") == "thumb" else "image"
        graphics.append({"href": href, "role": role})
        names = _file_names(href)
        if names is None:
            continue
        full, companion = names
        if role == "thumb":
            files.add_picture(full, thumb=True, caption=caption, kind=kind, full_name=image_file)
            thumb_file = thumb_file or full
            continue
        files.add_picture(full, thumb=False, caption=caption, kind=kind)
        image_file = image_file or full
        if companion:
            files.add_picture(companion, thumb=True, caption=caption, kind=kind, full_name=full)
            thumb_file = thumb_file or companion
    described = files.described.get(image_file or "", {})
    return truth.TruthFigure(
        index=position,
        key=key,
        id=element.get("id"),
        kind=kind,
        caption=caption or None,
        graphics=graphics,
        image_file=image_file,
        thumbnail_file=thumb_file,
        image_source=described.get("image_source"),
        format=described.get("format"),
        mode=described.get("mode"),
        width=described.get("width"),
        height=described.get("height"),
        corrupt="undecodable" if described.get("corrupt") else None,
        # real markup: the parser and filters decide; expected_* stay None
    )


def _facts(article) -> ArticleFacts:
    """What the article's front matter says of it (real articles are taken as open access,
    unretracted)."""
    pmid = _article_id(article, ("pmid",))
    return ArticleFacts(
        pmid=int(pmid) if pmid and pmid.isdigit() else None,
        doi=_article_id(article, ("doi",)),
        mid=None,
        title=_meta_text(article, ("article-title",)),
        citation=_journal(article),
        open_access=True,
        manuscript=False,
        historical_ocr=False,
        retracted=False,
        license_code=_license(article),
    )


def _updated(snapshot_date: str, ordinal: int) -> str:
    """When the listings say the article was last updated: 30 days before the snapshot, a
    second apart in path order."""
    at = datetime.fromisoformat(snapshot_date) - timedelta(days=30) + timedelta(seconds=ordinal)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _other_media(files: _ArticleFiles, article, seed: int, job: RealJob, scale: float) -> list[str]:
    """Stand-ins for the article's other files: <media>/<supplementary-material> hrefs
    (by extension) and <inline-graphic> images (small GIFs); the supplements' names."""
    supplements = []
    for element in article.iter():
        name = _local(element)
        if name not in ("media", "supplementary-material", "inline-graphic"):
            continue
        file_name = safe_file_name(element.get(XLINK_HREF) or element.get("href") or "")
        if file_name is None:
            continue
        if name == "inline-graphic":
            file_name = file_name if _suffix(file_name) in IMAGE_SUFFIXES else f"{file_name}.gif"
            if file_name not in files.media:
                spec = VisualSpec(
                    "schematic",
                    "black",
                    "circles",
                    120,
                    32,
                    derive_int(seed, "inline", job.relative, file_name),
                )
                files.media[file_name] = images.encode(drawing.render(spec), Encoding("GIF", "P"))
            continue
        if file_name in files.media:
            continue
        suffix = _suffix(file_name).lstrip(".")
        kind = suffix if suffix in SUPPLEMENT_TYPES else "zip"
        rng = rng_for(seed, "real-supplement", job.relative, file_name)
        files.media[file_name] = supplement_bytes(
            seed, ("real", job.relative, file_name), kind, rng, scale
        )
        supplements.append(file_name)
    return sorted(supplements)
