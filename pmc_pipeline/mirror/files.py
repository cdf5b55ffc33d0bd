"""Writing the mirror's files: inside the output directory only, with a fixed mtime.

File modification times are set to the time the layout says the object was last modified,
so a directory listing (and any store that reports mtimes) is as deterministic as the bytes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath


def epoch(iso_utc: str) -> float:
    """Seconds since the epoch of '2026-03-14T12:34:56Z' (or with '.000Z')."""
    text = iso_utc.rstrip("Z").split(".")[0]
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def safe_key(key: str) -> PurePosixPath:
    """A relative key that stays inside the root, or ValueError."""
    path = PurePosixPath(key)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise ValueError(f"unsafe mirror key {key!r}")
    return path


def write_file(root: Path, key: str, data: bytes, modified: str) -> Path:
    """Write `data` at root/key (parents created) and set its mtime to `modified`."""
    path = root.joinpath(*safe_key(key).parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = epoch(modified)
    os.utime(path, (stamp, stamp))
    return path
