"""Size caps applied to every read, so that no object, member or listing can cost more
memory (or decompression work) than the caller agreed to spend on it."""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """Caps in bytes. Objects held in memory have small caps; streamed ones (file lists,
    inventories, packages) have large caps that only bound the work done on them."""

    metadata: int = 2 * MiB  # one cloud metadata JSON
    xml: int = 128 * MiB  # one article XML (the largest PMC articles are tens of MB)
    image: int = 64 * MiB  # one figure image
    listing: int = 8 * GiB  # a streamed file list, inventory part or directory page
    manifest: int = 16 * MiB  # an inventory manifest.json
    package: int = 8 * GiB  # compressed bytes of one legacy package (streamed)
    unpacked: int = 16 * GiB  # decompressed bytes of one legacy package (streamed)
    # A gzip stream that expands more than this many times is a bomb, not an article:
    # PMC packages hold already-compressed images and PDFs and expand a few times at most.
    max_ratio: float = 200.0
    ratio_floor: int = 64 * MiB  # the ratio is only judged past this many unpacked bytes
    members: int = 20_000  # members of one package (a tar of a million empty files is a bomb)
