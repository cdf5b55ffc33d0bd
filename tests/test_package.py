"""Safe streaming of legacy packages: what is kept, what is refused, and how damage is
reported. Every archive here is built in the test, in memory."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib

import pytest
from helpers.sources_trees import jats, jpeg_bytes, tar_gz

from pmc_pipeline.model import FetchError, ParseError, UnsafeInput
from pmc_pipeline.sources.legacy import load_package
from pmc_pipeline.sources.limits import Limits
from pmc_pipeline.sources.local import LocalStore
from pmc_pipeline.sources.package import DamagedArchive, read_package

XML = jats("PMC1", ["pmc1-f1", "pmc1-f2"])
FULL1, FULL2 = jpeg_bytes(1), jpeg_bytes(2)
GOOD = [
    ("PMC1/article.nxml", XML),
    ("PMC1/pmc1-f1.gif", b"GIF89a thumb"),
    ("PMC1/pmc1-f1.jpg", FULL1),
    ("PMC1/pmc1-f2.jpg", FULL2),
    ("PMC1/article.pdf", b"%PDF-1.4" + b"x" * 5000),
    ("PMC1/supplement.docx", b"docx"),
]


def read(data: bytes, limits: Limits | None = None):
    return read_package(io.BytesIO(data), name="PMC1.tar.gz", limits=limits or Limits())


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def test_keeps_the_xml_and_images_only():
    package = read(tar_gz(GOOD))
    assert package.xml_name == "PMC1/article.nxml" and package.xml == XML
    assert package.images == {
        "PMC1/pmc1-f1.gif": b"GIF89a thumb",
        "PMC1/pmc1-f1.jpg": FULL1,
        "PMC1/pmc1-f2.jpg": FULL2,
    }
    assert package.members == len(GOOD) and package.damage is None
    assert package.unpacked_bytes > package.compressed_bytes > 0


def test_reads_an_uncompressed_tar_too():
    assert read(tar_gz(GOOD, compress=False)).xml == XML


def test_prefers_the_nxml_when_several_xml_members_exist():
    members = [
        ("PMC1/refs.xml", b"<refs/>"),
        ("PMC1/main.nxml", XML),
        ("PMC1/x/deep.nxml", b"<a/>"),
    ]
    assert read(tar_gz(members)).xml_name == "PMC1/main.nxml"


@pytest.mark.parametrize(
    "name", ["../evil.jpg", "PMC1/../../evil.jpg", "/etc/passwd.jpg", "PMC1/a/../../../x.nxml"]
)
def test_path_traversal_is_refused(name):
    with pytest.raises(UnsafeInput, match="^path_traversal"):
        read(tar_gz([*GOOD[:2], (name, b"x")]))


@pytest.mark.parametrize(
    "member, code",
    [
        (special("PMC1/link.jpg", tarfile.SYMTYPE, "/etc/passwd"), "link_member"),
        (special("PMC1/hard.jpg", tarfile.LNKTYPE, "PMC1/pmc1-f1.jpg"), "link_member"),
        (special("PMC1/dev", tarfile.CHRTYPE), "special_member"),
        (special("PMC1/blk", tarfile.BLKTYPE), "special_member"),
        (special("PMC1/fifo", tarfile.FIFOTYPE), "special_member"),
    ],
)
def test_links_and_devices_are_refused(member, code):
    with pytest.raises(UnsafeInput, match=f"^{code}"):
        read(tar_gz([*GOOD, member]))


def test_an_oversized_image_is_refused_alone():
    package = read(tar_gz(GOOD), Limits(image=len(FULL1) - 1))
    assert "PMC1/pmc1-f1.jpg" not in package.images
    assert package.refused["PMC1/pmc1-f1.jpg"].startswith("member_too_large: PMC1/pmc1-f1.jpg")
    assert package.images["PMC1/pmc1-f1.gif"] == b"GIF89a thumb"


def test_an_oversized_xml_refuses_the_package():
    with pytest.raises(UnsafeInput, match="^member_too_large: .*article.nxml"):
        read(tar_gz(GOOD), Limits(xml=len(XML) - 1))


def test_too_many_members_refuses_the_package():
    members = [("PMC1/article.nxml", XML)] + [(f"PMC1/e{i}.txt", b"") for i in range(50)]
    with pytest.raises(UnsafeInput, match="^too_many_members"):
        read(tar_gz(members), Limits(members=20))


def test_a_gzip_bomb_is_refused_by_total_size():
    # 20 MB of zeros in one member compresses to ~20 KB.
    bomb = tar_gz([("PMC1/article.nxml", XML), ("PMC1/zeros.bin", bytes(20_000_000))])
    assert len(bomb) < 100_000
    with pytest.raises(UnsafeInput, match="^decompression_bomb: .* unpacks past"):
        read(bomb, Limits(unpacked=5_000_000))


def test_a_gzip_bomb_is_refused_by_ratio():
    bomb = tar_gz([("PMC1/article.nxml", XML), ("PMC1/zeros.bin", bytes(20_000_000))])
    with pytest.raises(UnsafeInput, match=r"^decompression_bomb: .* expands \d+x"):
        read(bomb, Limits(ratio_floor=1_000_000, max_ratio=100))


def test_a_truncated_archive_keeps_what_came_before():
    # Like the real PMC10802347 tarball in ../shared/fixtures: cut inside a late member.
    data = tar_gz(GOOD[:3] + [("PMC1/article.pdf", jpeg_bytes(9, 50_000)), GOOD[3]])
    with pytest.raises(DamagedArchive, match="^truncated_archive") as caught:
        read(data[: len(data) * 2 // 3])
    partial = caught.value.package
    assert partial.xml == XML and partial.images["PMC1/pmc1-f1.jpg"] == FULL1
    assert "PMC1/pmc1-f2.jpg" not in partial.images


def test_corrupted_bytes_fail_the_crc_or_inflate():
    data = bytearray(tar_gz(GOOD))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(DamagedArchive, match="^(corrupt|truncated)_archive"):
        read(bytes(data))


def test_a_bad_crc_alone_is_detected():
    # Valid deflate data with a wrong CRC32 in the trailer: only draining to the end of
    # the gzip stream catches it.
    raw = tar_gz(GOOD, compress=False)
    data = bytearray(gzip.compress(raw, mtime=0))
    data[-8:-4] = (zlib.crc32(raw) ^ 1).to_bytes(4, "little")
    with pytest.raises(DamagedArchive, match="^corrupt_archive"):
        read(bytes(data))


def test_a_package_without_xml_is_a_parse_failure():
    with pytest.raises(ParseError, match="^no_article_xml"):
        read(tar_gz(GOOD[1:]))


def test_garbage_is_a_damaged_archive():
    with pytest.raises(DamagedArchive):
        read(b"this is not a tarball at all" * 100)


# --- through a store, with retries ---------------------------------------------------------


def test_load_package_keeps_a_damaged_package_that_has_its_xml(tmp_path):
    data = tar_gz(GOOD[:3] + [("PMC1/article.pdf", jpeg_bytes(9, 50_000)), GOOD[3]])
    (tmp_path / "p.tar.gz").write_bytes(data[: len(data) * 2 // 3])
    package = load_package(LocalStore(tmp_path), "p.tar.gz", Limits())
    assert package.damage.startswith("truncated_archive") and package.xml == XML


def test_load_package_refuses_a_damaged_package_without_xml(tmp_path):
    data = tar_gz([("PMC1/big.pdf", jpeg_bytes(9, 50_000)), *GOOD])
    (tmp_path / "p.tar.gz").write_bytes(data[: len(data) // 3])
    with pytest.raises(UnsafeInput, match="^truncated_archive"):
        load_package(LocalStore(tmp_path), "p.tar.gz", Limits())


def test_load_package_refuses_a_transfer_over_the_package_cap(tmp_path):
    (tmp_path / "p.tar.gz").write_bytes(tar_gz(GOOD))
    with pytest.raises(UnsafeInput, match="^too_large"):
        load_package(LocalStore(tmp_path), "p.tar.gz", Limits(package=100))


def test_load_package_missing(tmp_path):
    with pytest.raises(FetchError, match="^missing"):
        load_package(LocalStore(tmp_path), "nope.tar.gz", Limits())
