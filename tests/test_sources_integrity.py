"""A build never reads a wrong dataset from its sources (issue 11), over real servers on
127.0.0.1:

- a listing is whole or raises ListingError: a garbled, cut-short or swapped directory
  index page, or a file list that stays unreadable, never gives a shorter listing (nor
  loses the Retracted flags of a bulk list);
- a package, image or metadata JSON damaged in transit is fetched again, and when every
  attempt is damaged (differently: damage in transit is random) the article ends
  fetch_failed, which --retry-failed redoes; damage at the source (the same bytes on every
  attempt) is refused, or for a package cut short, used only up to the cut;
- a root of the other layout, or of neither, is a LayoutError before anything is listed.
"""

from __future__ import annotations

import json
import re
import shutil
import threading

import pytest
from helpers.servers import Faults, _FileHandler, _running, _Server, serve_http, serve_s3
from helpers.sources_trees import (
    CloudArticle,
    LegacyArticle,
    jats,
    picture,
    tar_gz,
    write_cloud_article,
    write_file_lists,
    write_inventory,
    write_legacy_tree,
)

from pmc_pipeline import staging
from pmc_pipeline.extract import ExtractOptions, extract_article
from pmc_pipeline.mirror import TRUTH_NAME, write_mirror
from pmc_pipeline.model import ArticleStatus, Layout, LayoutError, ListingError
from pmc_pipeline.records import full_reason
from pmc_pipeline.sources import open_source

# Quick to give up: a slow reply times out in half a second, backoff stays short.
FAST_S3 = {"timeout": (5, 0.5), "backoff": 0.01, "backoff_max": 0.05}
FAST = {**FAST_S3, "retry_after_max": 0.1}
SMALL = {"pdf_scale": 0.02, "supplement_scale": 0.05, "workers": 1}
ARTICLES = [
    LegacyArticle(13900),
    LegacyArticle(5, retracted=True),
    LegacyArticle(176545, figures=3),
]
BULK_PAGE = "/oa_bulk/oa_comm/xml/"  # the index page that names the bulk list (Retracted)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return write_legacy_tree(tmp_path_factory.mktemp("legacy"), ARTICLES)


def retracted(refs) -> set[str]:
    return {ref.pmcid for ref in refs if ref.retracted}


class _AlteringHandler(_FileHandler):
    """Serves the tree, passing the body of each GET of `server.target` through
    `server.alter(n, body)` (n counts those requests from 1): a page or file changed at
    the server, whole and with its own Content-Length, which no transport check sees."""

    def respond(self, status, headers, body):
        if self.command == "GET" and self.path == self.server.target:
            with self.server.lock:
                self.server.count += 1
                n = self.server.count
            body = self.server.alter(n, body)
        super().respond(status, headers, body)


def serve_altered(root, target: str, alter):
    server = _Server(
        _AlteringHandler, None, root=root.resolve(), target=target, alter=alter, count=0
    )
    server.lock = threading.Lock()
    return _running(server)


# --- listings: whole or an error -----------------------------------------------------------


def test_the_listing_over_http_has_the_retraction_flags(tree):
    with serve_http(tree) as url:
        refs = list(open_source(Layout.LEGACY, url, **FAST).list_articles())
    assert [r.pmcid for r in refs] == ["PMC5", "PMC13900", "PMC176545"]
    assert retracted(refs) == {"PMC5"}


@pytest.mark.parametrize("attempts", [1, 1000])
def test_a_garbled_index_page_is_read_again_or_fails_the_listing(tree, attempts):
    faults = Faults(
        rate=1.0, kinds=("corrupt",), attempts=attempts, corruptible=r"/$", only=f"^{BULK_PAGE}$"
    )
    with serve_http(tree, faults) as url:
        source = open_source(Layout.LEGACY, url, **FAST)
        if attempts == 1:
            assert retracted(source.list_articles()) == {"PMC5"}
        else:
            with pytest.raises(ListingError, match=f"index_page: {url}{BULK_PAGE} is not UTF-8"):
                list(source.list_articles())
    assert faults.count("corrupt") >= 1


def _without_bulk_list(page: bytes) -> bytes:
    """The index page as a stale or error page would have it: whole, valid, one name short."""
    changed = re.sub(rb'<a href="[^"]*\.filelist\.csv">[^<]*</a>', b"", page)
    assert changed != page
    return changed


@pytest.mark.parametrize(
    "bad_reads, error",
    [
        ({1}, None),  # swapped once: the second read disagrees, the next attempt is whole
        ({1, 3, 5, 7, 9, 11}, "changed between two reads"),  # every attempt disagrees
    ],
)
def test_an_index_page_swapped_for_a_shorter_one_is_caught(tree, bad_reads, error):
    def alter(n, body):
        return _without_bulk_list(body) if n in bad_reads else body

    with serve_altered(tree, BULK_PAGE, alter) as url:
        source = open_source(Layout.LEGACY, url, **FAST)
        if error is None:
            assert retracted(source.list_articles()) == {"PMC5"}
        else:
            with pytest.raises(ListingError, match=f"index_page: {url}{BULK_PAGE} {error}"):
                list(source.list_articles())


def listing_fails(tree, page: str, alter, message: str) -> None:
    """Listing `tree`, served with `page` changed by alter(n, body), fails with `message`."""
    with serve_altered(tree, page, alter) as url:
        with pytest.raises(ListingError, match=message):
            list(open_source(Layout.LEGACY, url, **FAST).list_articles())


def test_an_index_page_cut_short_at_the_server_fails_the_listing(tree):
    def alter(n, body):
        return body[: len(body) // 2]

    listing_fails(tree, BULK_PAGE, alter, r"is not a whole HTML page \(no closing </html>\)")


def test_a_root_page_that_does_not_show_the_file_list_fails_the_listing(tree):
    def alter(n, body):
        return body.replace(b'<a href="oa_file_list.csv">oa_file_list.csv</a>', b"")

    listing_fails(tree, "/", alter, "incomplete_listing: .* does not show oa_file_list")


def test_a_folder_linked_but_missing_fails_the_listing(tree):
    def alter(n, body):
        return body.replace(b"</body>", b'<a href="ghost/">ghost/</a></body>')

    listing_fails(tree, "/oa_bulk/", alter, "oa_bulk/ghost/ is linked from its parent")


@pytest.mark.parametrize(
    "kind, attempts, error",
    [
        ("truncate", 1, None),
        ("reset", 1, None),
        ("503", 1000, "http_503"),
        ("truncate", 1000, "truncated|connection"),
    ],
)
def test_an_unreadable_bulk_list_fails_the_listing(tree, kind, attempts, error):
    faults = Faults(
        rate=1.0, kinds=(kind,), attempts=attempts, retry_after=0, only=r"\.filelist\.csv$"
    )
    with serve_http(tree, faults) as url:
        source = open_source(Layout.LEGACY, url, **{**FAST, "attempts": 3})
        if error is None:
            assert retracted(source.list_articles()) == {"PMC5"}
        else:
            with pytest.raises(ListingError, match=f"({error}): oa_bulk/.*filelist.csv"):
                list(source.list_articles())
    assert faults.count(kind) >= 1


@pytest.mark.parametrize(
    "damage, error",
    [
        (lambda text: text.replace(",PMC5,", ",PMC5x,"), "line 3: not a PMCID: 'PMC5x'"),
        (lambda text: text[: text.rindex(",")], "line 4: 6 fields, the header has 7"),
        (lambda text: text.rstrip("\r\n"), "the last line has no line break"),
    ],
)
def test_a_bulk_list_damaged_at_the_source_fails_the_listing(tree, tmp_path, damage, error):
    root = tmp_path / "mirror"
    shutil.copytree(tree, root)
    (path,) = root.glob("oa_bulk/**/*.filelist.csv")
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    with serve_http(root) as url:
        with pytest.raises(ListingError, match=f"corrupt_list: oa_bulk/.*{re.escape(error)}"):
            list(open_source(Layout.LEGACY, url, **FAST).list_articles())


@pytest.fixture(scope="module")
def cloud_mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("cloud") / "mirror"
    write_mirror(root, Layout.CLOUD, 8, 3, **SMALL)
    return root


@pytest.mark.parametrize("attempts", [1, 1000])
def test_an_inventory_part_corrupted_in_transit_over_s3(cloud_mirror, monkeypatch, attempts):
    expected = list(open_source(Layout.CLOUD, str(cloud_mirror)).list_articles())
    faults = Faults(rate=1.0, kinds=("corrupt",), attempts=attempts, only=r"\.csv\.gz$")
    with serve_s3(cloud_mirror, faults) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        source = open_source(Layout.CLOUD, "s3://pmc-oa-opendata", **FAST_S3, attempts=3)
        if attempts == 1:
            assert list(source.list_articles()) == expected
        else:
            with pytest.raises(
                ListingError, match="(corrupt_inventory|md5_mismatch|checksum_mismatch): "
            ):
                list(source.list_articles())
    assert faults.count("corrupt") >= 1


def test_a_manifest_that_fails_its_checksum_fails_the_listing(cloud_mirror, tmp_path):
    root = tmp_path / "mirror"
    shutil.copytree(cloud_mirror, root)
    newest = max(root.glob("inventory-reports/**/manifest.checksum"))
    newest.write_text("0" * 32 + "\n")
    with pytest.raises(ListingError, match="md5_mismatch: .*manifest.json"):
        list(open_source(Layout.CLOUD, str(root)).list_articles())


# --- the layout check ----------------------------------------------------------------------


def test_a_legacy_root_read_as_cloud_is_an_error_over_s3(tree, monkeypatch):
    with serve_s3(tree) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        source = open_source(Layout.CLOUD, "s3://pmc-oa-opendata")
        message = r"looks like a legacy PMC root \(it has oa_file_list.csv, .*use --layout legacy"
        with pytest.raises(LayoutError, match=message):
            source.check_root()
        with pytest.raises(LayoutError, match=message):
            list(source.list_articles())
        with pytest.raises(LayoutError, match=message):  # a PMCID list gets no further
            list(source.list_articles(pmcids=["PMC5"]))
        assert [r.pmcid for r in open_source(Layout.LEGACY, "s3://pmc-oa-opendata").list_articles()]


def test_a_cloud_root_read_as_legacy_is_an_error_over_http(cloud_mirror):
    with serve_http(cloud_mirror) as url:
        source = open_source(Layout.LEGACY, url, **FAST)
        with pytest.raises(LayoutError, match=r"looks like a cloud PMC root .*use --layout cloud"):
            source.check_root()
        open_source(Layout.CLOUD, url, **FAST).check_root()


@pytest.mark.parametrize("layout", [Layout.CLOUD, Layout.LEGACY])
def test_a_root_of_neither_layout_is_an_error(tmp_path, layout):
    (tmp_path / "README.txt").write_text("not PMC")
    with pytest.raises(LayoutError, match=f"is not a {layout} PMC root: it has no "):
        open_source(layout, str(tmp_path)).check_root()


def test_valid_roots_with_nothing_listed_stay_valid(tmp_path):
    legacy, cloud = tmp_path / "legacy", tmp_path / "cloud"
    legacy.mkdir()
    write_file_lists(legacy, [], bulk=False)
    assert list(open_source(Layout.LEGACY, str(legacy)).list_articles()) == []
    write_inventory(cloud, "2026-11-03T01-00Z", [], parts=1)
    assert list(open_source(Layout.CLOUD, str(cloud)).list_articles()) == []


# --- articles: damage in transit stays retryable ----------------------------------------------

OPTS = ExtractOptions()


def outcome(result) -> tuple:
    """What a build keeps of an extract result (bytes_read aside, which retries change)."""
    figures = [(f["key"], f["status"], full_reason(f), f["pixel_sha256"]) for f in result.figures]
    return result.article["status"], full_reason(result.article), figures


@pytest.fixture(scope="module")
def legacy_mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("legacy-mirror") / "mirror"
    write_mirror(root, Layout.LEGACY, 8, 3, **SMALL)
    return root


def _article_with_figures(root, layout):
    """(ref, outcome read from the directory) of the first article with kept figures."""
    source = open_source(layout, str(root))
    truth = json.loads((root / TRUTH_NAME).read_text())
    keys = {a["key"] for a in truth["articles"] if a.get("latest", True)}
    for ref in source.list_articles():
        result = extract_article(ref, source, OPTS)
        kept = [f for f in result.figures if f["status"] == "kept"]
        if ref.key in keys and len(kept) >= 2:
            return ref, outcome(result)
    raise AssertionError("the mirror has no article with two kept figures")


def test_a_package_corrupted_in_transit_once_is_extracted_whole(legacy_mirror):
    ref, expected = _article_with_figures(legacy_mirror, Layout.LEGACY)
    faults = Faults(rate=1.0, kinds=("corrupt",), attempts=1, only=re.escape(ref.location))
    with serve_http(legacy_mirror, faults) as url:
        result = extract_article(ref, open_source(Layout.LEGACY, url, **FAST), OPTS)
    assert faults.count("corrupt") == 1
    assert outcome(result) == expected


def test_a_package_corrupted_on_every_attempt_is_fetch_failed_and_redone(legacy_mirror):
    ref, expected = _article_with_figures(legacy_mirror, Layout.LEGACY)
    faults = Faults(rate=1.0, kinds=("corrupt",), attempts=1000, only=re.escape(ref.location))
    with serve_http(legacy_mirror, faults) as url:
        result = extract_article(ref, open_source(Layout.LEGACY, url, **FAST), OPTS)
    assert faults.count("corrupt") == 4  # the bounded attempts, each damaged differently
    article = result.article
    assert article["status"] == ArticleStatus.FETCH_FAILED and result.figures == []
    assert re.match(
        r"fetch: damaged_in_transit: (corrupt|truncated)_archive: ", full_reason(article)
    )
    # --retry-failed redoes it, and served intact it arrives whole.
    done = staging.DoneRecord(article["status"], ref.etag, ref.last_updated, 1)
    assert staging.needs_extract(ref, done, retry_failed=True)
    assert not staging.needs_extract(ref, done, retry_failed=False)
    with serve_http(legacy_mirror) as url:
        assert outcome(extract_article(ref, open_source(Layout.LEGACY, url, **FAST), OPTS)) == (
            expected
        )


def test_a_package_corrupted_at_the_source_is_unsafe(legacy_mirror, tmp_path):
    ref, _ = _article_with_figures(legacy_mirror, Layout.LEGACY)
    root = tmp_path / "mirror"
    shutil.copytree(legacy_mirror, root)
    package = bytearray((root / ref.location).read_bytes())
    package[-8] ^= 0xFF  # the gzip CRC: every read gets the same damaged bytes
    (root / ref.location).write_bytes(bytes(package))
    with serve_http(root) as url:
        result = extract_article(ref, open_source(Layout.LEGACY, url, **FAST), OPTS)
    assert result.article["status"] == ArticleStatus.UNSAFE
    assert full_reason(result.article).startswith("unsafe: corrupt_archive: ")
    assert ArticleStatus.UNSAFE not in ArticleStatus.RETRYABLE


CAPTION = "Panel {i} shows the measured response of every sample"


def _two_figure_package(root, article: LegacyArticle) -> tuple[bytes, int]:
    """A package of real images, the nxml first and F2's .jpg last; and an offset inside
    that .jpg where a cut leaves the XML and F1 whole."""
    pmcid = f"PMC{article.number}"
    hrefs = [f"{pmcid.lower()}-f1", f"{pmcid.lower()}-f2"]
    members = [(f"{pmcid}/article.nxml", jats(pmcid, hrefs, caption=CAPTION))]
    for i, href in enumerate(hrefs):
        members.append((f"{pmcid}/{href}.gif", picture(i, (96, 72), "GIF")))
        members.append((f"{pmcid}/{href}.jpg", picture(10 + i)))
    data = tar_gz(members)
    (root / article.location).parent.mkdir(parents=True, exist_ok=True)
    (root / article.location).write_bytes(data)
    write_file_lists(root, [article], bulk=False)
    return data, len(data) - 3000


def test_an_image_cut_off_in_transit_fails_the_article_not_the_figure(tmp_path):
    article = LegacyArticle(7)
    data, cut = _two_figure_package(tmp_path, article)
    source = open_source(Layout.LEGACY, str(tmp_path))
    (ref,) = source.list_articles()
    whole = extract_article(ref, source, OPTS)
    assert [(f["status"], f["image_name"]) for f in whole.figures] == [
        ("kept", "PMC7/pmc7-f1.jpg"),
        ("kept", "PMC7/pmc7-f2.jpg"),
    ]
    # Cut inside F2's .jpg at another place on every request, each reply whole by its own
    # Content-Length: the XML and F1 arrive, F2 never does.
    with serve_altered(tmp_path, "/" + ref.location, lambda n, body: body[: cut + 97 * n]) as url:
        result = extract_article(ref, open_source(Layout.LEGACY, url, **FAST), OPTS)
    assert result.article["status"] == ArticleStatus.FETCH_FAILED and result.figures == []
    assert full_reason(result.article).startswith("fetch: damaged_in_transit: truncated_archive: ")


def test_a_package_cut_at_the_source_keeps_what_precedes_the_cut(tmp_path):
    article = LegacyArticle(7)
    data, cut = _two_figure_package(tmp_path, article)
    (tmp_path / article.location).write_bytes(data[:cut])
    with serve_http(tmp_path) as url:
        source = open_source(Layout.LEGACY, url, **FAST)
        (ref,) = source.list_articles()
        result = extract_article(ref, source, OPTS)
    assert result.article["status"] == ArticleStatus.OK
    f1, f2 = result.figures
    assert (f1["status"], f1["image_name"]) == ("kept", "PMC7/pmc7-f1.jpg")
    # F2's thumbnail was read, but it is no stand-in for an image that may have been cut.
    assert f2["status"] == "image_failed" and f2["image_name"] is None
    assert full_reason(f2).startswith("unsafe_image: truncated_archive: ")
    assert "only PMC7/pmc7-f2.gif was read" in full_reason(f2)


@pytest.mark.parametrize("kind, reason", [("truncate", "truncated|connection"), ("corrupt", "md5")])
def test_a_cloud_image_damaged_on_every_attempt_fails_the_article(cloud_mirror, kind, reason):
    ref, expected = _article_with_figures(cloud_mirror, Layout.CLOUD)
    name = json.loads((cloud_mirror / "metadata" / f"{ref.pmcid}.{ref.version}.json").read_text())
    image = next(u for u in name["media_urls"] if ".jpg?" in u).split("?")[0].rsplit("/", 1)[1]
    faults = Faults(rate=1.0, kinds=(kind,), attempts=1000, only=re.escape(image))
    with serve_http(cloud_mirror, faults) as url:
        result = extract_article(ref, open_source(Layout.CLOUD, url, **FAST), OPTS)
        assert result.article["status"] == ArticleStatus.FETCH_FAILED and result.figures == []
        assert re.match(f"fetch: ({reason})", full_reason(result.article)), full_reason(
            result.article
        )
        faults.attempts = 0  # served intact from now on: a rerun gets the whole article
        assert outcome(extract_article(ref, open_source(Layout.CLOUD, url, **FAST), OPTS)) == (
            expected
        )


@pytest.mark.parametrize("attempts", [1, 1000])
def test_a_metadata_json_garbled_in_transit(cloud_mirror, attempts):
    ref, expected = _article_with_figures(cloud_mirror, Layout.CLOUD)
    faults = Faults(
        rate=1.0,
        kinds=("corrupt",),
        attempts=attempts,
        corruptible=r"\.json$",
        only=f"^/metadata/{ref.pmcid}\\.{ref.version}\\.json$",
    )
    with serve_http(cloud_mirror, faults) as url:
        result = extract_article(ref, open_source(Layout.CLOUD, url, **FAST), OPTS)
    if attempts == 1:
        assert outcome(result) == expected
    else:
        assert result.article["status"] == ArticleStatus.FETCH_FAILED
        assert full_reason(result.article).startswith("fetch: damaged_in_transit: metadata_json: ")


def test_a_metadata_json_bad_at_the_source_is_a_parse_failure(tmp_path):
    article = CloudArticle(12)
    write_cloud_article(tmp_path, article)
    write_cloud_article(tmp_path, CloudArticle(13))
    for path in (tmp_path / "metadata" / "PMC12.1.json", tmp_path / "PMC12.1" / "PMC12.1.json"):
        path.write_bytes(path.read_bytes()[:-5])  # the same bad bytes on every read
    with serve_http(tmp_path) as url:
        source = open_source(Layout.CLOUD, url, **FAST)
        ref = next(r for r in source.list_articles() if r.pmcid == "PMC12")
        result = extract_article(ref, source, OPTS)
    assert result.article["status"] == ArticleStatus.PARSE_FAILED
    assert full_reason(result.article).startswith("parse: metadata_json: metadata/PMC12.1.json: ")
