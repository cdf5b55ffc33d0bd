"""Mirrors of real articles (--jats ../shared/fixtures/jats): the XML kept byte for byte,
PMCIDs from the XML, a file for every graphic, real images used where --images has them.
Skipped when the shared fixtures are absent."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from helpers.paths import shared_fixture
from PIL import Image

from pmc_pipeline.mirror import TRUTH_NAME, write_mirror

pytestmark = pytest.mark.slow

SMALL = {"pdf_scale": 0.01, "supplement_scale": 0.01, "workers": 2}


@pytest.fixture(scope="module", params=["cloud", "legacy"])
def jats_mirror(request, tmp_path_factory) -> tuple[str, Path, Path]:
    jats = shared_fixture("jats")
    root = tmp_path_factory.mktemp(f"jats-{request.param}")
    write_mirror(root, request.param, None, 1, jats_dir=jats, **SMALL)
    return request.param, root, jats


def truth_articles(root: Path) -> list[dict]:
    return json.loads((root / TRUTH_NAME).read_text("utf-8"))["articles"]


def files_of(layout: str, root: Path, article: dict) -> dict[str, bytes]:
    if layout == "legacy":
        with tarfile.open(root / article["location"]) as tar:
            return {
                m.name.split("/", 1)[1]: tar.extractfile(m).read()
                for m in tar.getmembers()
                if m.isfile()
            }
    return {p.name: p.read_bytes() for p in (root / article["location"]).iterdir()}


def test_every_real_file_becomes_an_article_with_its_xml_unchanged(jats_mirror):
    layout, root, jats = jats_mirror
    expected = json.loads((jats / "expected.json").read_text("utf-8"))["files"]
    articles = truth_articles(root)
    assert sorted(a["path"] for a in articles) == sorted(
        k for k in expected if not k.startswith("..")
    )
    for article in articles:
        source = (jats / article["path"]).read_bytes()
        files = files_of(layout, root, article)
        name = (
            f"{article['pmcid']}.1.xml"
            if layout == "cloud"
            else f"{Path(article['path']).stem}.nxml"
        )
        assert files[name] == source
        facts = expected[article["path"]]
        assert sum(f["kind"] == "figure" for f in article["figures"]) == facts["n_figs"]


def test_pmcids_come_from_the_xml_or_are_made_up_uniquely(jats_mirror):
    _, root, jats = jats_mirror
    expected = json.loads((jats / "expected.json").read_text("utf-8"))["files"]
    articles = truth_articles(root)
    assert len({a["pmcid"] for a in articles}) == len(articles)
    for article in articles:
        in_xml = expected[article["path"]]["pmcid_normalized"]
        if in_xml:
            assert article["pmcid"] == in_xml == article["xml_pmcid"]
        else:
            assert int(article["pmcid"][3:]) >= 90_000_000 and article["xml_pmcid"] is None


def test_every_graphic_has_an_image_file_that_decodes(jats_mirror):
    layout, root, _ = jats_mirror
    graphics = 0
    for article in truth_articles(root):
        files = files_of(layout, root, article)
        for figure in article["figures"]:
            assert figure["image_file"] in files, (article["path"], figure["id"])
            for name in (figure["image_file"], figure["thumbnail_file"]):
                if name:
                    with Image.open(io.BytesIO(files[name])) as image:
                        image.load()
            for graphic in figure["graphics"]:
                href = graphic["href"]
                has_extension = href.lower().endswith((".jpg", ".gif", ".png", ".tif", ".tiff"))
                assert (href if has_extension else f"{href}.jpg") in files, href
                graphics += 1
            assert figure["image_source"] == "stand_in"  # no --images: all drawn
    assert graphics >= 307


@pytest.mark.parametrize("layout", ["cloud", "legacy"])
def test_real_images_are_used_and_only_missing_ones_drawn(layout, tmp_path):
    package = shared_fixture("packages", "PMC10802347")
    write_mirror(tmp_path, layout, None, 1, jats_dir=package, images_dir=package, **SMALL)
    (article,) = truth_articles(tmp_path)
    assert article["pmcid"] == "PMC10802347"
    files = files_of(layout, tmp_path, article)
    real = {p.name: p.read_bytes() for p in package.iterdir() if p.suffix in (".jpg", ".gif")}
    by_id = {f["id"]: f for f in article["figures"]}
    assert sorted(by_id) == ["F1", "F2", "F3", "F4"]
    for figure in article["figures"]:
        assert files[figure["thumbnail_file"]] == real[figure["thumbnail_file"]]
    for fid in ("F2", "F3", "F4"):
        assert by_id[fid]["image_source"] == "real"
        assert files[by_id[fid]["image_file"]] == real[by_id[fid]["image_file"]]
    # The package's F1 full image is missing upstream: a stand-in JPEG is drawn for it.
    assert "nihpp-2023.12.31.573776v1-f0001.jpg" not in real
    assert by_id["F1"]["image_source"] == "stand_in" and by_id["F1"]["format"] == "JPEG"
    assert (
        hashlib.md5(files[by_id["F1"]["image_file"]]).hexdigest()
        != hashlib.md5(real[by_id["F1"]["thumbnail_file"]]).hexdigest()
    )


def test_real_articles_first_then_synthetic_ones(tmp_path):
    package = shared_fixture("packages", "PMC10802347")
    summary = write_mirror(tmp_path, "cloud", 4, 1, jats_dir=package, **SMALL)
    articles = truth_articles(tmp_path)
    assert summary.articles == 4
    assert [a["source"] for a in articles] == ["real", "synthetic", "synthetic", "synthetic"]
    assert all(int(a["pmcid"][3:]) >= 50_000_000 for a in articles[1:])
