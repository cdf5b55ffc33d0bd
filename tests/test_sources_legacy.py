"""The legacy layout: the three kinds of file list, merging them, selection inputs, and
packages streamed from a directory or over HTTP (with faults)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import pickle

import pytest
from helpers.servers import Faults, serve_http
from helpers.sources_trees import (
    LegacyArticle,
    citation,
    tar_gz,
    write_bulk_list,
    write_file_lists,
    write_legacy_article,
    write_legacy_tree,
)

from pmc_pipeline.model import (
    ArticleRef,
    Layout,
    LayoutError,
    MissingFile,
    ParseError,
    UnsafeInput,
)
from pmc_pipeline.sources import open_source
from pmc_pipeline.sources.filelists import parse_csv_list, parse_txt_list

ARTICLES = [
    LegacyArticle(13900, last_updated="2019-11-05 11:56:12"),
    LegacyArticle(176545, figures=3, license="CC BY-NC", last_updated="2026-11-02 08:00:00"),
    LegacyArticle(5, retracted=True, license="NO-CC CODE", last_updated="2026-11-01 00:00:01"),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return write_legacy_tree(tmp_path_factory.mktemp("legacy"), ARTICLES)


def test_csv_file_list():
    text = (
        "File,Article Citation,Accession ID,Last Updated (YYYY-MM-DD HH:MM:SS),PMID,License\n"
        'oa_package/08/e0/PMC13900.tar.gz,"Breast Cancer Res. 2001 Nov 2; 3(1):55-60",'
        "PMC13900,2019-11-05 11:56:12,11250746,NO-CC CODE\n"
        "oa_package/00/01/PMC1.tar.gz,Cit,PMC1,2020-01-01 00:00:00,,CC BY\n"
    )
    refs = list(parse_csv_list(io.StringIO(text)))
    assert refs[0] == ArticleRef(
        pmcid="PMC13900",
        version=None,
        layout=Layout.LEGACY,
        location="oa_package/08/e0/PMC13900.tar.gz",
        last_updated="2019-11-05T11:56:12",
        pmid="11250746",
        citation="Breast Cancer Res. 2001 Nov 2; 3(1):55-60",
        license="NO-CC CODE",
        retracted=None,
    )
    assert refs[1].pmid is None and len(refs) == 2


HEADER = "File,Article Citation,Accession ID,Last Updated (YYYY-MM-DD HH:MM:SS),PMID,License\n"
ROW = "oa_package/00/01/PMC1.tar.gz,Cit,PMC1,2020-01-01 00:00:00,,CC BY\n"


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "empty"),
        ("a,b\n" + ROW, "no Accession ID column"),
        (
            HEADER + ROW + "oa_package/00/02/x.tar.gz,Cit,not-a-pmcid,,,CC BY\n",
            "line 3: not a PMCID",
        ),
        (
            HEADER + ROW + "oa_package/00/02/PMC2.tar.gz,Cit,PMC2\n",
            "line 3: 3 fields, the header has 6",
        ),
        (HEADER + ROW + "oa_package/00/02/PMC2.tar.gz,Cit,PMC2,,,CC B", "no line break"),
    ],
)
def test_a_damaged_csv_list_is_an_error_not_fewer_rows(text, error):
    """A row skipped would be an article, or its Retracted flag, silently lost."""
    with pytest.raises(ParseError, match=f"^oa_file_list.csv.*{error}"):
        list(parse_csv_list(io.StringIO(text), name="oa_file_list.csv"))


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "empty"),
        ("2024-06-18 11:05:44\nnot a row\n", "line 2: 1 tab-separated fields"),
        ("2024-06-18 11:05:44\na.tar.gz\tCit\tPMCx\tPMID:1\tCC BY\n", "line 2: not a PMCID"),
        ("2024-06-18 11:05:44\na.tar.gz\tCit\tPMC1\tPMID:1\tCC", "no line break"),
    ],
)
def test_a_damaged_txt_list_is_an_error_not_fewer_rows(text, error):
    with pytest.raises(ParseError, match=f"^oa_file_list.txt.*{error}"):
        list(parse_txt_list(io.StringIO(text), name="oa_file_list.txt"))


def test_txt_file_list():
    text = (
        "2024-06-18 11:05:44\n"
        "oa_package/08/e0/PMC13900.tar.gz\tBreast Cancer Res. 2001 Nov 2; 3(1):55-60\t"
        "PMC13900\tPMID:11250746\tNO-CC CODE\n"
        "oa_package/00/01/PMC1.tar.gz\tCit\tPMC1\tPMID:\tCC BY\n"
    )
    refs = list(parse_txt_list(io.StringIO(text)))
    assert [(r.pmcid, r.pmid, r.license, r.last_updated) for r in refs] == [
        ("PMC13900", "11250746", "NO-CC CODE", None),
        ("PMC1", None, "CC BY", None),
    ]
    assert refs[0].location == "oa_package/08/e0/PMC13900.tar.gz"


def test_bulk_filelist_has_retracted():
    text = (
        "Article File,Article Citation,AccessionID,LastUpdated (YYYY-MM-DD HH:MM:SS),PMID,"
        "License,Retracted\n"
        "PMC000xxxxxx/PMC176545.xml,PLoS Biol. 2003 Oct 13; 1(1):e5,PMC176545,"
        "2022-03-25 15:16:28,14551903,CC BY,yes\n"
    )
    (ref,) = parse_csv_list(io.StringIO(text))
    assert ref.retracted is True and ref.pmcid == "PMC176545"


def test_listing_merges_the_lists_in_pmcid_order(tree):
    refs = list(open_source(Layout.LEGACY, str(tree)).list_articles())
    assert [r.pmcid for r in refs] == ["PMC5", "PMC13900", "PMC176545"]
    first = refs[0]
    assert first.location == ARTICLES[2].location and first.retracted is True
    assert first.citation == citation(ARTICLES[2]) and first.license == "NO-CC CODE"
    assert first.last_updated == "2026-11-01T00:00:01" and first.pmid == "20005"
    assert refs[1].retracted is False


def test_txt_list_alone_and_bulk_dates(tree, tmp_path):
    source = open_source(Layout.LEGACY, str(tree), file_list="oa_file_list.txt", bulk_lists=[])
    refs = list(source.list_articles())
    assert [r.last_updated for r in refs] == [None, None, None]
    assert [r.retracted for r in refs] == [None, None, None]
    # With the bulk list, the .txt rows gain dates and Retracted.
    source = open_source(Layout.LEGACY, str(tree), file_list="oa_file_list.txt")
    refs = list(source.list_articles())
    assert refs[0].last_updated == "2026-11-01T00:00:01" and refs[0].retracted is True


def test_since_and_pmcids(tree):
    source = open_source(Layout.LEGACY, str(tree))
    assert [r.pmcid for r in source.list_articles(since=dt.date(2026, 11, 1))] == [
        "PMC5",
        "PMC176545",
    ]
    refs = list(source.list_articles(pmcids=["PMC13900", "176545.1", "PMC42"]))
    assert [r.pmcid for r in refs] == ["PMC42", "PMC13900", "PMC176545"]
    with pytest.raises(MissingFile, match="no package listed for PMC42"):
        source.open_article(refs[0])


def test_an_article_in_a_bulk_list_only_has_no_package(tmp_path):
    write_file_lists(tmp_path, ARTICLES)
    write_bulk_list(tmp_path / "oa_bulk/oa_other/xml/other.filelist.csv", [LegacyArticle(777)])
    source = open_source(Layout.LEGACY, str(tmp_path))
    refs = list(source.list_articles())
    assert [r.pmcid for r in refs] == ["PMC5", "PMC777", "PMC13900", "PMC176545"]
    assert refs[1].location == "" and refs[1].retracted is False
    with pytest.raises(MissingFile, match="no package listed for PMC777"):
        source.open_article(refs[1])


def test_no_file_list_is_a_clear_error(tmp_path):
    with pytest.raises(LayoutError, match="not a legacy PMC root: .*no oa_file_list.csv or"):
        list(open_source(Layout.LEGACY, str(tmp_path)).list_articles())
    source = open_source(Layout.LEGACY, str(tmp_path), file_list="lists/mine.csv")
    with pytest.raises(LayoutError, match="it has no lists/mine.csv"):
        source.check_root()


def test_an_article_reads_its_package_once(tree):
    source = open_source(Layout.LEGACY, str(tree))
    ref = next(r for r in source.list_articles() if r.pmcid == "PMC176545")
    files = source.open_article(ref)
    assert files.metadata is None and files.bytes_read == 0  # nothing read before use
    assert b"<fig" in files.xml()
    package_size = (tree / ref.location).stat().st_size
    assert files.bytes_read == package_size
    for href, data in ARTICLES[1].images.items():
        assert files.image(href) == (f"PMC176545/{href}.jpg", data)
    assert files.bytes_read == package_size
    with pytest.raises(MissingFile, match="no member of .* for href 'pmc176545-f9'"):
        files.image("pmc176545-f9")


def test_a_refused_member_is_reported_for_its_figure(tmp_path):
    article = LegacyArticle(6)
    write_legacy_article(tmp_path, article)
    write_file_lists(tmp_path, [article], bulk=False)
    source = open_source(Layout.LEGACY, str(tmp_path), limits={"image": 100})
    files = source.open_article(next(iter(source.list_articles())))
    with pytest.raises(UnsafeInput, match="^member_too_large"):
        files.image("pmc6-f1")


def test_an_unsafe_package_is_refused(tmp_path):
    article = LegacyArticle(4)
    (tmp_path / article.location).parent.mkdir(parents=True)
    (tmp_path / article.location).write_bytes(tar_gz([("../../etc/evil.nxml", b"<a/>")]))
    write_file_lists(tmp_path, [article], bulk=False)
    source = open_source(Layout.LEGACY, str(tmp_path))
    files = source.open_article(next(iter(source.list_articles())))
    with pytest.raises(UnsafeInput, match="^path_traversal"):
        files.xml()


def test_over_http_with_faults_every_article_arrives(tree):
    faults = Faults(rate=0.5, seed=1, slow_seconds=1.0, retry_after=1)
    with serve_http(tree, faults) as url:
        source = open_source(
            Layout.LEGACY, url, timeout=(5, 0.5), backoff=0.05, retry_after_max=0.2
        )
        refs = list(source.list_articles())
        assert [r.pmcid for r in refs] == ["PMC5", "PMC13900", "PMC176545"]
        by_pmcid = {f"PMC{a.number}": a for a in ARTICLES}
        for ref in refs:
            files = source.open_article(ref)
            for href, data in by_pmcid[ref.pmcid].images.items():
                assert files.image(href)[1] == data
            assert dataclasses.replace(ref) == ref
    assert faults.count() > 0


def test_sources_pickle(tree):
    source = open_source(Layout.LEGACY, str(tree), bulk_lists=[])
    clone = pickle.loads(pickle.dumps(source))
    assert list(clone.list_articles()) == list(source.list_articles())
