"""Figures per second per core, and the quality of what is published: images.process_image
against img2dataset's Resizer (what a user would pick instead) and a bare Pillow loop, in
one process, on the same bytes.

Data: the real PMC figures in ../shared/fixtures/images/pmc (27 full-size JPEGs and one
7 MP TIFF), and synthetic large figures made here, 2,000-6,000 px (charts and micrographs
as JPEG, where decoding at a reduced DCT scale matters most; a line-art PNG, an RGBA PNG
and a 12-bit TIFF). One thread: the figures are per core.

img2dataset is optional (`make bench` installs it): its package pins pandas < 3 and
webdataset < 0.3 and pulls in wandb, so it is installed with --no-deps beside the `bench`
extra (albumentations < 2 and OpenCV, what its resizer imports), and only its resizer
module is loaded. Without it the table has no img2dataset columns.

    python -m bench image [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import math
import os
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from bench.common import SHARED_FIXTURES, machine, table, write_section
from pmc_pipeline import images
from pmc_pipeline.images import DEFAULT_MAX_SIDE, DEFAULT_QUALITY, process_image, target_size

I2D_VERSION = "1.47.0"


# --- data -------------------------------------------------------------------------------------


def real_images() -> list[bytes]:
    """The real PMC figures: full-size JPEGs and the TIFF (not the GIF thumbnails)."""
    root = SHARED_FIXTURES / "images" / "pmc"
    paths = sorted(p for p in root.glob("*/*") if p.suffix in (".jpg", ".tif"))
    return [p.read_bytes() for p in paths]


def _chart(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """Line art: coloured lines of a few pixels and labels on white, as in a figure."""
    chart = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(chart)
    for i in range(300):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        x1 = x0 + int(rng.integers(-width // 8, width // 8))
        y1 = y0 + int(rng.integers(-height // 8, height // 8))
        draw.line((x0, y0, x1, y1), colour, int(rng.integers(2, 8)))
        draw.text((x0, y0), f"panel {i} p<0.05", fill="black", font_size=int(rng.integers(20, 60)))
    return chart


def _micrograph(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """Smooth stained structures with sensor noise."""
    coarse = rng.normal(0, 1, (height // 16, width // 16, 3))
    coarse = ((coarse - coarse.min()) / np.ptp(coarse) * 255).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))
    noisy = smooth.astype(np.int16) + rng.integers(-6, 7, (height, width, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def synthetic_jpegs() -> list[bytes]:
    rng = np.random.default_rng(7)
    return [
        _encode(_micrograph(2400, 2400, rng), "JPEG", quality=90),
        _encode(_chart(3000, 2200, rng), "JPEG", quality=92),
        _encode(_micrograph(4000, 3000, rng), "JPEG", quality=90),
        _encode(_chart(6000, 4000, rng), "JPEG", quality=90),
    ]


def synthetic_others() -> list[bytes]:
    rng = np.random.default_rng(8)
    rgba = _micrograph(2500, 2000, rng).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((2500, 2000)))
    scan = rng.normal(2000, 300, (2048, 2048)).clip(0, 4095).astype(np.uint16)  # 12-bit
    return [
        _encode(_chart(3000, 2000, rng), "PNG"),
        _encode(rgba, "PNG", compress_level=3),
        _encode(Image.fromarray(scan), "TIFF"),
    ]


def _encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --- contenders: each returns the published JPEG, or None when it refuses the file ---------


def ours(data: bytes) -> bytes | None:
    return process_image(data).jpeg


def bare_pillow(data: bytes) -> bytes | None:
    """What a bare loop does: no validation, orientation, colour management or hashes."""
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    rgb.thumbnail((DEFAULT_MAX_SIDE, DEFAULT_MAX_SIDE))
    return _encode(rgb, "JPEG", quality=DEFAULT_QUALITY)


def img2dataset_resizers() -> dict[str, Callable[[bytes], bytes | None]]:
    """img2dataset's Resizer at our settings, or {} with a message when not installed.

    keep_ratio_largest caps the longer side at 1024 like ours; keep_ratio (the setting
    the issue named) caps the shorter side, so its outputs of large figures are larger."""
    spec = importlib.util.find_spec("img2dataset")
    if spec is None or not spec.submodule_search_locations:
        print(
            "img2dataset is not installed: its columns are left out. Install it as `make bench`"
            f" does: pip install -e '.[bench]' && pip install --no-deps img2dataset=={I2D_VERSION}"
        )
        return {}
    # albumentations asks PyPI for a newer version when imported, unless told not to.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    path = os.path.join(spec.submodule_search_locations[0], "resizer.py")
    module_spec = importlib.util.spec_from_file_location("img2dataset_resizer", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # the resizer alone, not img2dataset/__init__

    def contender(mode: str) -> Callable[[bytes], bytes | None]:
        resizer = module.Resizer(
            image_size=DEFAULT_MAX_SIDE,
            resize_mode=mode,
            resize_only_if_bigger=True,
            encode_quality=DEFAULT_QUALITY,
        )

        def run(data: bytes) -> bytes | None:
            jpeg, *_, error = resizer(io.BytesIO(data))
            return None if error else jpeg

        return run

    return {
        "img2dataset": contender("keep_ratio_largest"),
        "img2dataset keep_ratio": contender("keep_ratio"),
    }


# --- quality ----------------------------------------------------------------------------------


def reference(data: bytes, size: tuple[int, int]) -> np.ndarray | None:
    """A high-quality reference: the whole file decoded by Pillow, upright, transparency
    on white, resized to `size` with an exact Lanczos (no box reduction, no DCT scaling).
    None for what has no plain 8-bit rendering (16-bit greys: each tool stretches its own
    way)."""
    with Image.open(io.BytesIO(data)) as im:
        if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            return None
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            rgba = im.convert("RGBA")
            rgb = Image.new("RGB", im.size, (255, 255, 255))
            rgb.paste(rgba, mask=rgba)
        else:
            rgb = im.convert("RGB")
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.float64)


def exact(data: bytes) -> bytes | None:
    """The shortcut-free path for the quality table: ours without pass-through, DCT scaling
    or box reduction (full decode, exact Lanczos, optimised JPEG q95)."""
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im)
        picture = images._normalised(im)
        picture = picture.resize(
            target_size(*picture.size, DEFAULT_MAX_SIDE), Image.Resampling.LANCZOS
        )
        return images._encode_jpeg(picture, DEFAULT_QUALITY)


def quality(datas: list[bytes], fn: Callable[[bytes], bytes | None]) -> tuple[float, float, int]:
    """(mean published kB, PSNR in dB of all pixels pooled, files refused) of fn's outputs."""
    squared, count, sizes, refused = 0.0, 0, [], 0
    for data in datas:
        jpeg = fn(data)
        if jpeg is None:
            refused += 1
            continue
        sizes.append(len(jpeg))
        with Image.open(io.BytesIO(jpeg)) as out:
            published = np.asarray(out.convert("RGB"), dtype=np.float64)
        ref = reference(data, (published.shape[1], published.shape[0]))
        if ref is not None:
            squared += float(((published - ref) ** 2).sum())
            count += ref.size
    psnr = math.inf if squared == 0 else 10 * math.log10(255**2 * count / squared)
    return (sum(sizes) / len(sizes) / 1e3 if sizes else 0.0), psnr, refused


# --- timing -----------------------------------------------------------------------------------


def timed(contenders: dict[str, Callable], datas: list[bytes], repeat: int) -> dict[str, list]:
    """Seconds of each contender on each file: the best of `repeat` interleaved rounds,
    file by file (the cores are shared: a busy spell hits one file of one contender, and
    the next round gives that file another chance)."""
    for fn in contenders.values():  # warm-up: imports, codecs, lcms profiles, scipy's DCT
        fn(datas[0])
    best = {name: [math.inf] * len(datas) for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            for i, data in enumerate(datas):
                start = time.perf_counter()
                fn(data)
                best[name][i] = min(best[name][i], time.perf_counter() - start)
    return best


def megapixels(datas: list[bytes]) -> float:
    total = 0
    for data in datas:
        with Image.open(io.BytesIO(data)) as im:
            total += im.width * im.height
    return total / 1e6


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench image")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    started = time.perf_counter()

    groups = []  # (row name, files, the files' indices in their timed group)
    if (SHARED_FIXTURES / "images" / "pmc").exists():
        real = real_images()
        jpegs = [i for i, d in enumerate(real) if d[:2] == b"\xff\xd8"]
        others = [i for i in range(len(real)) if i not in jpegs]
        groups.append(
            (
                real,
                [
                    (
                        f"real PMC figures ({len(jpegs)} JPEG + {len(others)} TIFF)",
                        range(len(real)),
                    ),
                    (f"  of which the {len(jpegs)} JPEGs", jpegs),
                    ("  of which the TIFF (2250 x 3250)", others),
                ],
            )
        )
    synthetic = synthetic_jpegs()
    groups.append((synthetic, [("synthetic JPEGs, 2400-6000 px", range(len(synthetic)))]))
    synthetic = synthetic_others()
    groups.append((synthetic, [("synthetic PNG/TIFF, 2000-3000 px", range(len(synthetic)))]))

    contenders = {"ours": ours, **img2dataset_resizers(), "bare Pillow": bare_pillow}
    peer = "img2dataset" if "img2dataset" in contenders else "bare Pillow"
    speed_rows, quality_rows = [], []
    for group, rows in groups:
        seconds = timed(contenders, group, args.repeat)
        for name, indices in rows:
            datas = [group[i] for i in indices]
            mean = {c: sum(seconds[c][i] for i in indices) / len(datas) for c in contenders}
            passed = sum(process_image(d).passed_through for d in datas)
            speed_rows.append(
                [name, len(datas), f"{megapixels(datas):.1f}", passed]
                + [f"{1e3 * mean[c]:.1f}" for c in contenders]
                + [f"**{mean[peer] / mean['ours']:.2f}x**"]
            )
            row = [name]
            for fn in (ours, exact, *_i2d_only(contenders).values()):
                kb, psnr, refused = quality(datas, fn)
                loss = "lossless" if math.isinf(psnr) else f"{psnr:.1f} dB"
                cell = f"{kb:.0f} kB, {loss}" + (f" ({refused} refused)" if refused else "")
                row.append(cell)
            quality_rows.append(row)

    speed_headers = ["data", "files", "MP", "passed through"]
    speed_headers += [f"{c} ms/file" for c in contenders] + [f"ours vs {peer} (rate)"]
    quality_headers = ["data", "ours", "exact Lanczos, full decode"] + list(_i2d_only(contenders))
    markdown = "\n".join(
        [
            "## Image processing (per core)",
            "",
            "`python -m bench image` — `images.process_image` at its defaults (validate, bomb",
            "cap, memory budget, EXIF orientation, sRGB, longer side 1024 never upscaled,",
            "optimised baseline JPEG q95, sha256 of the published JPEG, phash) against",
            f"img2dataset {I2D_VERSION}'s `Resizer` at the same settings (`image_size=1024,",
            "resize_mode=keep_ratio_largest, resize_only_if_bigger=True, encode_quality=95`;",
            "also `keep_ratio`, the setting issue 14 named, which caps the shorter side instead)",
            "and a bare Pillow loop (open, convert RGB, thumbnail 1024, JPEG q95), on the same",
            "bytes in one process, one thread; each file's time is its best of",
            f"{args.repeat} interleaved rounds.",
            f"Machine: {machine()}, load average {load:.1f} at the start (the cores are shared:",
            "absolute times vary from run to run, ratios much less).",
            "",
            table(speed_headers, speed_rows),
            "",
            "Quality of what is published: mean size, and PSNR of every published pixel",
            "against a reference made from the whole file (decoded by Pillow, upright,",
            "transparency on white, exact Lanczos to the contender's output size); 12-bit",
            "greys are left out of the PSNR (no plain 8-bit rendering to compare with).",
            "*exact* is our pipeline without its shortcuts (no pass-through, full decode,",
            "exact Lanczos): what the shortcuts cost.",
            "",
            table(quality_headers, quality_rows),
            "",
            "Where the time goes. A baseline JPEG in grey or sRGB, upright and within 1024 px",
            "(all 27 real JPEGs) is published as it came, less its metadata, after a decode",
            "at half scale that reads every coded bit (validation, perceptual hash): no encode",
            "and no loss, where img2dataset decodes and re-encodes (and the bytes it publishes",
            "are larger). Larger JPEGs are decoded at the smallest DCT scale that covers",
            "1024 px, which costs about 1 dB against the exact resize and stays above",
            "img2dataset's area filter. Other formats pay Pillow's full decode and a Lanczos",
            "resize. The real TIFF (LZW with a horizontal predictor) is most of our time on",
            "the real set: Pillow's bundled libtiff runs the predictor loop unoptimised",
            "(every variable on the stack, by its disassembly), so it decodes in ~40 ms what",
            "OpenCV's libtiff decodes in ~22 ms. img2dataset publishes the 12-bit TIFF all",
            "white (OpenCV saturates 16-bit values); ours stretches it (docs/filters.md).",
        ]
    )
    print(markdown)
    print(f"(took {time.perf_counter() - started:.1f} s)")
    write_section("image", markdown)


def _i2d_only(contenders: dict[str, Callable]) -> dict[str, Callable]:
    return {name: fn for name, fn in contenders.items() if name.startswith("img2dataset")}
