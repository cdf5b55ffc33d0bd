"""The real PMC package in ../shared/fixtures/packages/PMC10802347 (read in place), packed
here into a legacy mirror in a temporary folder: every graphic of its XML pairs with its
image, from a directory and over HTTP; cut short like the real tarball was, the images
before the cut still pair."""

from __future__ import annotations

import csv
import random

import pytest
from helpers.paths import shared_fixture
from helpers.servers import serve_http
from helpers.sources_trees import FILE_LIST_HEADER, tar_gz

from pmc_pipeline.jats import parse_article
from pmc_pipeline.model import Layout, UnsafeInput
from pmc_pipeline.sources import open_source

PMCID = "PMC10802347"
LOCATION = f"oa_package/3c/41/{PMCID}.tar.gz"
STEM = "nihpp-2023.12.31.573776v1"


def package_members(folder):
    """The fixture files as PMC packs them: PMCnnn/<file>, the nxml first."""
    files = sorted(folder.iterdir(), key=lambda p: (p.suffix != ".nxml", p.name))
    return [(f"{PMCID}/{p.name}", p.read_bytes()) for p in files]


def write_mirror(root, package: bytes) -> None:
    (root / LOCATION).parent.mkdir(parents=True)
    (root / LOCATION).write_bytes(package)
    with open(root / "oa_file_list.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FILE_LIST_HEADER)
        writer.writerow(
            [
                LOCATION,
                "bioRxiv. 2024 Jan 2",
                PMCID,
                "2024-01-24 10:00:00",
                "38260331",
                "CC BY-NC-ND",
            ]
        )


@pytest.fixture
def fixture_dir():
    return shared_fixture("packages", PMCID)


# href -> the file holding its image: the .jpg, or the .gif where PMC's tarball lost the
# .jpg (F1, see the fixtures README).
EXPECTED = {
    f"{STEM}-f0001": f"{STEM}-f0001.gif",
    f"{STEM}-f0002": f"{STEM}-f0002.jpg",
    f"{STEM}-f0003": f"{STEM}-f0003.jpg",
    f"{STEM}-f0004": f"{STEM}-f0004.jpg",
}


def check_every_graphic_pairs(source, folder) -> None:
    (ref,) = source.list_articles()
    assert (ref.pmcid, ref.license, ref.location) == (PMCID, "CC BY-NC-ND", LOCATION)
    files = source.open_article(ref)
    article = parse_article(files.xml())
    hrefs = [figure.image_href for figure in article.figures]
    assert sorted(hrefs) == sorted(EXPECTED)
    for href in hrefs:
        name, data = files.image(href)
        assert name == f"{PMCID}/{EXPECTED[href]}"
        assert data == (folder / EXPECTED[href]).read_bytes()


def test_every_graphic_pairs_from_a_directory(fixture_dir, tmp_path):
    write_mirror(tmp_path, tar_gz(package_members(fixture_dir)))
    check_every_graphic_pairs(open_source(Layout.LEGACY, str(tmp_path)), fixture_dir)


def test_every_graphic_pairs_over_http(fixture_dir, tmp_path):
    write_mirror(tmp_path, tar_gz(package_members(fixture_dir)))
    with serve_http(tmp_path) as url:
        check_every_graphic_pairs(open_source(Layout.LEGACY, url), fixture_dir)


def test_a_tarball_cut_inside_its_pdf_keeps_the_images_before_the_cut(fixture_dir, tmp_path):
    # The real tarball was truncated inside its PDF member; rebuild that shape. The cut is
    # at the source (every read gets the same bytes): the full images read before it pair;
    # F1, whose .jpg PMC's tarball lacks, gets no thumbnail stand-in, since its .jpg could
    # have been in the part that is lost.
    pdf = random.Random(0).randbytes(300_000)
    package = tar_gz([*package_members(fixture_dir), (f"{PMCID}/{STEM}.pdf", pdf)])
    write_mirror(tmp_path, package[: len(package) - 100_000])
    source = open_source(Layout.LEGACY, str(tmp_path))
    files = source.open_article(next(iter(source.list_articles())))
    assert files.package().damage.startswith("truncated_archive")
    for href, name in EXPECTED.items():
        if name.endswith(".jpg"):
            assert files.image(href) == (f"{PMCID}/{name}", (fixture_dir / name).read_bytes())
        else:
            with pytest.raises(
                UnsafeInput, match=f"^truncated_archive: .*{href}.*; only .*-f0001.gif was read"
            ):
                files.image(href)
