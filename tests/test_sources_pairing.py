"""Pairing graphic hrefs with image files, as real PMC hrefs and names disagree."""

from __future__ import annotations

import pytest

from pmc_pipeline.sources.pairing import image_extension, is_image, match_href

LEGACY = [
    "PMC10802347/nihpp-2023.12.31.573776v1.nxml",
    "PMC10802347/nihpp-2023.12.31.573776v1-f0001.gif",
    "PMC10802347/nihpp-2023.12.31.573776v1-f0002.gif",
    "PMC10802347/nihpp-2023.12.31.573776v1-f0002.jpg",
    "PMC10802347/nihpp-2023.12.31.573776v1.pdf",
]


@pytest.mark.parametrize(
    "href, expected",
    [
        # No extension, dots inside the name: the .jpg, not the .gif thumbnail.
        ("nihpp-2023.12.31.573776v1-f0002", "PMC10802347/nihpp-2023.12.31.573776v1-f0002.jpg"),
        # Only the thumbnail exists: it is all there is.
        ("nihpp-2023.12.31.573776v1-f0001", "PMC10802347/nihpp-2023.12.31.573776v1-f0001.gif"),
        # An explicit .gif href still gets the full .jpg when there is one.
        ("nihpp-2023.12.31.573776v1-f0002.gif", "PMC10802347/nihpp-2023.12.31.573776v1-f0002.jpg"),
        # Case differences.
        ("NIHPP-2023.12.31.573776V1-F0002", "PMC10802347/nihpp-2023.12.31.573776v1-f0002.jpg"),
        # A sub-folder in the href that the package does not have.
        (
            "figures/nihpp-2023.12.31.573776v1-f0002",
            "PMC10802347/nihpp-2023.12.31.573776v1-f0002.jpg",
        ),
        # Nothing for it, and never the PDF or the XML.
        ("nihpp-2023.12.31.573776v1-f0009", None),
        ("nihpp-2023.12.31.573776v1", None),
    ],
)
def test_legacy_hrefs(href, expected):
    assert match_href(href, LEGACY) == expected


def test_source_format_extensions_pair_with_the_converted_jpeg():
    names = ["PMC1/elife-00666-fig1.jpg", "PMC1/elife-00666-fig1.gif"]
    assert match_href("elife-00666-fig1.tif", names) == "PMC1/elife-00666-fig1.jpg"
    assert match_href("elife-00666-fig1.eps", names) == "PMC1/elife-00666-fig1.jpg"


def test_cloud_hrefs_with_extension():
    names = ["PMC1.1/NPR2-43-85-g001.jpg", "PMC1.1/NPR2-43-85-g001.gif", "PMC1.1/mmc1.pdf"]
    assert match_href("NPR2-43-85-g001.jpg", names) == "PMC1.1/NPR2-43-85-g001.jpg"
    assert match_href("mmc1", names) is None
    assert match_href("mmc1.pdf", names) is None


def test_sub_folders_break_ties_then_the_shortest_path():
    names = ["PMC1/other/f1.jpg", "PMC1/figs/f1.jpg", "PMC1/f1.jpg"]
    assert match_href("figs/f1", names) == "PMC1/figs/f1.jpg"
    assert match_href("f1", names) == "PMC1/f1.jpg"


def test_preference_between_formats():
    names = ["a/f1.gif", "a/f1.tif", "a/f1.png"]
    assert match_href("f1", names) == "a/f1.png"
    assert match_href("f1", ["a/f1.gif", "a/f1.tif"]) == "a/f1.tif"


def test_url_encoded_and_windows_style_hrefs():
    assert match_href("fig%201.jpg", ["PMC1/fig 1.jpg"]) == "PMC1/fig 1.jpg"
    assert match_href("figs\\f1.jpg", ["PMC1/f1.jpg"]) == "PMC1/f1.jpg"


def test_image_extensions():
    assert image_extension("a/b.JPG") == ".jpg"
    assert image_extension("a.b/c") is None
    assert is_image("x.tiff") and not is_image("x.pdf") and not is_image("x.nxml")
