"""Read a legacy PMC package (`PMCnnn.tar.gz`) as a stream, in memory, never on disk.

Only what an article needs is kept: its XML and its image members. PDFs, supplements and
videos are streamed past without being held. Every refusal happens before the bytes it
concerns are read or kept:

- a member path that is absolute or climbs out ('..'), a link, a device or FIFO:
  the whole package is refused (no genuine PMC package has one);
- an XML member over its cap, more members than allowed, a gzip stream that expands past
  its cap or by an implausible ratio: the whole package is refused;
- an image member over its cap: that image alone is refused (its figure records why).

A package that ends early or fails its gzip CRC is "damaged": the caller (legacy.py's
load_package) fetches it again, since the damage may be in transit, and decides from the
bytes of the attempts whether it is damaged at the source.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from pmc_pipeline.model import ParseError, UnsafeInput

from .limits import Limits
from .pairing import is_image
from .store import CountingReader

_XML_EXTENSIONS = (".nxml", ".xml")
TRUNCATED = "truncated_archive"  # the stream ends early (inside a member or its headers)
CORRUPT = "corrupt_archive"  # inflate fails, the gzip CRC or length is wrong, a bad header
_CHUNK = 1024 * 1024


@dataclass
class Package:
    """What was kept from one package."""

    name: str
    xml_name: str | None = None
    xml: bytes | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # image member -> reason
    damage: str | None = None  # why the archive ended early, when it did
    compressed_bytes: int = 0
    unpacked_bytes: int = 0
    members: int = 0


class DamagedArchive(Exception):
    """The archive is truncated or corrupt; `package` holds what was read before."""

    def __init__(self, reason: str, package: Package) -> None:
        super().__init__(reason)
        self.package = package


def read_package(stream: BinaryIO, *, name: str, limits: Limits) -> Package:
    """Read a .tar.gz (or plain .tar) package from `stream`.

    Raises UnsafeInput for a refused package, ParseError when it holds no article XML, and
    DamagedArchive for a truncated or corrupt one. Exceptions of the stream itself
    (Retryable, UnsafeInput over the transfer cap) pass through unchanged.
    """
    package = Package(name=name)
    compressed = CountingReader(stream)
    head = io.BufferedReader(compressed, buffer_size=_CHUNK)
    is_gzip = head.peek(2)[:2] == b"\x1f\x8b"
    inner = cast(BinaryIO, gzip.GzipFile(fileobj=head, mode="rb") if is_gzip else head)

    def check_expansion() -> None:
        unpacked, packed = unpacked_counter.count, max(1, compressed.count)
        if unpacked > limits.unpacked:
            raise UnsafeInput(f"decompression_bomb: {name} unpacks past {limits.unpacked} bytes")
        if unpacked > limits.ratio_floor and unpacked / packed > limits.max_ratio:
            raise UnsafeInput(
                f"decompression_bomb: {name} expands {unpacked / packed:.0f}x "
                f"(limit {limits.max_ratio:.0f}x)"
            )

    unpacked_counter = CountingReader(inner, check_expansion if is_gzip else None)
    try:
        with tarfile.open(fileobj=unpacked_counter, mode="r|") as archive:
            for member in archive:
                package.members += 1
                if package.members > limits.members:
                    raise UnsafeInput(f"too_many_members: {name} has over {limits.members}")
                _keep_member(archive, member, package, limits)
        # tarfile stops at the end-of-archive blocks; reading on to the end of the gzip
        # stream makes gzip check its CRC and length, which catches corrupted bytes.
        while unpacked_counter.read(_CHUNK):
            pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        package.damage = f"{_damage_code(exc)}: {name}: {exc}"
    finally:
        package.compressed_bytes = compressed.count
        package.unpacked_bytes = unpacked_counter.count
    if package.damage:
        raise DamagedArchive(package.damage, package)
    if package.xml is None:
        raise ParseError(f"no_article_xml: {name} holds no .nxml or .xml member")
    return package


def _xml_rank(name: str) -> tuple:
    """The article XML is an .nxml before an .xml, then the shallowest, then by name."""
    return (not name.lower().endswith(".nxml"), name.count("/"), name)


def _keep_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, package: Package, limits: Limits
) -> None:
    name = member.name
    _check_member_safe(member, package.name)
    if not member.isfile():
        return  # folders carry nothing we need
    lower = name.lower()
    if lower.endswith(_XML_EXTENSIONS):
        if member.size > limits.xml:
            raise UnsafeInput(
                f"member_too_large: {package.name}: {name} is {member.size} bytes "
                f"(cap {limits.xml})"
            )
        # Keep only the best XML seen so far, so that many XML members cost one.
        if package.xml_name is None or _xml_rank(name) < _xml_rank(package.xml_name):
            package.xml_name, package.xml = name, _read_member(archive, member)
    elif is_image(name):
        if member.size > limits.image:
            package.refused[name] = (
                f"member_too_large: {name} is {member.size} bytes (cap {limits.image})"
            )
            return
        package.images[name] = _read_member(archive, member)


def _check_member_safe(member: tarfile.TarInfo, package: str) -> None:
    name = member.name
    normal = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or normal == ".."
        or normal.startswith("../")
        or "/../" in f"/{name.replace(chr(92), '/')}/"
    ):
        raise UnsafeInput(f"path_traversal: {package}: member {name!r}")
    if member.issym() or member.islnk():
        raise UnsafeInput(f"link_member: {package}: {name!r} -> {member.linkname!r}")
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        raise UnsafeInput(f"special_member: {package}: {name!r} is a device or FIFO")
    if not (member.isfile() or member.isdir()):
        raise UnsafeInput(f"special_member: {package}: {name!r} has type {member.type!r}")


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    data = handle.read() if handle is not None else b""
    if len(data) != member.size:
        raise tarfile.ReadError(f"member {member.name!r} ends at {len(data)} of {member.size}")
    return data


def _damage_code(exc: BaseException) -> str:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "unexpected end" in text or "ends at" in text:
        return TRUNCATED
    return CORRUPT
