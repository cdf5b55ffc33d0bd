"""The synthetic mirror's two layouts are what they claim to be: every listing, metadata
file, package and image checked against the objects on disk and against the truth file."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import tarfile
from collections import Counter
from pathlib import Path

import imagehash
import numpy as np
import pytest
from helpers.mirrors import decodes
from helpers.sources_trees import BULK_LIST_HEADER, FILE_LIST_HEADER
from lxml import etree
from PIL import Image

from pmc_pipeline.licenses import normalize_license
from pmc_pipeline.mirror import TRUTH_NAME, write_mirror
from pmc_pipeline.mirror.images import preview

SMALL = {"pdf_scale": 0.01, "supplement_scale": 0.01, "workers": 2}
N_ARTICLES = 60
SEED = 3
METADATA_KEYS = [
    "pmcid",
    "version",
    "pmid",
    "doi",
    "mid",
    "title",
    "citation",
    "is_pmc_openaccess",
    "is_manuscript",
    "is_historical_ocr",
    "is_retracted",
    "license_code",
    "xml_url",
    "text_url",
    "pdf_url",
    "media_urls",
]
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cloud")
    write_mirror(root, "cloud", N_ARTICLES, SEED, inventory_rows_per_file=25, **SMALL)
    return root


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("legacy")
    write_mirror(root, "legacy", N_ARTICLES, SEED, **SMALL)
    return root


def load_truth(root: Path) -> dict:
    return json.loads((root / TRUTH_NAME).read_text(encoding="utf-8"))


def latest_figures(truth: dict):
    for article in truth["articles"]:
        if article["latest"]:
            for figure in article["figures"]:
                yield article, figure


# --- cloud ----------------------------------------------------------------------------------


def read_inventory(root: Path, stamp: str) -> list[list[str]]:
    base = root / "inventory-reports/pmc-oa-opendata/metadata"
    manifest_bytes = (base / stamp / "manifest.json").read_bytes()
    assert (base / stamp / "manifest.checksum").read_text().strip() == hashlib.md5(
        manifest_bytes
    ).hexdigest()
    manifest = json.loads(manifest_bytes)
    assert manifest["sourceBucket"] == "pmc-oa-opendata"
    assert manifest["fileFormat"] == "CSV"
    assert manifest["fileSchema"] == "Bucket, Key, LastModifiedDate, ETag"
    rows = []
    for entry in manifest["files"]:
        data = (root / entry["key"]).read_bytes()
        assert re.fullmatch(
            r"inventory-reports/pmc-oa-opendata/metadata/data/[0-9a-f-]{36}\.csv\.gz", entry["key"]
        )
        assert entry["size"] == len(data)
        assert entry["MD5checksum"] == hashlib.md5(data).hexdigest()
        rows.extend(csv.reader(io.StringIO(gzip.decompress(data).decode("utf-8"))))
    return rows


def test_cloud_inventories_list_every_metadata_object_as_of_their_day(cloud):
    truth = load_truth(cloud)
    stamps = sorted(
        p.name
        for p in (cloud / "inventory-reports/pmc-oa-opendata/metadata").iterdir()
        if p.name != "data"
    )
    assert stamps == ["2026-11-15T01-00Z", "2026-11-16T01-00Z"]
    newest = read_inventory(cloud, stamps[-1])
    assert all(len(row) == 4 and row[0] == "pmc-oa-opendata" for row in newest)
    keys = [row[1] for row in newest]
    assert keys == sorted(keys)
    assert set(keys) == {f"metadata/{p.name}" for p in (cloud / "metadata").iterdir()}
    updated = {
        f"metadata/{a['pmcid']}.{a['content_version']}.json": a["updated"]
        for a in truth["articles"]
    }
    for _, key, modified, etag in newest:
        assert etag == hashlib.md5((cloud / key).read_bytes()).hexdigest()
        assert modified == updated[key].replace("Z", ".000Z")
    # The day before lists only what existed at 01:00 that day.
    older = {row[1] for row in read_inventory(cloud, stamps[0])}
    assert older == {k for k, v in updated.items() if v <= "2026-11-15T01:00:00Z"}
    assert older <= set(keys)


def test_cloud_metadata_names_every_object_with_its_md5(cloud):
    truth = {a["key"]: a for a in load_truth(cloud)["articles"]}
    folders = sorted(p for p in cloud.iterdir() if p.name.startswith("PMC"))
    assert len(folders) == len(truth)
    for folder in folders:
        stem = folder.name
        meta_bytes = (folder / f"{stem}.json").read_bytes()
        assert (cloud / "metadata" / f"{stem}.json").read_bytes() == meta_bytes
        meta = json.loads(meta_bytes)
        assert list(meta) == METADATA_KEYS
        pmcid, version = stem.split(".")
        assert (meta["pmcid"], meta["version"]) == (pmcid, int(version))
        entry = truth[f"{pmcid}v{version}"]
        assert entry["location"] == f"{stem}/"
        assert meta["license_code"] == entry["license"]
        assert meta["is_retracted"] == entry["retracted"]
        assert meta["is_pmc_openaccess"] == entry["open_access"]
        named = set()
        for url in [meta["xml_url"], meta["text_url"], meta["pdf_url"], *meta["media_urls"]]:
            if url is None:
                continue
            m = re.fullmatch(r"s3://pmc-oa-opendata/([^?]+)\?md5=([0-9a-f]{32})", url)
            assert m, url
            assert hashlib.md5((cloud / m.group(1)).read_bytes()).hexdigest() == m.group(2)
            named.add(m.group(1))
        on_disk = {f"{stem}/{p.name}" for p in folder.iterdir()} - {f"{stem}/{stem}.json"}
        assert named == on_disk
        assert (meta["pdf_url"] is None) == (not entry["pdf"])


def test_cloud_xml_wraps_image_and_thumbnail_in_alternatives(cloud):
    truth = load_truth(cloud)
    for article in truth["articles"]:
        folder = cloud / article["location"]
        xml = (folder / f"{article['pmcid']}.{article['content_version']}.xml").read_bytes()
        assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?><article')
        root = etree.fromstring(xml, SAFE_PARSER)
        ids = root.findall(".//article-id[@pub-id-type='pmcid']")
        assert [e.text for e in ids] == [article["pmcid"]]
        for graphic in root.iter("graphic"):
            href = graphic.get(XLINK_HREF)
            assert re.search(r"\.(jpg|png|gif|tif)$", href), href
            if graphic.getparent().tag == "alternatives":
                assert graphic.get("content-type") in ("image", "thumb")
                if graphic.get("content-type") == "thumb":
                    assert href.endswith(".gif") and (folder / href).is_file()
        text = (folder / f"{article['pmcid']}.{article['content_version']}.txt").read_text("utf-8")
        assert article["title"] in text


def test_cloud_holds_several_versions_of_some_articles(cloud):
    by_pmcid: dict[str, list[dict]] = {}
    for article in load_truth(cloud)["articles"]:
        by_pmcid.setdefault(article["pmcid"], []).append(article)
    multi = {
        p: sorted(v, key=lambda a: a["content_version"]) for p, v in by_pmcid.items() if len(v) > 1
    }
    assert multi, "expected at least one article with two versions"
    for versions in multi.values():
        assert [a["latest"] for a in versions] == [False] * (len(versions) - 1) + [True]
        assert [a["updated"] for a in versions] == sorted(a["updated"] for a in versions)
        counts = [len(a["figures"]) for a in versions]
        assert counts == sorted(counts)  # older versions lack the figures added later
        assert all(a["expected_status"] is None for a in versions[:-1])


# --- legacy ---------------------------------------------------------------------------------


def test_legacy_file_lists_name_every_package(legacy):
    truth = load_truth(legacy)
    articles = {a["pmcid"]: a for a in truth["articles"]}
    with (legacy / "oa_file_list.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == FILE_LIST_HEADER
    assert len(rows) - 1 == len(articles) == N_ARTICLES - len(truth["omitted"])
    for location, citation, pmcid, updated, pmid, license_code in rows[1:]:
        article = articles[pmcid]
        assert re.fullmatch(rf"oa_package/[0-9a-f]{{2}}/[0-9a-f]{{2}}/{pmcid}\.tar\.gz", location)
        assert (legacy / location).is_file() and article["location"] == location
        assert updated == article["updated"].replace("T", " ").rstrip("Z")
        assert pmid == ("" if article["pmid"] is None else str(article["pmid"]))
        assert license_code == article["license"] and citation
    lines = (legacy / "oa_file_list.txt").read_text("utf-8").splitlines()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", lines[0])
    for line, row in zip(lines[1:], rows[1:], strict=True):
        cells = line.split("\t")
        assert cells[:3] == row[:3] and cells[4] == row[5]
        assert cells[3] == (f"PMID:{row[4]}" if row[4] else "")
    assert all(o["reason"] == "not_open_access" for o in truth["omitted"])
    assert not any(not a["open_access"] for a in articles.values())


def test_legacy_bulk_lists_carry_retracted_and_match_their_tarballs(legacy):
    articles = {a["pmcid"]: a for a in load_truth(legacy)["articles"]}
    seen = set()
    for filelist in sorted(legacy.glob("oa_bulk/*/xml/*.filelist.csv")):
        group = filelist.parts[-3]
        assert re.fullmatch(
            rf"{group}_xml\.PMC0\d\dxxxxxx\.baseline\.2026-11-16\.filelist\.csv", filelist.name
        )
        with filelist.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == BULK_LIST_HEADER
        tar_path = Path(str(filelist).replace(".filelist.csv", ".tar.gz"))
        with tarfile.open(tar_path) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        for member, _, pmcid, _, _, license_code, retracted in rows[1:]:
            article = articles[pmcid]
            assert retracted == ("yes" if article["retracted"] else "no")
            assert license_code == article["license"]
            with tarfile.open(legacy / article["location"]) as package:
                nxml = next(m for m in package.getmembers() if m.name.endswith(".nxml"))
                assert members[member] == package.extractfile(nxml).read()
            seen.add(pmcid)
    assert seen == set(articles)
    assert {p.parts[-3] for p in legacy.glob("oa_bulk/*/xml/*.tar.gz")} == {
        "oa_comm",
        "oa_noncomm",
        "oa_other",
    }


def test_legacy_packages_are_plain_sorted_tarballs(legacy):
    for article in load_truth(legacy)["articles"]:
        with tarfile.open(legacy / article["location"]) as tar:
            members = tar.getmembers()
        names = [m.name for m in members]
        assert names[0] == article["pmcid"] and members[0].isdir()
        assert names[1:] == sorted(names[1:])
        assert all(m.isfile() and m.name.startswith(article["pmcid"] + "/") for m in members[1:])
        assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in members)
        files = {n.split("/", 1)[1] for n in names[1:]}
        assert sum(n.endswith(".nxml") for n in files) == 1
        assert any(n.endswith(".pdf") for n in files) == article["pdf"]
        assert set(article["supplements"]) <= files


def test_legacy_nxml_hrefs_have_no_extension(legacy):
    for article in load_truth(legacy)["articles"]:
        with tarfile.open(legacy / article["location"]) as tar:
            nxml = next(m for m in tar.getmembers() if m.name.endswith(".nxml"))
            data = tar.extractfile(nxml).read()
            files = {m.name.split("/", 1)[1] for m in tar.getmembers()[1:]}
        assert data.startswith(b"<!DOCTYPE article PUBLIC")
        data.decode("ascii")  # non-ASCII only as numeric character references
        root = etree.fromstring(data, SAFE_PARSER)
        assert [e.text for e in root.findall(".//article-id[@pub-id-type='pmc']")] == [
            article["pmcid"][3:]
        ]
        for figure in article["figures"]:
            (graphic,) = figure["graphics"]
            assert "." + figure["image_file"].rsplit(".", 1)[1] not in graphic["href"][-5:]
            assert figure["image_file"].startswith(graphic["href"] + ".")
            assert (figure["image_file"] in files) != figure["missing"]


# --- both -----------------------------------------------------------------------------------


def article_files(root: Path, article: dict) -> dict[str, bytes]:
    if article["location"].endswith(".tar.gz"):
        with tarfile.open(root / article["location"]) as tar:
            return {
                m.name.split("/", 1)[1]: tar.extractfile(m).read()
                for m in tar.getmembers()
                if m.isfile()
            }
    folder = root / article["location"]
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("layout", ["cloud", "legacy"])
def test_images_decode_unless_the_truth_says_corrupt(layout, cloud, legacy):
    root = cloud if layout == "cloud" else legacy
    truth = load_truth(root)
    checked = Counter()
    for article in truth["articles"]:
        files = article_files(root, article)
        for figure in article["figures"]:
            data = files.get(figure["image_file"])
            assert (data is None) == figure["missing"], figure["key"]
            if figure["thumbnail_file"]:
                with Image.open(io.BytesIO(files[figure["thumbnail_file"]])) as thumb:
                    assert thumb.format == "GIF" and min(thumb.size) <= 100
            if data is None:
                continue
            assert decodes(data) == (figure["corrupt"] is None), figure["key"]
            if figure["corrupt"] is None:
                with Image.open(io.BytesIO(data)) as image:
                    assert (image.format, image.mode) == (figure["format"], figure["mode"])
                    assert image.size == (figure["width"], figure["height"])
                    checked[(image.format, image.mode)] += 1
                    suffix = figure["image_file"].rsplit(".", 1)[1]
                    expected = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "TIFF": "tif"}[
                        image.format
                    ]
                    assert (suffix == expected) != figure["misnamed"]
            else:
                checked["corrupt"] += 1
    assert checked["corrupt"] > 0 and len(checked) >= 6, checked


@pytest.mark.parametrize("layout", ["cloud", "legacy"])
def test_duplicates_are_what_the_truth_says(layout, cloud, legacy):
    root = cloud if layout == "cloud" else legacy
    truth = load_truth(root)
    by_key = {f["key"]: (a, f) for a, f in latest_figures(truth)}
    kinds = Counter()
    for source_key, members in truth["dup_groups"].items():
        source_article, source = by_key[source_key]
        source_bytes = article_files(root, source_article)[source["image_file"]]
        for member_key in members:
            article, figure = by_key[member_key]
            assert figure["duplicate_of"] == source_key and figure["dup_group"] == source_key
            assert figure["expected_keep"] is None or article["expected_status"] != "ok"
            data = article_files(root, article)[figure["image_file"]]
            kind = figure["duplicate_kind"]
            kinds[kind] += 1
            if kind == "same_bytes":
                assert data == source_bytes
            elif kind == "same_pixels":
                assert data != source_bytes
                with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(source_bytes)) as b:
                    assert a.mode == b.mode
                    assert np.array_equal(
                        np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
                    )
            else:
                with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(source_bytes)) as b:
                    distance = imagehash.phash(preview(a)) - imagehash.phash(preview(b))
                assert distance == figure["phash_distance"] <= 2
    assert kinds["same_bytes"] and kinds["same_pixels"] and sum(kinds.values()) > len(kinds)


def test_truth_statuses_follow_the_default_rules(cloud):
    truth = load_truth(cloud)
    statuses = Counter()
    for article in truth["articles"]:
        if not article["latest"]:
            assert article["expected_status"] is None
        elif article["retracted"]:
            assert (article["expected_status"], article["expected_reason"]) == (
                "excluded",
                "retracted",
            )
        elif not article["open_access"]:
            assert (article["expected_status"], article["expected_reason"]) == (
                "excluded",
                "not_open_access",
            )
        for figure in article["figures"]:
            statuses[(figure["expected_status"], figure["expected_reason"])] += 1
            if figure["kind"] == "table" and article["expected_status"] == "ok":
                assert figure["expected_status"] == "filtered"
            if figure["expected_status"] == "kept":
                assert (
                    figure["size_class"] == "normal"
                    and not figure["corrupt"]
                    and not figure["missing"]
                )
                assert len(figure["caption"].split()) >= 3 and not figure["similar_to"]
    assert statuses[("kept", None)] > 0.5 * sum(statuses.values())
    assert {("filtered", "table_excluded"), ("filtered", "caption_too_short")} <= set(statuses)


def test_licences_in_the_xml_read_as_the_listed_code(cloud):
    for article in load_truth(cloud)["articles"]:
        xml = (
            cloud / article["location"] / f"{article['pmcid']}.{article['content_version']}.xml"
        ).read_bytes()
        license_el = etree.fromstring(xml, SAFE_PARSER).find(".//permissions/license")
        statements = [license_el.get(XLINK_HREF), "".join(license_el.itertext())]
        codes = {normalize_license(s) for s in statements if s} - {None}
        if article["license"] == "NO-CC CODE":
            assert not codes
        else:
            assert codes == {article["license"]}, (article["key"], statements)


def test_captions_name_what_the_picture_shows(cloud):
    from pmc_pipeline.mirror.vocab import KIND_PHRASES

    for _, figure in latest_figures(load_truth(cloud)):
        if figure["caption"] is None or figure["kind"] == "table":
            continue
        visual = figure["visual"]
        caption = figure["caption"].lower()
        assert any(p.lower() in caption for p in KIND_PHRASES[visual["kind"]]), figure["key"]
        if visual["kind"] in (
            "bar_chart",
            "line_plot",
            "scatter_plot",
            "fluorescence_micrograph",
            "schematic",
        ):
            assert visual["color"] in caption
        if visual["kind"] == "scatter_plot":
            assert visual["shape"] in caption


def test_markup_varies_as_real_articles_do(cloud):
    xml = b"".join(p.read_bytes() for p in cloud.glob("PMC*/*.xml"))
    for feature in (
        b"<fig-group",
        b"<floats-group",
        b"<boxed-text",
        b"<app ",
        b"<table-wrap",
        b"<mml:math",
        b"ali:license_ref",
    ):
        assert feature in xml, feature
    assert re.search(rb'<xref ref-type="fig" rid="[^" ]+ [^" ]+"', xml)
    figures = [f for _, f in latest_figures(load_truth(cloud))]
    assert any(f["label"] is None for f in figures) and any(f["caption"] is None for f in figures)
    assert {f["size_class"] for f in figures} == {"normal", "tiny", "extreme"}
    assert any(f["missing"] for f in figures)


@pytest.mark.parametrize("layout", ["cloud", "legacy"])
def test_truth_agrees_with_the_project_jats_parser(layout, cloud, legacy):
    """The truth's figure facts are what pmc_pipeline.jats reads from the XML: so tests
    elsewhere can compare a build's records with the truth key by key."""
    from pmc_pipeline.jats import parse_article

    root = cloud if layout == "cloud" else legacy
    for article in load_truth(root)["articles"]:
        files = article_files(root, article)
        xml = next(data for name, data in files.items() if name.endswith((".xml", ".nxml")))
        parsed = parse_article(xml)
        assert (parsed.pmcid, parsed.article_type) == (article["pmcid"], article["article_type"])
        got = [
            (
                f.index,
                f.id,
                f.kind,
                f.placement,
                f.parent_group,
                f.label,
                f.caption or None,
                len(f.mentions),
            )
            for f in parsed.figures
        ]
        expected = [
            (
                f["index"],
                f["id"],
                f["kind"],
                f["placement"],
                f["parent_group"],
                f["label"],
                f["caption"],
                f["mentions"],
            )
            for f in article["figures"]
        ]
        assert got == expected, article["key"]
        for figure, truth in zip(parsed.figures, article["figures"], strict=True):
            assert [(g.href, g.role) for g in figure.graphics] == [
                (g["href"], g["role"]) for g in truth["graphics"]
            ]
