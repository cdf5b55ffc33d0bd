"""The data card (pmc_pipeline/report): its numbers against stats.json and the Parquet tables,
its gallery and duplicate clusters against the build, escaping of untrusted text, the
command, and the pieces (sampling, thumbnails, charts) on their own.

One small real build (synthetic mirror -> Beam DirectRunner) is made once per session and
shared with tests/test_report_browser.py; tests that change a build work on a copy.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.report_build import HOSTILE, PER_SPLIT, built_output, hostile_copy
from lxml import html as lxml_html
from PIL import Image

from pmc_pipeline import cli
from pmc_pipeline.manifest import count_statuses
from pmc_pipeline.model import ArticleStatus, FigureStatus
from pmc_pipeline.report import ReportError, write_card
from pmc_pipeline.report.charts import UNTYPED, all_charts, figure_types
from pmc_pipeline.report.clusters import phash_distance
from pmc_pipeline.report.gallery import sample_keys
from pmc_pipeline.report.plots import render_png
from pmc_pipeline.report.thumbs import THUMB_SIDE, ThumbnailError, thumbnail
from pmc_pipeline.staging import stable_hash

pytestmark = pytest.mark.slow

DUPLICATES = (FigureStatus.DUPLICATE, FigureStatus.NEAR_DUPLICATE)


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Path:
    return built_output(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def card(build, tmp_path_factory) -> Path:
    """The card of the shared build, in a folder of its own (the build stays untouched)."""
    return write_card(build, tmp_path_factory.mktemp("card") / "card", per_split=PER_SPLIT)


def parse(index: Path):
    return lxml_html.fromstring(index.read_bytes())


def number(text: str) -> float:
    return float(text.strip().replace(",", ""))


def table(out: Path, name: str, columns=None) -> pa.Table:
    return pq.read_table(out / "parquet" / name, columns=columns)


def stats_of(out: Path) -> dict:
    return json.loads((out / "stats.json").read_text())


# --- numbers ------------------------------------------------------------------------------


def funnel_counts(doc) -> dict[tuple, int]:
    """{(stage, status, reason): count} of the funnel rows (None for absent parts)."""
    counts = {}
    for row in doc.xpath('//table[@class="funnel"]/tbody/tr'):
        key = (row.get("data-stage"), row.get("data-status"), row.get("data-reason"))
        if row.get("data-split"):
            key = ("pairs", "split", row.get("data-split"))
        assert key not in counts, key
        counts[key] = int(number(row.xpath('td[@class="n"]')[0].text_content()))
    return counts


def test_funnel_equals_stats_json_and_the_parquet_tables(build, card):
    stats, counts = stats_of(build), funnel_counts(parse(card))
    expected = {
        ("articles", None, None): stats["articles"]["listed"],
        ("figures", None, None): stats["figures"]["seen"],
        ("pairs", None, None): stats["pairs"],
    }
    for stage, known in (("articles", tuple(ArticleStatus)), ("figures", tuple(FigureStatus))):
        block = stats[stage]
        for status in known:  # every status has a row, zeros too
            expected[(stage, status, None)] = block["by_status"].get(status, 0)
        for status, reasons in block["by_reason"].items():
            for reason, n in reasons.items():
                expected[(stage, status, reason)] = n
    for split, n in stats["pairs_per_split"].items():
        expected[("pairs", "split", split)] = n
    assert counts == expected

    # ... and stats.json itself agrees with the tables the card's charts are drawn from.
    articles = count_statuses(table(build, "articles", ["status", "reason"]).to_pylist())
    figures = count_statuses(table(build, "figures", ["status", "reason"]).to_pylist())
    for stage, block in (("articles", articles), ("figures", figures)):
        for status, n in block["by_status"].items():
            assert counts[(stage, status, None)] == n
        for status, reasons in block["by_reason"].items():
            for reason, n in reasons.items():
                assert counts[(stage, status, reason)] == n
    splits = Counter(table(build, "pairs", ["split"]).column("split").to_pylist())
    assert {k[2]: n for k, n in counts.items() if k[1] == "split"} == splits


def test_overview_tiles_equal_stats_json(build, card):
    stats = stats_of(build)
    tiles = {
        div.get("data-stat"): int(number(div.xpath('span[@class="n"]')[0].text_content()))
        for div in parse(card).xpath('//div[@class="stat"]')
    }
    expected = {
        "articles.listed": stats["articles"]["listed"],
        "figures.seen": stats["figures"]["seen"],
        "pairs": stats["pairs"],
        "shards": sum(len(v) for v in stats["shards"].values()),
        **{f"pairs_per_split.{s}": n for s, n in stats["pairs_per_split"].items()},
    }
    assert tiles == expected
    assert "accounting identity holds" in parse(card).xpath("//header")[0].text_content()


def chart_table(doc, name: str) -> list[list[str]]:
    [node] = doc.xpath(f'//table[@data-chart="{name}"]')
    return [[td.text_content() for td in tr.xpath("td")] for tr in node.xpath("tbody/tr")]


def counts_of(rows: list[list[str]]) -> dict[str, int]:
    return {row[0]: int(number(row[1])) for row in rows}


def test_chart_numbers_equal_the_parquet_tables(build, card):
    doc = parse(card)
    pairs = table(build, "pairs").to_pylist()
    figures = table(build, "figures", ["placement", "status"]).to_pylist()

    def tally(field):
        return Counter("unknown" if p[field] is None else str(p[field]) for p in pairs)

    assert counts_of(chart_table(doc, "pairs_per_split")) == tally("split")
    assert counts_of(chart_table(doc, "license")) == tally("license")
    assert counts_of(chart_table(doc, "year")) == tally("year")
    # Journals: the top 15 by count, the rest summed on one row.
    journals = counts_of(chart_table(doc, "journal"))
    named = tally("journal")
    assert sum(journals.values()) == len(pairs)
    assert all(named[j] == n for j, n in journals.items() if not j.endswith("other journals"))

    mentions = counts_of(chart_table(doc, "mentions"))
    expected = Counter(str(min(len(p["mentions"]), 10)).replace("10", "10+") for p in pairs)
    assert {k: n for k, n in mentions.items() if n} == expected

    placement = {row[0]: [int(number(v)) for v in row[1:]] for row in chart_table(doc, "placement")}
    seen = Counter(f["placement"] for f in figures)
    kept = Counter(f["placement"] for f in figures if f["status"] == FigureStatus.KEPT)
    assert placement == {p: [kept[p], seen[p] - kept[p], seen[p]] for p in seen}

    def summary(values):
        values = np.asarray(values, dtype=float)
        return [
            len(values),
            values.min(),
            np.median(values),
            values.mean(),
            np.percentile(values, 95),
            values.max(),
        ]

    def check(chart, name, values):
        rows = {row[0]: [number(v) for v in row[1:]] for row in chart_table(doc, chart)}
        assert rows[name] == pytest.approx(summary(values), abs=0.006)

    check("caption_tokens", "captions", [p["caption_tokens"] for p in pairs])
    check("image_size", "width", [p["width"] for p in pairs])
    check("image_size", "height", [p["height"] for p in pairs])
    check("aspect_ratio", "pairs", [p["width"] / p["height"] for p in pairs])


# --- images, links, gallery, clusters ---------------------------------------------------------


def test_every_image_is_a_local_file_and_nothing_is_loaded_from_elsewhere(card):
    doc = parse(card)
    assert not doc.xpath("//script | //link | //iframe | //object | //embed | //*[@srcset]")
    sources = doc.xpath("//img/@src")
    assert len(sources) > 9
    for src in sources:
        assert not re.match(r"^[a-z]+:|^/", src), src  # relative, no scheme
        with Image.open(card.parent / src) as im:
            im.load()
            if src.startswith("img/"):
                assert im.format == "JPEG" and max(im.size) <= THUMB_SIDE
            else:
                assert src.startswith("plots/") and im.format == "PNG"
    for href in doc.xpath("//a/@href"):
        assert href.startswith("#") or re.match(
            r"^https://pmc\.ncbi\.nlm\.nih\.gov/articles/PMC\d+/$", href
        ), href
    # Every chart of the card has its picture and its numbers.
    assert len(doc.xpath('//figure[@class="chart"]/img')) == len(doc.xpath("//table[@data-chart]"))


def test_gallery_shows_random_pairs_of_each_split_as_published(build, card):
    doc = parse(card)
    pairs = {p["key"]: p for p in table(build, "pairs").to_pylist()}
    per_split = stats_of(build)["pairs_per_split"]
    for split, total in per_split.items():
        cards = doc.xpath(f'//div[@data-split="{split}"]//article')
        assert len(cards) == min(PER_SPLIT, total)
        keys = [c.get("data-key") for c in cards]
        in_split = [k for k, p in pairs.items() if p["split"] == split]
        # The sample is the keys with the smallest hashes, in that order.
        assert keys == sorted(in_split, key=lambda k: stable_hash(f"0:{k}"))[:PER_SPLIT]
        for node, key in zip(cards, keys, strict=True):
            pair = pairs[key]
            assert node.get("data-split") == split
            assert node.xpath('.//p[@class="caption"]')[0].text_content() == pair["caption"]
            [link] = node.xpath(".//a/@href")
            assert link == f"https://pmc.ncbi.nlm.nih.gov/articles/{pair['pmcid']}/"
            [img] = node.xpath(".//img/@src")
            with Image.open(card.parent / img) as thumb:  # the published JPEG, scaled down
                scale = THUMB_SIDE / max(pair["width"], pair["height"])
                expected = (
                    round(pair["width"] * min(1, scale)),
                    round(pair["height"] * min(1, scale)),
                )
                assert abs(thumb.width - expected[0]) <= 1 and abs(thumb.height - expected[1]) <= 1


def test_clusters_are_the_kept_figure_and_what_points_at_it(build, card):
    doc = parse(card)
    figures = {f["key"]: f for f in table(build, "figures").to_pylist()}
    removed = [f for f in figures.values() if f["status"] in DUPLICATES]
    assert removed, "the test build should have duplicates"
    clusters = doc.xpath('//div[@class="cluster"]')
    assert len(clusters) == min(12, len({f["duplicate_of"] for f in removed}))
    lead = doc.xpath('//section[@id="duplicates"]/p[@class="lead"]')[0].text_content()
    assert lead.startswith(f"{len({f['duplicate_of'] for f in removed})} figures kept")
    for cluster in clusters:
        kept_key = cluster.get("data-kept")
        assert figures[kept_key]["status"] == FigureStatus.KEPT
        cards = cluster.xpath("article")
        assert cards[0].get("data-key") == kept_key
        members = sorted(f["key"] for f in removed if f["duplicate_of"] == kept_key)
        assert [c.get("data-key") for c in cards[1:]] == members
        for node in cards[1:]:
            row = figures[node.get("data-key")]
            assert (
                row["status"] in node.xpath('.//span[contains(@class, "badge")]')[0].text_content()
            )
            distance = phash_distance(figures[kept_key]["phash"], row["phash"])
            assert f"distance {distance}" in node.text_content()
        assert len(cluster.xpath(".//img")) == len(cards)  # staging present: every image shown
    assert not doc.xpath('//section[@id="duplicates"]//p[@class="note"]')


def test_without_staging_removed_figures_are_listed_without_images(build, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(build, out, ignore=shutil.ignore_patterns("staging", "card"))
    doc = parse(write_card(out, per_split=2))
    assert doc.xpath('//section[@id="duplicates"]//p[@class="note"]')
    for cluster in doc.xpath('//div[@class="cluster"]'):
        kept, *removed = cluster.xpath("article")
        assert kept.xpath(".//img")  # kept figures come from the shards
        for node in removed:
            assert not node.xpath(".//img")
            assert "no staging chunks" in node.xpath('.//div[contains(@class, "missing")]')[0].text
    assert (out / "card" / "index.html").exists()


def test_captions_titles_and_journals_are_escaped(build, tmp_path):
    doc = parse(write_card(hostile_copy(build, tmp_path / "out"), per_split=3))
    assert not doc.xpath("//script")
    assert not [src for src in doc.xpath("//img/@src") if "://" in src]
    assert not doc.xpath("//*[@onerror]")
    captions = [p.text_content() for p in doc.xpath('//div[@class="gallery"]//p[@class="caption"]')]
    assert captions and all(c.startswith(HOSTILE) for c in captions)
    titles = [p.text_content() for p in doc.xpath('//div[@class="gallery"]//p[@class="title"]')]
    assert titles and all(t.startswith(HOSTILE) for t in titles)


def test_card_of_a_build_on_s3_equals_the_local_one(build, card, tmp_path, monkeypatch):
    """Read through pyarrow's S3 filesystem from a local moto server (no network)."""
    from helpers.servers import BUCKET, serve_s3

    with serve_s3(build) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        index = write_card(f"s3://{BUCKET}", tmp_path / "card", per_split=PER_SPLIT)
    local = card.read_text(encoding="utf-8").replace(str(build), f"s3://{BUCKET}")
    assert index.read_text(encoding="utf-8") == local
    for image in (card.parent / "img").iterdir():
        assert (tmp_path / "card" / "img" / image.name).read_bytes() == image.read_bytes()


# --- the command and the card folder ------------------------------------------------------------


def test_command_prints_the_card_path_and_the_card_is_deterministic(build, card, tmp_path, capsys):
    dest = tmp_path / "again"
    assert cli.main(["report", str(build), "--dest", str(dest), "--per-split", str(PER_SPLIT)]) == 0
    index = Path(capsys.readouterr().out.strip())
    assert index == dest / "index.html"
    assert index.read_bytes() == card.read_bytes()
    files = sorted(p.relative_to(dest) for p in dest.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(card.parent) for p in card.parent.rglob("*") if p.is_file()
    )
    for name in files:
        assert (dest / name).read_bytes() == (card.parent / name).read_bytes(), name

    # Another seed draws another sample; rewriting the card replaces the old one whole.
    assert (
        cli.main(["report", str(build), "--dest", str(dest), "--seed", "7", "--per-split", "3"])
        == 0
    )
    capsys.readouterr()
    assert index.read_bytes() != card.read_bytes()
    assert len(list((dest / "img").iterdir())) < len(list((card.parent / "img").iterdir()))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folders left


def test_command_fails_clearly_on_what_is_not_a_build(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 1
    assert "stats.json not found" in capsys.readouterr().err
    with pytest.raises(ReportError, match="not a local path"):
        write_card("s3://some-bucket/build")  # refused from the URI, no request made


@pytest.mark.parametrize(
    "content", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"articles": {}}'], ids=str
)
def test_a_malformed_stats_json_is_one_line(tmp_path, capsys, content):
    (tmp_path / "stats.json").write_bytes(content)
    assert cli.main(["report", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pmc-pipeline report: ") and "stats.json" in err, err
    assert len(err.splitlines()) == 1


def test_the_card_folder_can_be_served(card):
    """Readable by others (mkdtemp made it 0700: a web server's copy answered 403)."""
    assert card.parent.stat().st_mode & 0o777 == 0o755


def test_a_folder_that_is_not_a_card_is_never_replaced(build, tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("mine")
    with pytest.raises(ReportError, match="not a data card"):
        write_card(build, tmp_path)
    assert precious.read_text() == "mine"


# --- the pieces ----------------------------------------------------------------------------------


def test_sample_keys_is_a_bottom_k_that_ignores_row_order():
    keys = [f"PMC{i}v1_f{j:03d}" for i in range(50) for j in range(1, 4)]
    splits = ["train" if i % 3 else "val" for i in range(len(keys))]
    rows = pa.table({"key": keys, "split": splits})
    chosen = sample_keys(rows, 10, seed=3)
    for split in ("train", "val"):
        mine = [k for k, s in zip(keys, splits, strict=True) if s == split]
        assert chosen[split] == sorted(mine, key=lambda k: stable_hash(f"3:{k}"))[:10]
    order = np.random.default_rng(0).permutation(len(keys))
    assert sample_keys(rows.take(order), 10, seed=3) == chosen
    assert sample_keys(rows, 10, seed=4) != chosen
    assert sample_keys(rows, 0) == {"train": [], "val": []}


def test_figure_type_chart_counts_pairs_whose_caption_names_no_type():
    rows = pa.table(
        {
            "figure_types": [["chart"], ["chart", "gel_blot"], [], []],
            "compound": [False, True, False, True],
        }
    )
    bars = figure_types(rows)
    single, compound = bars.series["single panel"], bars.series["compound"]
    counts = {label: (single[i], compound[i]) for i, label in enumerate(bars.labels)}
    assert counts["chart"] == (1, 1) and counts["gel_blot"] == (0, 1)
    assert counts[UNTYPED] == (1, 1)
    assert bars.labels[-1] == UNTYPED


def test_phash_distance():
    assert phash_distance("ffff000000000000", "ffff000000000001") == 1
    assert phash_distance("0f0f0f0f0f0f0f0f", "f0f0f0f0f0f0f0f0") == 64
    assert phash_distance(None, "00") is None
    assert phash_distance("not hex", "00") is None


def jpeg_bytes(size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_thumbnails_shrink_and_refuse_what_is_not_a_build_jpeg(monkeypatch):
    with Image.open(io.BytesIO(thumbnail(jpeg_bytes((1000, 400))))) as im:
        assert im.format == "JPEG" and im.size == (THUMB_SIDE, 102)
    with Image.open(io.BytesIO(thumbnail(jpeg_bytes((100, 40))))) as im:
        assert im.size == (100, 40)  # never upscaled
    with pytest.raises(ThumbnailError, match="unreadable"):
        thumbnail(jpeg_bytes((50, 50), "PNG"))
    with pytest.raises(ThumbnailError, match="unreadable"):
        thumbnail(jpeg_bytes((300, 300))[:400])  # truncated
    monkeypatch.setattr("pmc_pipeline.report.thumbs.MAX_PIXELS", 100 * 100)
    with pytest.raises(ThumbnailError, match="over 10000 pixels"):
        thumbnail(jpeg_bytes((200, 200)))


def test_charts_of_an_empty_build_still_render():
    empty_pairs = pa.table(
        {
            "key": pa.array([], pa.string()),
            "split": pa.array([], pa.string()),
            "caption_tokens": pa.array([], pa.int64()),
            "width": pa.array([], pa.int64()),
            "height": pa.array([], pa.int64()),
            "license": pa.array([], pa.string()),
            "year": pa.array([], pa.int64()),
            "journal": pa.array([], pa.string()),
            "n_mentions": pa.array([], pa.int32()),
            "figure_types": pa.array([], pa.list_(pa.string())),
            "compound": pa.array([], pa.bool_()),
        }
    )
    empty_figures = pa.table(
        {"placement": pa.array([], pa.string()), "status": pa.array([], pa.string())}
    )
    charts = all_charts(empty_pairs, empty_figures, {})
    assert len(charts) == 10
    for chart in charts:
        assert render_png(chart).startswith(b"\x89PNG")
        header, rows = chart.table()
        assert all(row[1] in (0, None) for row in rows)


def test_staged_jpegs_take_each_key_from_its_newest_generation(tmp_path):
    from types import SimpleNamespace

    from pmc_pipeline import staging
    from pmc_pipeline.outputs import Output
    from pmc_pipeline.report.jpegs import staged_jpegs

    out = Output(str(tmp_path))

    def chunk(name, figures):
        article = {"article_key": "PMC1.1", "status": "ok", "bytes_read": 0}
        rows = [
            {"key": key, "article_key": "PMC1.1", "status": "kept", "jpeg": jpeg}
            for key, jpeg in figures.items()
        ]
        for row in rows:
            row["image_bytes"] = None if row["jpeg"] is None else len(row["jpeg"])
        staging.write_chunk(out, name, [SimpleNamespace(article=article, figures=rows)])

    chunk("g00001-000000", {"PMC1v1_f001": b"\xff\xd8old-1", "PMC1v1_f002": b"\xff\xd8old-2"})
    chunk("g00002-000000", {"PMC1v1_f001": b"\xff\xd8new-1", "PMC1v1_f002": None})
    found = staged_jpegs(out, ["PMC1v1_f001", "PMC1v1_f002", "PMC9v1_f001"])
    # f002's newest record has no image: the older one is not shown in its place.
    assert found == {"PMC1v1_f001": b"\xff\xd8new-1"}
    assert staged_jpegs(out, []) == {}
