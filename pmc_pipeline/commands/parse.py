"""`pmc-pipeline parse PATH...`: parse JATS XML files and print one JSON line per article
(schemas/article.schema.json), each figure with its caption analysis (pmc_pipeline.captions:
figure types and their evidence, compound, panels, shared caption). A file that cannot be read or parsed prints
{"path", "error", "status"} instead; the command then exits 1, after the other files."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from pmc_pipeline.captions import caption_fields
from pmc_pipeline.jats import DEFAULT_MAX_BYTES, article_to_json, error_to_json, parse_article
from pmc_pipeline.model import ParseError, UnsafeInput

XML_SUFFIXES = (".xml", ".nxml")


def add_arguments(parser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="JATS files (.xml, .nxml), or folders searched for them",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help=f"refuse documents larger than this (default {DEFAULT_MAX_BYTES})",
    )
    parser.add_argument(
        "--read-references",
        action="store_true",
        help="parse the reference lists too (skipped by default: nothing printed comes "
        "from them), so a document broken only inside them is refused",
    )


def run(args) -> int:
    failed = False
    for path in _files(args.paths):
        record = parse_file(path, max_bytes=args.max_bytes, read_references=args.read_references)
        failed = failed or "error" in record
        sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
    return 1 if failed else 0


def parse_file(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, read_references: bool = False
) -> dict:
    """The JSON record of one file: the parsed article, or its path and error."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # /dev/zero would never end, a FIFO would hang
            raise UnsafeInput("not a regular file")
        if info.st_size > max_bytes:  # refused before a byte is read
            raise UnsafeInput(f"document is {info.st_size} bytes, over the {max_bytes} byte cap")
        with path.open("rb") as f:
            xml = f.read(max_bytes + 1)  # the cap holds even if the file grew since stat()
        if len(xml) > max_bytes:
            raise UnsafeInput(f"document is over the {max_bytes} byte cap")
        article = parse_article(xml, max_bytes=max_bytes, read_references=read_references)
        record = article_to_json(article, path)
        for figure, out in zip(article.figures, record["figures"], strict=True):
            out.update(caption_fields(figure.caption, figure.title))  # types, panels
        return record
    except (OSError, ParseError, UnsafeInput) as exc:
        return error_to_json(path, exc)


def _files(paths: list[str]) -> Iterator[Path]:
    """The given files, and the XML files under the given folders (sorted, so the output
    order does not depend on the file system)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix.lower() in XML_SUFFIXES)
            yield from sorted(p for p in found if p.is_file())
        else:
            yield path  # a missing file becomes an error record
