"""The cloud layout: listing (inventory, metadata/ listing, PMCIDs), newest versions, --since,
and per-article reads (metadata first, XML, full images only, md5 checked)."""

from __future__ import annotations

import datetime as dt
import pickle
import shutil

import pytest
from helpers.servers import Faults, serve_s3
from helpers.sources_trees import CloudArticle, md5, write_cloud_article, write_inventory

from pmc_pipeline.model import FetchError, Layout, ListingError, MissingFile
from pmc_pipeline.sources import open_source
from pmc_pipeline.sources.cloud import CloudSource
from pmc_pipeline.sources.local import LocalStore

ARTICLES = [
    CloudArticle(100, 1),
    CloudArticle(100, 2, figures=3),
    CloudArticle(20, 1),
    CloudArticle(3, 1, retracted=True, license_code="CC BY-NC"),
    CloudArticle(55, 1, with_media_urls=False),
]
MODIFIED = {
    "PMC100.1": "2024-01-01T05:00:00.000Z",
    "PMC100.2": "2026-11-02T05:00:00.000Z",
    "PMC20.1": "2026-10-30T05:00:00.000Z",
    "PMC3.1": "2026-11-01T00:30:00.000Z",
    "PMC55.1": "2025-05-05T05:00:00.000Z",
}


def build_tree(root):
    metadata = {a.stem: write_cloud_article(root, a) for a in ARTICLES}
    rows = [(f"metadata/{stem}.json", MODIFIED[stem], f"etag-{stem}") for stem in metadata]
    rows.append(("PMC20.1/PMC20.1.xml", "2026-10-30T05:00:00.000Z", "not-metadata"))
    # An older inventory that knows only one article: the newest manifest must win.
    write_inventory(root, "2026-11-01T01-00Z", rows[:1], parts=1)
    write_inventory(root, "2026-11-03T01-00Z", rows, parts=2)
    return metadata


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("cloud")
    build_tree(root)
    return root


class RecordingStore(LocalStore):
    """A LocalStore that remembers every key it was asked for."""

    def __init__(self, root):
        super().__init__(root)
        self.fetched: list[str] = []

    def _get_once(self, key, max_bytes):
        self.fetched.append(key)
        return super()._get_once(key, max_bytes)


def keys(refs):
    return [(r.pmcid, r.version) for r in refs]


def test_inventory_listing_keeps_the_newest_version_in_pmcid_order(tree):
    refs = list(open_source(Layout.CLOUD, str(tree)).list_articles())
    assert keys(refs) == [("PMC3", 1), ("PMC20", 1), ("PMC55", 1), ("PMC100", 2)]
    newest = refs[-1]
    assert newest.layout == Layout.CLOUD and newest.location == "PMC100.2/"
    assert newest.last_updated == MODIFIED["PMC100.2"] and newest.etag == "etag-PMC100.2"


def test_all_versions(tree):
    refs = open_source(Layout.CLOUD, str(tree)).list_articles(all_versions=True)
    assert keys(refs) == [("PMC3", 1), ("PMC20", 1), ("PMC55", 1), ("PMC100", 1), ("PMC100", 2)]


def test_metadata_listing_gives_the_same_articles(tree):
    source = open_source(Layout.CLOUD, str(tree), listing="metadata")
    assert keys(source.list_articles()) == [("PMC3", 1), ("PMC20", 1), ("PMC55", 1), ("PMC100", 2)]


def test_inventory_listing_requires_an_inventory(tmp_path):
    write_cloud_article(tmp_path, CloudArticle(7))
    with pytest.raises(ListingError, match="no inventory manifest"):
        list(open_source(Layout.CLOUD, str(tmp_path), listing="inventory").list_articles())
    # 'auto' falls back to listing metadata/.
    assert keys(open_source(Layout.CLOUD, str(tmp_path)).list_articles()) == [("PMC7", 1)]


def test_since_uses_the_inventory_dates(tree):
    source = open_source(Layout.CLOUD, str(tree))
    refs = source.list_articles(since=dt.date(2026, 11, 1))
    assert keys(refs) == [("PMC3", 1), ("PMC100", 2)]
    refs = source.list_articles(since=dt.date(2026, 11, 1), all_versions=True)
    assert keys(refs) == [("PMC3", 1), ("PMC100", 2)]


def test_pmcids_are_looked_up_and_unknown_ones_still_listed(tree):
    source = open_source(Layout.CLOUD, str(tree))
    refs = list(source.list_articles(pmcids=["PMC100", "PMC20.1", "  # a comment", "999", "55"]))
    assert keys(refs) == [("PMC20", 1), ("PMC55", 1), ("PMC100", 2), ("PMC999", None)]
    with pytest.raises(MissingFile, match="no version of PMC999"):
        source.open_article(refs[-1])
    all_refs = source.list_articles(pmcids=["PMC100"], all_versions=True)
    assert keys(all_refs) == [("PMC100", 1), ("PMC100", 2)]


def test_an_article_reads_metadata_then_xml_then_full_images_only(tree):
    store = RecordingStore(tree)
    source = CloudSource(store)
    ref = next(r for r in source.list_articles() if r.pmcid == "PMC100")
    files = source.open_article(ref)
    assert store.fetched[-1] == "metadata/PMC100.2.json"
    assert files.metadata["license_code"] == "CC BY" and files.metadata["version"] == 2
    xml = files.xml()
    assert b"<fig" in xml and store.fetched[-1] == "PMC100.2/PMC100.2.xml"
    article = ARTICLES[1]
    for href, data in article.images.items():
        name, body = files.image(href)
        assert (name, body) == (f"PMC100.2/{href}", data)
        # The thumbnail href of the <alternatives> also resolves to the full image.
        assert files.image(href.replace(".jpg", ".gif"))[1] == data
    assert not [k for k in store.fetched if k.endswith((".pdf", ".gif", ".docx", ".txt"))]
    meta_size = (tree / "metadata/PMC100.2.json").stat().st_size
    images = 2 * sum(len(d) for d in article.images.values())
    assert files.bytes_read == meta_size + len(xml) + images


def test_an_href_without_a_media_file_is_missing(tree):
    source = open_source(Layout.CLOUD, str(tree))
    files = source.open_article(next(iter(source.list_articles(pmcids=["PMC20.1"]))))
    with pytest.raises(MissingFile, match="no image among PMC20.1's media"):
        files.image("a20-g009.jpg")
    with pytest.raises(MissingFile):
        files.image("a20-s001")  # the supplement is not an image


def test_without_media_urls_the_href_names_the_file(tree):
    source = open_source(Layout.CLOUD, str(tree))
    files = source.open_article(next(iter(source.list_articles(pmcids=["PMC55.1"]))))
    assert "media_urls" not in files.metadata
    href, data = next(iter(ARTICLES[4].images.items()))
    assert files.image(href) == (f"PMC55.1/{href}", data)
    with pytest.raises(MissingFile):
        files.image("PMC55.1.pdf")


def test_a_file_that_fails_its_md5_is_reported(tmp_path):
    article = CloudArticle(8)
    write_cloud_article(tmp_path, article)
    href = next(iter(article.images))
    (tmp_path / article.stem / href).write_bytes(b"\xff\xd8 replaced bytes")
    source = open_source(Layout.CLOUD, str(tmp_path))
    files = source.open_article(next(iter(source.list_articles())))
    with pytest.raises(FetchError, match=f"^md5_mismatch: PMC8.1/{href}"):
        files.image(href)


def test_missing_metadata_is_a_missing_file(tmp_path):
    write_cloud_article(tmp_path, CloudArticle(9))
    write_cloud_article(tmp_path, CloudArticle(10))
    shutil.rmtree(tmp_path / "PMC9.1")
    (tmp_path / "metadata" / "PMC9.1.json").unlink()
    source = open_source(Layout.CLOUD, str(tmp_path))
    with pytest.raises(MissingFile, match="^missing: PMC9.1/PMC9.1.json"):
        source.open_article(next(iter(source.list_articles(pmcids=["PMC9.1"]))))


def test_a_corrupt_inventory_part_is_retried_then_reported(tmp_path):
    write_cloud_article(tmp_path, CloudArticle(10))
    write_inventory(tmp_path, "2026-11-03T01-00Z", [("metadata/PMC10.1.json", "x", "e")], parts=1)
    part = next((tmp_path / "inventory-reports").rglob("*.csv.gz"))
    part.write_bytes(part.read_bytes()[:-3] + b"xyz")
    with pytest.raises(ListingError, match="corrupt_inventory|md5_mismatch"):
        list(open_source(Layout.CLOUD, str(tmp_path)).list_articles())


def test_sources_pickle(tree):
    source = open_source(Layout.CLOUD, str(tree), listing="metadata")
    clone = pickle.loads(pickle.dumps(source))
    assert keys(clone.list_articles()) == keys(source.list_articles())


def test_over_anonymous_s3_with_faults(tree, monkeypatch):
    faults = Faults(rate=0.3, seed=3, slow_seconds=1.0, retry_after=1)
    with serve_s3(tree, faults) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        source = open_source(Layout.CLOUD, "s3://pmc-oa-opendata", timeout=(5, 0.5), backoff=0.05)
        refs = list(source.list_articles())
        assert keys(refs) == [("PMC3", 1), ("PMC20", 1), ("PMC55", 1), ("PMC100", 2)]
        by_stem = {a.stem: a for a in ARTICLES}
        for ref in refs:
            files = source.open_article(ref)
            article = by_stem[f"{ref.pmcid}.{ref.version}"]
            assert md5(files.xml()) == md5(
                (tree / article.stem / f"{article.stem}.xml").read_bytes()
            )
            for href, data in article.images.items():
                assert files.image(href)[1] == data
    assert faults.count() > 0
