"""The mirror generator's promises: same seed, same bytes (whatever the worker count);
articles independent of each other; its parts (pictures, corruptions, stand-ins, lookalike
search, options) each doing what they say; and the costs that set its speed bounded."""

from __future__ import annotations

import io
import json
import os
import random
import threading
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest
from helpers.mirrors import decodes
from PIL import Image

from pmc_pipeline.cli import main as cli_main
from pmc_pipeline.mirror import (
    TRUTH_NAME,
    blobs,
    drawing,
    generate,
    images,
    lookalike,
    plan,
    real,
    write_mirror,
)
from pmc_pipeline.mirror.drawing import VisualSpec
from pmc_pipeline.mirror.images import Encoding
from pmc_pipeline.mirror.options import MirrorOptions
from pmc_pipeline.mirror.synthetic import SyntheticContext, header_for, synthetic_article
from pmc_pipeline.model import UnsafeInput

SMALL = {"pdf_scale": 0.01, "supplement_scale": 0.01}


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root: relative path -> (bytes, mtime)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), int(p.stat().st_mtime))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["cloud", "legacy"])
def test_same_seed_gives_the_same_bytes_with_one_worker_or_two(layout, tmp_path):
    write_mirror(tmp_path / "a", layout, 20, 42, workers=1, **SMALL)
    write_mirror(tmp_path / "b", layout, 20, 42, workers=2, **SMALL)
    write_mirror(tmp_path / "c", layout, 20, 43, workers=2, **SMALL)
    a, b, c = tree(tmp_path / "a"), tree(tmp_path / "b"), tree(tmp_path / "c")
    assert a == b
    assert a[TRUTH_NAME] != c[TRUTH_NAME]
    assert len(set(a) ^ set(c)) > 0 or any(a[k] != c[k] for k in a)


@pytest.mark.slow
def test_an_article_does_not_depend_on_the_others(tmp_path):
    """Article i is the same in a mirror of 8 articles and of 16: each is drawn from the
    seed and its index alone (which is what makes parallel generation deterministic)."""
    write_mirror(tmp_path / "small", "cloud", 8, 5, workers=1, **SMALL)
    write_mirror(tmp_path / "big", "cloud", 16, 5, workers=2, **SMALL)
    small, big = tree(tmp_path / "small"), tree(tmp_path / "big")
    articles = {k: v for k, v in small.items() if k.startswith("PMC")}
    assert articles and all(big[k] == v for k, v in articles.items())
    ctx = SyntheticContext(5, "legacy", 9_995_000, "2026-11-16", 0.01, 0.01)
    later_first = [synthetic_article(ctx, i) for i in (7, 3)][::-1]
    in_order = [synthetic_article(ctx, i) for i in (3, 7)]
    assert [[b.xml for b in x] for x in later_first] == [[b.xml for b in x] for x in in_order]


class _EndsItsWorker:
    """A job that ends the worker process that unpickles it, as a crash would."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_worker_that_dies_fails_the_mirror_instead_of_hanging(tmp_path):
    """A worker that dies (a crash, or a fork of a threaded process aborting) breaks the
    mirror with an error; a multiprocessing.Pool would wait for its lost jobs forever."""
    opts = MirrorOptions(layout="cloud", n_articles=4, seed=1, workers=2, **SMALL)
    jobs = [*generate._jobs(opts), _EndsItsWorker()]
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            list(generate._results(opts, tmp_path, jobs, real.ImageIndex(None)))
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - the outcome is what is tested
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(120)
    assert outcome, "the mirror hung on a dead worker"
    assert isinstance(outcome[0], BrokenProcessPool)


def test_refuses_to_write_over_a_directory_it_did_not_make(tmp_path):
    (tmp_path / "keep.txt").write_text("not a mirror")
    with pytest.raises(FileExistsError):
        write_mirror(tmp_path, "cloud", 2, 1, **SMALL)
    write_mirror(tmp_path / "m", "cloud", 2, 1, **SMALL)
    with pytest.raises(FileExistsError):
        write_mirror(tmp_path / "m", "cloud", 2, 1, **SMALL)
    summary = write_mirror(tmp_path / "m", "cloud", 3, 1, overwrite=True, **SMALL)
    assert summary.articles == 3 and summary.truth_path.is_file()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"layout": "ftp"}, ValueError),
        ({"n_articles": -1}, ValueError),
        ({"n_articles": None}, ValueError),
        ({"seed": "7"}, TypeError),
        ({"snapshot_date": "16/11/2026"}, ValueError),
        ({"pdf_scale": -1}, ValueError),
        ({"colour": "blue"}, TypeError),
    ],
)
def test_bad_options_are_refused(kwargs, error, tmp_path):
    args = {"layout": "cloud", "n_articles": 1, "seed": 1, **kwargs}
    with pytest.raises(error):
        write_mirror(
            tmp_path / "m", args.pop("layout"), args.pop("n_articles"), args.pop("seed"), **args
        )


def test_cli_writes_a_mirror_and_reports_it(tmp_path, capsys):
    out = tmp_path / "mirror"
    code = cli_main(
        [
            "mirror",
            str(out),
            "--layout",
            "legacy",
            "--articles",
            "4",
            "--seed",
            "9",
            "--pdf-scale",
            "0.01",
            "--quiet",
        ]
    )
    assert code == 0
    assert "legacy mirror at" in capsys.readouterr().out
    truth = json.loads((out / TRUTH_NAME).read_text())
    assert truth["options"]["n_articles"] == 4 and truth["seed"] == 9
    assert (
        cli_main(["mirror", str(out), "--layout", "legacy", "--articles", "4", "--seed", "9"]) == 2
    )


# --- parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", images.CORRUPTIONS)
def test_corrupt_files_fail_to_decode(kind):
    rgb = drawing.render(VisualSpec("histology", "purple", "circles", 400, 300, 1))
    fmt = "PNG" if kind == "bad_stream" else "JPEG"
    good = images.save(rgb, fmt)
    assert decodes(good)
    assert not decodes(images.corrupt(good, kind, random.Random(0)))


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK", "RGBA", "P", "I;16"])
def test_pixel_modes_survive_encoding(mode):
    rgb = drawing.render(VisualSpec("bar_chart", "red", "circles", 300, 200, 2))
    fmt = {"CMYK": "JPEG", "I;16": "PNG", "RGBA": "PNG", "P": "GIF"}.get(mode, "TIFF")
    with Image.open(io.BytesIO(images.encode(rgb, Encoding(fmt, mode)))) as image:
        assert (image.format, image.mode) == (fmt, mode)
        if mode == "I;16":
            assert np.asarray(image).max() > 255  # real 16-bit values, not 8-bit in disguise


def test_same_pixel_reencoding_changes_bytes_not_pixels():
    rgb = drawing.render(VisualSpec("heatmap", "red", "circles", 300, 200, 3))
    for source in (
        images.encode(rgb, Encoding("JPEG", "RGB")),
        images.encode(rgb, Encoding("PNG", "P")),
    ):
        data, _ = images.reencode_same_pixels(source)
        assert data != source
        a, b = images.decode(data), images.decode(source)
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def test_tiff_bytes_do_not_depend_on_memory_contents():
    # libtiff leaves a pad byte uninitialised when it writes to memory; see images.save.
    rgb = drawing.render(VisualSpec("histology", "purple", "circles", 917, 751, 4))
    first = images.save(rgb, "TIFF")
    clutter = [bytes([i]) * (1 << 20) for i in range(1, 30)]
    assert images.save(rgb, "TIFF") == first
    del clutter


def test_thumbnails_follow_pmc_sizes():
    assert images.pmc_thumbnail_size(771, 442) == (140, 80)  # PMC: 139x80
    assert images.pmc_thumbnail_size(679, 244) == (200, 72)  # PMC: 200x72
    assert images.pmc_thumbnail_size(590, 900) == (100, 153)  # PMC: 100x152
    assert images.pmc_thumbnail_size(30, 20) == (30, 20)  # never enlarged


def test_every_visual_kind_draws_at_every_size_class():
    for i, kind in enumerate(drawing.VISUAL_KINDS):
        for width, height, panels in (
            (640, 480, (2, 2)),
            (1500, 80, (1, 1)),
            (60, 1500, (1, 1)),
            (9, 12, (1, 1)),
        ):
            image = drawing.render(VisualSpec(kind, "red", "triangles", width, height, i, panels))
            assert image.size == (width, height) and image.mode == "RGB"


def test_similar_pairs_finds_exactly_the_close_hashes():
    rng = random.Random(0)
    hashes = [(f"k{i}", rng.getrandbits(64)) for i in range(3000)]
    base = hashes[10][1]
    hashes += [
        ("near3", base ^ 0b111 << 20),
        ("near6", base ^ 0b111111 << 40),
        ("far7", base ^ 0b1111111),
    ]
    found = lookalike.similar_pairs(hashes, max_distance=6)
    expected = sorted(
        (min(a, b), max(a, b), lookalike.distance(x, y))
        for i, (a, x) in enumerate(hashes)
        for b, y in hashes[i + 1 :]
        if lookalike.distance(x, y) <= 6
    )
    assert found == expected
    assert ("k10", "near3", 3) in found and not any("far7" in p for p in found[:1] if p[2] > 6)


def test_hrefs_that_leave_the_folder_are_refused():
    assert real.safe_file_name("fig1.jpg") == "fig1.jpg"
    assert real.safe_file_name("figures/fig1") == "fig1"
    for href in (
        "../../etc/passwd",
        "/etc/passwd",
        "http://example.org/f.jpg",
        "C:\\x.jpg",
        "..",
        ".hidden",
    ):
        name = real.safe_file_name(href)
        assert name is None or (name not in ("..", ".") and "/" not in name), href
    assert real.safe_file_name("../../etc/passwd") == "passwd"  # only ever the last segment


def test_xml_declaring_entities_is_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><article>&b;</article>'
    )
    with pytest.raises(UnsafeInput):
        real.read_xml(bomb)
    plain = tmp_path / "plain.xml"
    plain.write_bytes(b"<?xml version='1.0'?><article><p>&lt;!ENTITY is text here</p></article>")
    assert real.read_xml(plain).endswith(b"</article>")


# --- what sets the speed (checked without timing anything) ----------------------------------


def test_stand_in_sizes_follow_the_documented_distribution():
    rng = random.Random(1)
    pdfs = [len(blobs.pdf_bytes(1, (i,), rng, 1.0)) for i in range(300)]
    assert 400_000 < np.mean(pdfs) < 700_000  # mean about 540 kB
    assert min(pdfs) >= blobs.PDF_RANGE[0] and max(pdfs) <= blobs.PDF_RANGE[1]
    small = [len(blobs.pdf_bytes(1, (i,), rng, 0.01)) for i in range(50)]
    assert max(small) <= blobs.PDF_RANGE[1] * 0.01 + 64


def test_pictures_stay_modest_and_each_is_drawn_once(monkeypatch):
    ctx = SyntheticContext(3, "cloud", 9_995_000, "2026-11-16", 0.01, 0.01)
    drafts = [d for i in range(400) for d in plan.figure_drafts(3, header_for(ctx, i))]
    pixels = [d.visual.width * d.visual.height for d in drafts]
    assert (
        np.mean(pixels) < 1_000_000
        and max(max(d.visual.width, d.visual.height) for d in drafts) <= 2400
    )
    calls = []
    original = drawing.render
    monkeypatch.setattr(drawing, "render", lambda spec: calls.append(spec) or original(spec))
    figures = tiny = 0
    for i in range(40):
        for bundle in synthetic_article(ctx, i):
            if bundle.latest:
                figures += len(bundle.truth["figures"])
                tiny += sum(f["size_class"] == "tiny" for f in bundle.truth["figures"])
    # One drawing per figure (a duplicate draws its source instead of itself), never one
    # per version; a very small picture may be drawn big first (a second call), then scaled.
    assert figures > 50 and figures <= len(calls) <= figures + tiny
