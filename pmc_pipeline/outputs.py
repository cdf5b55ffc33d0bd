"""Where a build writes: a local path, s3:// or gs://, through pyarrow's filesystems.

pyarrow.fs gives one interface over the three (and reads the usual AWS / GCP credentials and
`AWS_ENDPOINT_URL_S3`-style settings), so the library writes staging chunks and published
files without importing Beam.
"""

from __future__ import annotations

import json
import os
import posixpath
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import pyarrow.fs as pafs


@dataclass(frozen=True)
class Output:
    """A root URI (local path, s3://bucket/prefix, gs://bucket/prefix) and its filesystem."""

    uri: str

    @cached_property
    def _fs_and_root(self) -> tuple[pafs.FileSystem, str]:
        if "://" not in self.uri or self.uri.startswith("file://"):
            local = self.uri[len("file://") :] if self.uri.startswith("file://") else self.uri
            return pafs.LocalFileSystem(), os.path.abspath(local)
        return pafs.FileSystem.from_uri(self.uri)

    @property
    def fs(self) -> pafs.FileSystem:
        return self._fs_and_root[0]

    def path(self, *parts: str) -> str:
        """The filesystem path of OUTPUT/parts..."""
        return posixpath.join(self._fs_and_root[1], *parts)

    def exists(self, *parts: str) -> bool:
        return self.fs.get_file_info(self.path(*parts)).type != pafs.FileType.NotFound

    def makedirs(self, *parts: str) -> None:
        self.fs.create_dir(self.path(*parts), recursive=True)

    @contextmanager
    def open_write(self, relpath: str):
        """A binary stream to OUTPUT/relpath. On object stores an object appears only when
        complete; locally we write beside the target and rename, so a reader never sees half a
        file, and a crash leaves only a '.tmp' that the next write replaces."""
        target = self.path(relpath)
        self.fs.create_dir(posixpath.dirname(target), recursive=True)
        local = isinstance(self.fs, pafs.LocalFileSystem)
        dest = target + ".tmp" if local else target
        with self.fs.open_output_stream(dest) as out:
            yield out
        if local:
            self.fs.move(dest, target)

    def write_bytes(self, relpath: str, data: bytes) -> None:
        with self.open_write(relpath) as out:
            out.write(data)

    def read_bytes(self, relpath: str) -> bytes:
        with self.fs.open_input_stream(self.path(relpath)) as f:
            return f.read()

    def write_json(self, relpath: str, obj) -> None:
        self.write_bytes(relpath, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())

    def read_json(self, relpath: str):
        return json.loads(self.read_bytes(relpath))

    def listdir(self, relpath: str) -> list[str]:
        """Names directly under OUTPUT/relpath (empty when it does not exist)."""
        selector = pafs.FileSelector(self.path(relpath), allow_not_found=True, recursive=False)
        return sorted(posixpath.basename(info.path) for info in self.fs.get_file_info(selector))

    def glob_files(self, relpath: str, suffix: str) -> list[str]:
        """Paths (relative to OUTPUT) of files under relpath ending in suffix, sorted."""
        root = self.path()
        selector = pafs.FileSelector(self.path(relpath), allow_not_found=True, recursive=True)
        return sorted(
            posixpath.relpath(info.path, root)
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(suffix)
        )

    def delete_dir(self, relpath: str) -> None:
        if self.exists(relpath):
            self.fs.delete_dir(self.path(relpath))
