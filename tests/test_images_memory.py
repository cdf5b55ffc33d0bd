"""Memory of image decoding: the estimate against the peak the kernel measures, the
per-process budget with several threads at once, and the case of issue 11 (a 16-bit RGBA
PNG of ~0.7 MB just under the pixel cap, ~0.7 GB of pixels).

Peaks are measured in a subprocess (tests/helpers/memory_probe.py) as the growth of its peak
resident set, which counts the C buffers of Pillow and the codecs; tracemalloc would not.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers.paths import PROJECT_ROOT, shared_fixture
from PIL import Image, ImageFile

from pmc_pipeline import image_memory, images
from pmc_pipeline.extract import ExtractOptions, extract_article
from pmc_pipeline.image_memory import DEFAULT_MEMORY_BUDGET, DecodeBudget
from pmc_pipeline.images import ImageError, process_image

PROBE = PROJECT_ROOT / "tests" / "helpers" / "memory_probe.py"
MB = 1 << 20


def probe(*args: str | Path, fresh_blocks: bool = False) -> list[dict]:
    """Run memory_probe.py; fresh_blocks makes glibc map and unmap every block of 128 kB
    or more, so one image's freed memory cannot hide the next image's peak."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("measuring peak memory needs Linux's /proc/self/clear_refs")
    env = dict(os.environ)
    if fresh_blocks:
        env["MALLOC_MMAP_THRESHOLD_"] = str(128 << 10)
    done = subprocess.run(
        [sys.executable, str(PROBE), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def png16_rgba(width: int, height: int) -> bytes:
    """A 16-bit RGBA PNG of zeros (transparent black): tiny on disk, huge decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    compressor = zlib.compressobj(6)
    rows = bytes(1 + width * 8) * 64  # filter byte + 4 channels x 2 bytes, 64 rows a call
    idat = [compressor.compress(rows) for _ in range(height // 64)]
    idat.append(compressor.compress(bytes(1 + width * 8) * (height % 64)) + compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(idat))
        + chunk(b"IEND", b"")
    )


# --- the budget ------------------------------------------------------------------------------


def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_budget_is_first_come_first_served_and_never_exceeded():
    budget = DecodeBudget(100)
    events: list[str] = []
    release = {name: threading.Event() for name in "abc"}

    def hold(name: str, nbytes: int) -> None:
        with budget.reserve(nbytes):
            events.append(f"{name}+")
            assert budget.in_use <= budget.capacity
            release[name].wait(5)
        events.append(f"{name}-")

    a = threading.Thread(target=hold, args=("a", 60))
    a.start()
    wait_until(lambda: events == ["a+"])
    b = threading.Thread(target=hold, args=("b", 50))  # does not fit beside a: waits
    b.start()
    wait_until(lambda: len(budget._queue) == 1)
    c = threading.Thread(target=hold, args=("c", 10))  # would fit, but b came first
    c.start()
    wait_until(lambda: len(budget._queue) == 2)
    time.sleep(0.05)
    assert events == ["a+"] and budget.in_use == 60
    release["a"].set()
    wait_until(lambda: {"b+", "c+"} <= set(events))
    assert events.index("b+") < events.index("c+") and budget.in_use == 60
    release["b"].set(), release["c"].set()
    for thread in (a, b, c):
        thread.join(5)
    assert budget.in_use == 0 and budget.peak == 60
    with pytest.raises(ValueError):
        with budget.reserve(101):
            pass


def test_a_waiter_that_is_interrupted_leaves_the_line():
    budget = DecodeBudget(10)

    class Interrupted(Exception):
        pass

    def interrupted_wait(timeout=None):
        raise Interrupted

    with budget.reserve(10):
        real_wait, budget._changed.wait = budget._changed.wait, interrupted_wait
        with pytest.raises(Interrupted):
            with budget.reserve(5):
                pass
        budget._changed.wait = real_wait
        assert not budget._queue and budget.in_use == 10
    with budget.reserve(10):  # not stuck behind a ticket nobody holds
        assert budget.in_use == 10


def test_one_budget_per_capacity_in_a_process():
    assert image_memory.budget(123_456) is image_memory.budget(123_456)
    assert image_memory.budget(123_456) is not image_memory.budget(123_457)
    with pytest.raises(ValueError):
        process_image(b"x", memory_budget=0)


def test_image_over_the_whole_budget_is_refused_before_decoding(monkeypatch):
    data = png16_rgba(4000, 3000)  # 12 MP of 16-bit RGBA: ~0.1 GB to decode
    estimate = images.memory_estimate(data)
    assert 12e6 * 8 < estimate < 12e6 * 12

    def no_decoding(self):
        raise AssertionError("pixels decoded despite the budget")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError) as caught:
        process_image(data, memory_budget=estimate - 1)
    assert caught.value.reason == images.MEMORY_BUDGET in images.REASONS
    assert str(estimate) in caught.value.detail


def test_extract_records_the_memory_budget_reason(tmp_path):
    from pmc_pipeline.mirror import write_mirror
    from pmc_pipeline.sources import open_source

    write_mirror(tmp_path / "m", "cloud", 6, 3, pdf_scale=0.02, supplement_scale=0.1)
    source = open_source("cloud", str(tmp_path / "m"))
    reasons = set()
    for ref in source.list_articles():
        result = extract_article(ref, source, ExtractOptions(memory_budget=1 * MB))
        reasons |= {f["reason"] for f in result.figures if f["status"] == "image_failed"}
    assert "image_memory_budget" in reasons  # every real figure needs more than 1 MB


# --- the estimate against measured peaks -----------------------------------------------------


def worst_cases(folder: Path) -> dict[str, int]:
    """Images of every decoding path that makes copies, written to folder; name -> the
    least memory decoding it must take (its decoded pixels)."""
    width, height = 2000, 1500
    pixels = width * height
    rng = np.random.default_rng(1)
    smooth = np.linspace(0, 200, width, dtype=np.float32)[None, :, None]
    rgb = Image.fromarray((smooth + rng.integers(0, 40, (height, width, 3))).astype(np.uint8))
    noise = rng.integers(0, 255, (height, width, 4), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: one more full-size copy
    icc = Image.open(shared_fixture("images", "edge", "icc_profile_big.jpg")).info["icc_profile"]
    cases = {
        "rgba16.png": (png16_rgba(width, height), 4),
        "rgba.png": (_encode(Image.fromarray(noise, "RGBA"), "PNG", compress_level=1), 4),
        "la.png": (_encode(Image.fromarray(noise[:, :, :2], "LA"), "PNG", compress_level=1), 4),
        "p_trns.png": (_encode(rgb.convert("P"), "PNG", transparency=3), 1),
        "rgb_trns.png": (_encode(rgb, "PNG", transparency=(1, 2, 3), compress_level=1), 4),
        "i16.png": (_encode(Image.fromarray((noise[:, :, 0] * 16).astype(np.uint16)), "PNG"), 2),
        "float.tif": (_encode(Image.fromarray(noise[:, :, 0].astype(np.float32)), "TIFF"), 4),
        "turned.tif": (_encode(rgb, "TIFF", exif=exif), 4),
        "turned.png": (_encode(rgb, "PNG", exif=exif, compress_level=1), 4),
        "one_strip_lzw.tif": (
            _encode(rgb, "TIFF", compression="tiff_lzw", strip_size=pixels * 3),
            4,
        ),
        "progressive_444.jpg": (
            _encode(rgb, "JPEG", quality=90, progressive=True, subsampling=0),
            0,  # decoded at 1/2 scale, but every coefficient is kept
        ),
        "cmyk_progressive.jpg": (_encode(rgb.convert("CMYK"), "JPEG", progressive=True), 0),
        "icc_progressive.jpg": (_encode(rgb, "JPEG", icc_profile=icc, progressive=True), 0),
        "rgba.webp": (_encode(Image.fromarray(noise, "RGBA"), "WEBP", quality=80), 4),
        "rgb.jp2": (_encode(rgb, "JPEG2000"), 4),
        "palette.gif": (_encode(rgb.convert("P"), "GIF"), 1),
        "rgb.bmp": (_encode(rgb, "BMP"), 4),
    }
    floors = {}
    for name, (data, bytes_per_pixel) in cases.items():
        (folder / name).write_bytes(data)
        floors[name] = pixels * bytes_per_pixel
    return floors


def _encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.slow
def test_estimate_bounds_the_measured_peak_of_every_decoding_path(tmp_path):
    floors = worst_cases(tmp_path)
    rows = probe(*sorted(tmp_path.iterdir()), fresh_blocks=True)
    assert {row["file"] for row in rows} == set(floors)
    for row in rows:
        # The probe sees at least the decoded pixels, so it measures; the estimate holds.
        assert row["peak"] >= 0.9 * floors[row["file"]], row
        assert row["peak"] <= row["estimate"], row


# --- issue 11: a 16-bit RGBA PNG just under the pixel cap, several threads at once -----------


@pytest.fixture(scope="module")
def issue_png(tmp_path_factory) -> Path:
    side = int(images.DEFAULT_MAX_PIXELS**0.5)  # 9459 x 9459 = 89,472,681 pixels
    path = tmp_path_factory.mktemp("issue") / "rgba16.png"
    path.write_bytes(png16_rgba(side, side))
    return path


@pytest.mark.slow
def test_issue_case_stays_within_the_budget_with_three_threads(issue_png):
    """Three fetch threads each decode the issue's PNG (~0.7 MB, 0.72 GB as pixels) with
    the default budget and the C library's default settings: one decode at a time, and
    the process grows by less than the budget. With a budget three times as large, the same
    three decodes run together and the process grows past the default budget: the bound
    is what holds it."""
    assert len(issue_png.read_bytes()) < 700_000
    (bounded,) = probe("--threads", 3, issue_png)
    assert not bounded["errors"]
    (estimate,) = bounded["estimates"]
    assert estimate <= DEFAULT_MEMORY_BUDGET < 2 * estimate  # one at a time
    assert bounded["reserved_peak"] == estimate
    assert 0.7e9 < bounded["peak"] <= DEFAULT_MEMORY_BUDGET

    (unbounded,) = probe("--threads", 3, "--budget", 3 * DEFAULT_MEMORY_BUDGET, issue_png)
    assert not unbounded["errors"] and unbounded["reserved_peak"] > DEFAULT_MEMORY_BUDGET
    # Past the budget the bounded run stays within: at least two decodes overlapped. (It
    # asked for 1.5 budgets, three decodes nearly together; on a loaded machine the third
    # can start late, and a clean-clone CI run measured 1.49.)
    assert unbounded["peak"] > DEFAULT_MEMORY_BUDGET
