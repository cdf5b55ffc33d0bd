"""Publishing a build's output so that no reader ever takes a mix of two builds for one.

Assemble publishes in this order (build_dataset.py drives it, under the output lock):

1. `begin`: write `_PUBLISHING.json`, remove stats.json, then remove everything the
   previous publication wrote (webdataset/, parquet/, the Hub files). From here until step 4
   the output has no stats.json and says it is being published.
2. The publish pipeline writes the new shards and Parquet tables.
3. `verify`: list what is on disk and count it — the samples in every shard (by reading the
   tar headers on a local disk; by the exact byte size the writer reported on an object
   store), the rows in every Parquet file (from their footers), the splits present — and
   compare with what the run wrote. A stale, missing or miscounted file is a problem, and
   the accounting identity in stats.json is computed from these on-disk counts.
4. `finish`: write sizes.json per split, stats.json, the Hub files (dataset cards and
   croissant.json, docs/hub.md), then remove `_PUBLISHING.json`.

A kill anywhere leaves either the old publication whole (before step 1) or an output that
says it is being published (after; without stats.json until step 4): `check_complete` tells readers (the
data card, the trainer), and a rerun of assemble publishes it whole.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pmc_pipeline import hub, shards
from pmc_pipeline.hub import write_hub_files
from pmc_pipeline.manifest import STATS_FILE
from pmc_pipeline.outputs import Output

PUBLISHING_FILE = "_PUBLISHING.json"
WORK_DIR = "_assemble"  # assemble's intermediate rows between its two pipelines
PUBLISHED_DIRS = ("webdataset", "parquet")
# Files a publication writes at the top of the output (the shards' card is in webdataset/).
PUBLISHED_FILES = (STATS_FILE, hub.README, hub.CROISSANT)


class NotPublished(ValueError):
    """The output holds no complete publication; the message says why. (A ValueError, so
    that commands that report bad data in one line report this too.)"""


def begin(output: Output) -> None:
    """Step 1: mark the output as being published and remove the previous publication."""
    output.write_json(
        PUBLISHING_FILE,
        {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
    )
    for name in PUBLISHED_FILES:  # stats.json first: nothing may vouch for a mix
        if output.exists(name):
            output.fs.delete_file(output.path(name))
    for name in PUBLISHED_DIRS:
        output.delete_dir(name)


@dataclass
class OnDisk:
    """What the published files hold, counted from the files themselves."""

    shards: list[dict] = field(default_factory=list)  # split, shard, samples, pair_rows, bytes
    tables: dict[str, int] = field(default_factory=dict)  # figures/articles -> rows
    problems: list[str] = field(default_factory=list)

    def sizes(self) -> dict[str, dict[str, int]]:
        return shards.split_sizes(self.shards)


def verify(output: Output, written_shards: Iterable[Mapping], written_tables: Iterable[Mapping]):
    """Step 3: count what is on disk and compare with what the run wrote (see module doc)."""
    written_shards = sorted(written_shards, key=lambda s: s["shard"])
    written_tables = list(written_tables)
    on_disk = OnDisk()
    expected = {s["shard"]: s for s in written_shards}
    expected_pairs = {shards.pairs_path_of(s["shard"]): s for s in written_shards}
    expected_parts = {t["path"]: t for t in written_tables}
    files = {
        path: size
        for top in PUBLISHED_DIRS
        for path, size in _files_with_sizes(output, top).items()
    }
    for path in sorted(set(files) - set(expected) - set(expected_pairs) - set(expected_parts)):
        on_disk.problems.append(f"{path} is on disk but was not written by this run (stale)")
    for path in sorted((set(expected) | set(expected_pairs) | set(expected_parts)) - set(files)):
        on_disk.problems.append(f"{path} was written by this run but is not on disk")

    for path, summary in expected.items():
        if path not in files:
            continue
        samples = _count_samples(output, path, files[path], summary, on_disk.problems)
        pairs_path = shards.pairs_path_of(path)
        pair_rows = _parquet_rows(output, pairs_path) if pairs_path in files else 0
        on_disk.shards.append(
            {
                "split": summary["split"],
                "shard": path,
                "samples": samples,
                "pair_rows": pair_rows,
                "bytes": files[path],
            }
        )
    counted: dict[str, int] = defaultdict(int)
    for path, part in expected_parts.items():
        if path in files:
            rows = _parquet_rows(output, path)
            if rows != part["rows"]:
                on_disk.problems.append(f"{path} holds {rows} rows, the run wrote {part['rows']}")
            counted[part["kind"]] += rows
    on_disk.tables = dict(counted)
    splits_on_disk = {p.split("/")[1] for p in files if p.startswith("webdataset/")}
    splits_written = {s["split"] for s in written_shards}
    for split in sorted(splits_on_disk - splits_written):
        on_disk.problems.append(f"split {split!r} is on disk but not in this run's splits")
    return on_disk


def finish(output: Output, stats: Mapping, sizes: Mapping[str, Mapping[str, int]]) -> None:
    """Step 4: sizes.json per split, stats.json, the Hub files (the Croissant file records
    stats.json's checksum), and last the removal of _PUBLISHING.json."""
    for split, per_shard in sorted(sizes.items()):
        output.write_json(shards.sizes_path(split), dict(per_shard))
    output.write_json(STATS_FILE, stats)
    write_hub_files(output, output.read_json(STATS_FILE))  # as readers will see it
    output.fs.delete_file(output.path(PUBLISHING_FILE))
    output.delete_dir(WORK_DIR)


def check_not_publishing(output: Output) -> None:
    """Raise NotPublished while a publication is under way or was interrupted: the files
    then mix two builds (readers of plain shard folders need no more than this)."""
    if output.exists(PUBLISHING_FILE):
        raise NotPublished(
            f"{output.uri} is being published, or its publication was interrupted "
            f"({PUBLISHING_FILE} is there): run assemble again to publish it whole"
        )


def check_complete(output: Output) -> None:
    """Raise NotPublished unless the output holds a complete publication."""
    check_not_publishing(output)
    if not output.exists(STATS_FILE):
        raise NotPublished(f"{output.path(STATS_FILE)} not found: is this a finished build?")


def _files_with_sizes(output: Output, top: str) -> dict[str, int]:
    root = output.path()
    selector = pafs.FileSelector(output.path(top), allow_not_found=True, recursive=True)
    return {
        posixpath.relpath(info.path, root): info.size
        for info in output.fs.get_file_info(selector)
        if info.type == pafs.FileType.File
    }


def _parquet_rows(output: Output, path: str) -> int:
    with output.fs.open_input_file(output.path(path)) as f:
        return pq.ParquetFile(f).metadata.num_rows


def _count_samples(
    output: Output, path: str, size: int, written: Mapping, problems: list[str]
) -> int:
    """Samples in a shard: counted from its tar headers on a local disk (every sample must
    have its jpg, json and txt); on an object store, where a header scan would cost a
    request per member, the writer's count when the object has exactly the size written."""
    if not isinstance(output.fs, pafs.LocalFileSystem):
        if size != written["tar_bytes"]:
            problems.append(f"{path} is {size} bytes, the run wrote {written['tar_bytes']}")
        return written["samples"]
    members: dict[str, set[str]] = defaultdict(set)
    try:
        with tarfile.open(output.path(path), mode="r:") as tar:
            for member in tar:
                key, _, ext = member.name.partition(".")
                members[key].add(ext)
    except (OSError, tarfile.TarError) as exc:
        problems.append(f"{path} cannot be read as a tar ({exc})")
        return 0
    incomplete = sorted(k for k, exts in members.items() if exts != set(shards.MEMBERS))
    if incomplete:
        problems.append(f"{path}: samples without all of {shards.MEMBERS}: {incomplete[:3]}")
    if len(members) != written["samples"]:
        problems.append(f"{path} holds {len(members)} samples, the run wrote {written['samples']}")
    return len(members)
