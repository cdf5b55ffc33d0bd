"""Synthetic mirrors in the tests: their truth file, whether an image file decodes, and an
article's XML replaced."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

from PIL import Image


def truth(mirror: Path) -> dict:
    """The mirror's ground truth (.mirror-truth.json, docs/mirror.md)."""
    return json.loads((mirror / ".mirror-truth.json").read_text())


def decodes(data: bytes) -> bool:
    """Whether the bytes decode as an image, to the last pixel."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return True
    except Exception:
        return False


def replace_xml(mirror: Path, folder: Path, data: bytes) -> None:
    """Replace a cloud article's XML as a publisher would: new bytes, new md5 in its
    metadata (otherwise the md5 check rightly reports the changed bytes as a failed fetch)."""
    (folder / f"{folder.name}.xml").write_bytes(data)
    for meta in (mirror / "metadata" / f"{folder.name}.json", folder / f"{folder.name}.json"):
        if meta.exists():
            text = re.sub(
                r"(\.xml\?md5=)[0-9a-f]{32}",
                rf"\g<1>{hashlib.md5(data).hexdigest()}",
                meta.read_text(),
            )
            meta.write_text(text)
