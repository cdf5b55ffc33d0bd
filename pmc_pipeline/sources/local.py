"""A store over a local directory (a mirror on disk, a mounted bucket)."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import BinaryIO

from pmc_pipeline.model import FetchError, MissingFile

from .store import ObjectInfo, RetryPolicy, Store, iso_utc, open_capped


class LocalStore(Store):
    """Keys are paths relative to `root`; a key that would leave the root is refused."""

    def __init__(self, root: str | os.PathLike, *, attempts: int = 2) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FetchError(f"missing: {self.root} is not a directory")
        self.uri = str(self.root)
        # A local read can only fail again the same way, but a file being replaced by a
        # mirror sync can be caught half-written: one more attempt is cheap.
        self.retry = RetryPolicy(attempts=attempts, backoff=0.05)

    def _path(self, key: str) -> Path:
        path = (self.root / key.lstrip("/")).resolve()
        if path != self.root and self.root not in path.parents:
            raise FetchError(f"bad_key: {key!r} leaves the store root")
        return path

    def open(self, key: str, *, max_bytes: int) -> BinaryIO:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise MissingFile(f"missing: {key}") from exc
        except OSError as exc:
            raise FetchError(f"io_error: {key}: {exc}") from exc
        size = os.fstat(handle.fileno()).st_size
        return open_capped(handle, key=key, max_bytes=max_bytes, size=size)

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        return ObjectInfo(key, st.st_size, iso_utc(st.st_mtime))

    def list(
        self, prefix: str = "", *, recursive: bool = True
    ) -> Generator[ObjectInfo, None, None]:
        folder, _, name_prefix = prefix.rpartition("/")
        start = self._path(folder) if folder else self.root
        if not start.is_dir():
            return
        yield from self._walk(start, f"{folder}/" if folder else "", name_prefix, recursive)

    def _walk(
        self, directory: Path, key_prefix: str, name_prefix: str, recursive: bool
    ) -> Iterator[ObjectInfo]:
        # Sorting by the key each entry stands for ('dir/' for folders) gives the same
        # order as S3's lexicographic listing.
        entries = []
        with os.scandir(directory) as it:
            for entry in it:
                if not entry.name.startswith(name_prefix):
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                entries.append((entry.name + ("/" if is_dir else ""), entry, is_dir))
        for name, entry, is_dir in sorted(entries, key=lambda e: e[0]):
            if is_dir:
                if recursive:
                    yield from self._walk(Path(entry.path), key_prefix + name, "", True)
            elif entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                yield ObjectInfo(key_prefix + name, st.st_size, iso_utc(st.st_mtime))
