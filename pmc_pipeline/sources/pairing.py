"""Pair a JATS graphic href with the file that holds its full image.

Real hrefs and file names disagree in many small ways: the href may lack the extension
(legacy nxml: 'nihpp-2023.12.31.573776v1-f0001', dots and all), name the source format
('fig1.tif', 'fig1.eps') of a file PMC converted to JPEG, differ in case, or carry a
sub-folder the package does not (or the other way round). Each figure usually comes as a
full '.jpg' and a '.gif' thumbnail; the thumbnail is chosen only when nothing else exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

# Extensions of images we can use, best first: PMC's web JPEG, then lossless formats,
# then the GIF that is nearly always a thumbnail of at most ~200 px.
IMAGE_EXTENSIONS = {
    ".jpg": 0,
    ".jpeg": 0,
    ".png": 1,
    ".tif": 2,
    ".tiff": 2,
    ".webp": 3,
    ".bmp": 3,
    ".gif": 4,
}
THUMBNAIL = ".gif"  # PMC's thumbnails; a full image is almost never a GIF
# Extensions an href may name for a figure that PMC ships converted under another one.
_SOURCE_EXTENSIONS = frozenset(IMAGE_EXTENSIONS) | {".eps", ".ps", ".svg", ".pict", ".jp2"}


def image_extension(name: str) -> str | None:
    """The image extension of a file name ('.jpg'), or None when it is not an image."""
    dot = name.rfind(".")
    ext = name[dot:].lower() if dot > name.rfind("/") else ""
    return ext if ext in IMAGE_EXTENSIONS else None


def is_image(name: str) -> bool:
    return image_extension(name) is not None


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _stems(href_base: str) -> set[str]:
    """The names (lower case, without extension) a file for this href may have."""
    base = href_base.lower()
    stems = {base}
    dot = base.rfind(".")
    if dot > 0 and base[dot:] in _SOURCE_EXTENSIONS:
        stems.add(base[:dot])
    return stems


def _folders(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").lower().split("/")[:-1] if p not in ("", ".")]


def match_href(href: str, names: Iterable[str]) -> str | None:
    """The name among `names` (file or member paths) holding the image for `href`, or
    None. Only image files are candidates: never a PDF or a supplement."""
    target = unquote(href.strip())
    stems = _stems(_basename(target))
    href_folders = _folders(target)
    candidates = []
    for name in names:
        base = _basename(name)
        ext = image_extension(base)
        if ext is None:
            continue
        stem = base[: -len(ext)].lower()
        if stem not in stems and base.lower() not in stems:
            continue
        folders = _folders(name)
        # How many of the href's folders the member path ends with: 'figs/f1' prefers
        # 'PMC1/figs/f1.jpg' to 'PMC1/f1.jpg' when both exist.
        shared = 0
        for a, b in zip(reversed(href_folders), reversed(folders), strict=False):
            if a != b:
                break
            shared += 1
        exact = base.lower() == _basename(target).lower()
        candidates.append((IMAGE_EXTENSIONS[ext], -shared, not exact, len(name), name))
    return min(candidates)[-1] if candidates else None
