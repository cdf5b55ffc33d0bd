"""pmc_pipeline.images on real edge-case images (Pillow's own test files) and real PMC
figures, read in place from ../shared/fixtures, plus images built here for exact checks."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import random
import struct
import warnings
import zlib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from helpers.paths import shared_fixture
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFile, ImageOps, JpegImagePlugin

from pmc_pipeline import images
from pmc_pipeline.images import ImageError, ProcessedImage, process_image, target_size
from pmc_pipeline.jpeg_segments import strip_metadata


def edge(name: str) -> bytes:
    return shared_fixture("images", "edge", name).read_bytes()


def pmc_images(pattern: str = "*/*") -> list[Path]:
    root = shared_fixture("images", "pmc")
    return sorted(p for p in root.glob(pattern) if p.suffix in (".jpg", ".gif", ".tif"))


def png(im: Image.Image) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(result: ProcessedImage) -> np.ndarray:
    """The published pixels, as an RGB array (a grey JPEG is published with one channel)."""
    with Image.open(io.BytesIO(result.jpeg)) as im:
        assert im.format == "JPEG" and im.mode in ("L", "RGB")
        assert not im.info.get("progressive") and not im.info.get("progression")  # baseline
        assert im.size == (result.width, result.height)
        return np.asarray(im.convert("RGB")).astype(int)


def encoded(picture: Image.Image, quality: int = 95) -> bytes:
    """The JPEG process_image publishes for this normalised picture (grey or RGB)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def key_of(picture: Image.Image) -> str:
    """pixel_sha256 as documented: sha256 of the published JPEG."""
    return hashlib.sha256(encoded(picture)).hexdigest()


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


# --- the edge corpus, file by file (see images/edge/README in the shared fixtures) -------

DECODABLE = {
    # name: (orig_format, orig_mode, (orig_width, orig_height) after EXIF orientation)
    "pil_sample_cmyk.jpg": ("JPEG", "CMYK", (100, 100)),
    "pil_sample_rgb.jpg": ("JPEG", "RGB", (100, 100)),
    "icc_profile_big.jpg": ("JPEG", "RGB", (425, 250)),
    "app13-multiple.jpg": ("JPEG", "RGB", (256, 160)),
    "hopper_orientation_6.jpg": ("JPEG", "RGB", (128, 128)),
    "orientation_rectangle.jpg": ("JPEG", "RGB", (1, 2)),
    "hopper_gray.jpg": ("JPEG", "L", (128, 128)),
    "hopper_bad_exif.jpg": ("JPEG", "L", (500, 500)),
    "i_trns.png": ("PNG", "I;16", (64, 64)),
    "16bit.cropped.tif": ("TIFF", "I;16", (64, 64)),
    "16bit.MM.deflate.tif": ("TIFF", "I;16B", (64, 64)),
    "10ct_32bit_128.tiff": ("TIFF", "F", (128, 128)),
    "transparent.png": ("PNG", "RGBA", (200, 150)),
    "uncompressed_la.png": ("PNG", "LA", (128, 128)),
    "p_trns_single.png": ("PNG", "P", (64, 64)),
    "rgb_trns.png": ("PNG", "RGB", (64, 64)),
    "transparent.gif": ("GIF", "P", (200, 150)),
    "dispose_bgnd.gif": ("GIF", "P", (100, 100)),
    "multipage.tiff": ("TIFF", "P", (10, 10)),
    "g4-multi.tiff": ("TIFF", "1", (3307, 4677)),
    "hopper_g4.tif": ("TIFF", "1", (128, 128)),
    "tiff_strip_cmyk_jpeg.tif": ("TIFF", "CMYK", (100, 100)),
    "hopper.Lab.tif": ("TIFF", "LAB", (128, 128)),
    "test-card-lossy-tiled.jp2": ("JPEG2000", "RGB", (640, 480)),
    "hopper.webp": ("WEBP", "RGB", (128, 128)),
    "hopper.bmp": ("BMP", "RGB", (128, 128)),
}

REFUSED = {
    "truncated_jpeg.jpg": images.TRUNCATED,
    "truncated_image.png": images.TRUNCATED,
    "broken_data_stream.png": images.UNDECODABLE,
    "broken.png": images.UNDECODABLE,
    "decompression_bomb.gif": images.DECOMPRESSION_BOMB,
    "l2rgb_read.bmp": images.DECOMPRESSION_BOMB,  # 151 MP claimed: over our cap, never decoded
    "png_decompression_dos.png": images.DECOMPRESSION_BOMB,  # zlib bomb in a text chunk
}


@pytest.mark.filterwarnings("error")  # no Pillow warning may escape either
@pytest.mark.parametrize("name", sorted(DECODABLE))
def test_edge_images_decode_to_baseline_jpeg(name):
    result = process_image(edge(name))
    orig_format, orig_mode, orig_size = DECODABLE[name]
    assert (result.orig_format, result.orig_mode) == (orig_format, orig_mode)
    assert (result.orig_width, result.orig_height) == orig_size
    assert (result.width, result.height) == target_size(*orig_size, 1024)
    decoded(result)
    assert result.pixel_sha256 == hashlib.sha256(result.jpeg).hexdigest()
    assert len(result.phash) == 16
    int(result.phash, 16)
    meta = result.to_metadata()
    assert "jpeg" not in meta and meta["phash"] == result.phash and meta["orig_mode"] == orig_mode


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_edge_images_refused_with_their_reason(name):
    with pytest.raises(ImageError) as caught:
        process_image(edge(name))
    assert caught.value.reason == REFUSED[name]
    assert caught.value.reason in images.REASONS


def test_every_edge_image_is_covered():
    names = {p.name for p in shared_fixture("images", "edge").iterdir() if p.suffix != ".md"}
    hoppers = {f"hopper_orientation_{n}.jpg" for n in range(2, 9)}
    assert names == set(DECODABLE) | set(REFUSED) | hoppers


def test_empty_bytes():
    with pytest.raises(ImageError) as caught:
        process_image(b"")
    assert caught.value.reason == images.EMPTY


# --- orientation, colour, transparency, bit depth ----------------------------------------


def test_exif_orientation_gives_the_upright_picture():
    upright = process_image(edge("hopper.bmp"))
    for n in range(2, 9):
        turned = process_image(edge(f"hopper_orientation_{n}.jpg"))
        assert hamming(turned.phash, upright.phash) <= 2, n
        assert np.abs(decoded(turned) - decoded(upright)).mean() < 12, n


def test_exif_orientation_swaps_width_and_height():
    result = process_image(edge("orientation_rectangle.jpg"))  # stored 2x1, Orientation=8
    assert (result.orig_width, result.orig_height) == (1, 2)
    assert (result.width, result.height) == (1, 2)


def test_cmyk_is_converted_to_rgb_of_the_same_picture():
    cmyk = process_image(edge("pil_sample_cmyk.jpg"))
    rgb = process_image(edge("pil_sample_rgb.jpg"))
    assert hamming(cmyk.phash, rgb.phash) <= 2
    assert np.abs(decoded(cmyk) - decoded(rgb)).mean() < 40  # naive CMYK, no profile


def test_non_srgb_icc_profile_is_colour_managed():
    data = edge("icc_profile_big.jpg")
    with Image.open(io.BytesIO(data)) as im:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        managed = ImageCms.profileToProfile(
            im, profile, ImageCms.createProfile("sRGB"), renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
        naive = im.convert("RGB")
    result = process_image(data)
    assert not result.passed_through
    assert result.jpeg == encoded(managed) != encoded(naive)
    assert result.pixel_sha256 == key_of(managed)


def test_srgb_profile_leaves_pixels_alone():
    data = edge("pil_sample_rgb.jpg")
    result = process_image(data)
    assert result.passed_through  # a baseline JPEG with an sRGB profile: nothing to fix
    with Image.open(io.BytesIO(data)) as im:
        assert np.array_equal(decoded(result), np.asarray(im.convert("RGB")))


def test_16bit_grey_is_stretched_not_clipped():
    little = process_image(edge("16bit.cropped.tif"))
    big = process_image(edge("16bit.MM.deflate.tif"))
    assert little.pixel_sha256 == big.pixel_sha256  # same picture, other byte order
    pixels = decoded(little)
    assert pixels.min() <= 5 and pixels.max() >= 250  # values 291..694 span the range
    with Image.open(io.BytesIO(edge("16bit.cropped.tif"))) as im:
        assert np.asarray(im.convert("RGB")).min() == 255  # what plain Pillow would give


def test_float_image_is_stretched():
    pixels = decoded(process_image(edge("10ct_32bit_128.tiff")))  # values -3.14..3.14
    assert pixels.min() <= 5 and pixels.max() >= 250


def test_16bit_values_within_8_bits_are_kept():
    values = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 200
    im = Image.fromarray(values)  # uint16: mode I;16
    expected = Image.fromarray(values.astype(np.uint8))  # published as 8-bit grey
    assert process_image(png(im)).jpeg == encoded(expected)


def test_wide_images_are_stretched_in_bands(monkeypatch):
    """Bands of a few rows give the very same picture as one pass over the whole image."""
    rng = np.random.default_rng(5)
    values = rng.integers(300, 4000, (97, 61)).astype(np.uint16)
    whole = images._wide_to_l(Image.fromarray(values))
    monkeypatch.setattr(images.image_memory, "WIDE_BAND_PIXELS", 61 * 3)  # 3 rows a band
    assert images._wide_to_l(Image.fromarray(values)).tobytes() == whole.tobytes()
    assert np.asarray(whole).min() == 0 and np.asarray(whole).max() == 255
    floats = rng.normal(0, 1, (50, 40)).astype(np.float32)
    floats[3, 4], floats[40, 2] = np.nan, np.inf
    banded = images._wide_to_l(Image.fromarray(floats))
    monkeypatch.setattr(images.image_memory, "WIDE_BAND_PIXELS", 1 << 18)
    assert images._wide_to_l(Image.fromarray(floats)).tobytes() == banded.tobytes()


def test_stretch_of_wide_values_is_exact():
    values = np.array([[1000, 2000], [3000, 5000]], dtype=np.int32)
    stretched = images._wide_to_l(Image.fromarray(values))  # int32: mode I
    # (v - 1000) * 255 / 4000, rounded half up: 0, 63.75 -> 64, 127.5 -> 128, 255
    assert np.asarray(stretched).tolist() == [[0, 64], [128, 255]]


def test_float_nan_and_constant_images():
    nan = np.full((4, 4), np.nan, dtype=np.float32)
    assert np.asarray(images._wide_to_l(Image.fromarray(nan))).max() == 0
    flat = np.full((4, 4), 7.0, dtype=np.float32)
    assert np.asarray(images._wide_to_l(Image.fromarray(flat))).tolist() == [[7] * 4] * 4


@pytest.mark.parametrize(
    "name", ["transparent.png", "transparent.gif", "uncompressed_la.png", "p_trns_single.png"]
)
def test_transparent_pixels_become_white(name):
    data = edge(name)
    with Image.open(io.BytesIO(data)) as im:
        alpha = np.asarray(im.convert("RGBA"))[:, :, 3]
    assert (alpha == 0).any()
    pixels = decoded(process_image(data))
    assert pixels[alpha == 0].mean() > 245


def test_colour_key_transparency_becomes_white():
    data = edge("rgb_trns.png")
    with Image.open(io.BytesIO(data)) as im:
        key = np.all(np.asarray(im) == im.info["transparency"], axis=-1)
    assert key.any()
    assert decoded(process_image(data))[key].mean() > 245


def test_same_picture_in_other_containers_has_the_same_pixel_hash():
    rgb = Image.new("RGB", (40, 30), (10, 200, 30))
    rgb.paste((250, 0, 120), (5, 5, 20, 25))
    encodings = []
    for fmt in ("PNG", "BMP", "TIFF", "WEBP"):
        buffer = io.BytesIO()
        rgb.save(buffer, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
        encodings.append(buffer.getvalue())
    encodings.append(png(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)))
    hashes = {process_image(data).pixel_sha256 for data in encodings}
    assert hashes == {key_of(rgb)}


def test_pixel_hash_includes_the_size():
    strip = Image.linear_gradient("L").resize((6, 1)).convert("RGB")
    tall = strip.transpose(Image.Transpose.ROTATE_90)  # 1x6: the same bytes, other shape
    assert tall.tobytes() == strip.tobytes()
    assert process_image(png(strip)).pixel_sha256 != process_image(png(tall)).pixel_sha256


def test_unsupported_mode():
    # 'La' (premultiplied grey + alpha) exists in Pillow but converts to nothing.
    with pytest.raises(ImageError) as caught:
        images._normalised(Image.new("La", (2, 2)))
    assert caught.value.reason == images.UNSUPPORTED_MODE


# --- size, bombs, formats, bad bytes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [
        ((3307, 4677), 1024, (724, 1024)),
        ((4677, 3307), 1024, (1024, 724)),
        ((2000, 1000), 1000, (1000, 500)),
        ((1000, 1000), 1024, (1000, 1000)),  # never upscaled
        ((5000, 3), 1024, (1024, 1)),  # never below one pixel
        ((3, 3), 2, (2, 2)),
    ],
)
def test_target_size(size, max_side, expected):
    assert target_size(*size, max_side) == expected


def test_resize_keeps_the_longer_side_at_most_max_side():
    big = Image.radial_gradient("L").resize((2000, 900)).convert("RGB")
    result = process_image(png(big), max_side=512)
    assert (result.width, result.height) == (512, 230)
    assert (result.orig_width, result.orig_height) == (2000, 900)
    small = process_image(png(big), max_side=4096)
    assert (small.width, small.height) == (2000, 900)


def test_same_bytes_and_options_give_the_same_jpeg():
    for path in pmc_images("*/*.jpg")[:6] + pmc_images("*/*.tif"):
        data = path.read_bytes()
        first, second = process_image(data, max_side=700), process_image(data, max_side=700)
        assert first == second and first.jpeg == second.jpeg
    assert process_image(data, quality=80).jpeg != process_image(data, quality=95).jpeg


def test_real_pmc_figures_and_thumbnails():
    """Every real PMC image decodes; a thumbnail (.gif) and its full image (.jpg) have
    perceptual hashes within 4 bits, while different figures are at least 6 apart."""
    results = {path: process_image(path.read_bytes()) for path in pmc_images()}
    assert len(results) == 66
    full = {p: r for p, r in results.items() if p.suffix == ".jpg"}
    for path, result in full.items():
        assert max(result.width, result.height) <= 1024
        thumb = path.with_suffix(".gif")
        if thumb in results:
            assert hamming(results[thumb].phash, result.phash) <= 4, path.name
    others = [hamming(a.phash, b.phash) for a in full.values() for b in full.values() if a is not b]
    assert min(others) >= 6


def test_large_real_tiff_is_resized():
    (tif,) = pmc_images("*/*.tif")
    result = process_image(tif.read_bytes())
    assert (result.orig_width, result.orig_height) == (2250, 3250)
    assert (result.width, result.height) == (709, 1024)


def test_pixel_cap_is_checked_before_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels decoded despite the cap")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError) as caught:
        process_image(edge("hopper.bmp"), max_pixels=128 * 128 - 1)
    assert caught.value.reason == images.DECOMPRESSION_BOMB


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but holds one row of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\0" + b"\0" * min(width, 1024))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("error")
def test_claimed_size_over_the_cap_is_refused():
    # 100,000 x 1,000 = 1e8 pixels: between Pillow's warning and error limits.
    with pytest.raises(ImageError) as caught:
        process_image(png_claiming(100_000, 1_000))
    assert caught.value.reason == images.DECOMPRESSION_BOMB


@pytest.mark.filterwarnings("error")
def test_pillow_bomb_warning_never_escapes_with_a_higher_cap():
    # l2rgb_read.bmp claims 151 MP: with the cap above that, Pillow warns (silenced here)
    # and decoding then finds the file truncated.
    with pytest.raises(ImageError) as caught:
        process_image(edge("l2rgb_read.bmp"), max_pixels=160_000_000)
    assert caught.value.reason == images.TRUNCATED


def test_formats_outside_the_allowlist_are_refused():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n%%EOF\n"
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PPM")  # Pillow reads it; PMC has none
    for data in (eps, buffer.getvalue()):
        with pytest.raises(ImageError) as caught:
            process_image(data)
        assert caught.value.reason == images.UNDECODABLE


def test_invalid_options_are_value_errors():
    data = edge("hopper.bmp")
    for options in ({"max_side": 0}, {"quality": 0}, {"quality": 101}, {"max_pixels": 0}):
        with pytest.raises(ValueError):
            process_image(data, **options)


def test_damaged_bytes_raise_only_image_error():
    """Truncations and bit flips of real files: a result or an ImageError, nothing else."""
    rng = random.Random(20261)
    sources = [edge(n) for n in ("hopper.bmp", "hopper.webp", "transparent.gif", "i_trns.png")]
    sources += [edge("hopper_g4.tif"), edge("tiff_strip_cmyk_jpeg.tif"), edge("hopper_gray.jpg")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for data in sources:
            for _ in range(25):
                damaged = bytearray(data[: rng.randrange(1, len(data))])
                for _ in range(rng.randrange(0, 4)):
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
                try:
                    result = process_image(bytes(damaged))
                except ImageError as exc:
                    assert exc.reason in images.REASONS
                else:
                    assert isinstance(result, ProcessedImage)


def test_orientation_helper_matches_pillow():
    data = edge("hopper_orientation_5.jpg")
    with Image.open(io.BytesIO(data)) as im:
        expected = ImageOps.exif_transpose(im).convert("RGB")
    assert process_image(data).jpeg == encoded(expected)


# --- pass-through: a JPEG with nothing to fix is published as it came --------------------


def jpeg(picture: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def markers(data: bytes) -> list[int]:
    """The markers of a JPEG's header, up to and including SOS."""
    found, pos = [], 2
    while True:
        marker = data[pos + 1]
        found.append(marker)
        if marker == 0xDA:
            return found
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")


def hopper() -> Image.Image:
    with Image.open(io.BytesIO(edge("hopper.bmp"))) as im:
        return im.convert("RGB")


def test_baseline_jpeg_is_published_as_it_came_less_its_metadata():
    picture = hopper()
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Orientation] = "a camera", 1
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plain = jpeg(picture, quality=80)
    with_metadata = jpeg(
        picture, quality=80, exif=exif, icc_profile=srgb, comment=b"hi", xmp=b"<x:xmpmeta/>"
    )
    assert {0xE1, 0xE2, 0xFE} <= set(markers(with_metadata))
    result = process_image(with_metadata)
    assert result.passed_through and result.jpeg == plain  # the same file, less metadata
    assert markers(result.jpeg) == markers(plain) and 0xE1 not in markers(result.jpeg)
    assert result.pixel_sha256 == process_image(plain).pixel_sha256
    with Image.open(io.BytesIO(with_metadata)) as im:
        assert np.array_equal(decoded(result), np.asarray(im))
    assert (result.width, result.height, result.orig_mode) == (128, 128, "RGB")


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("progressive", lambda: jpeg(hopper(), quality=90, progressive=True)),
        ("cmyk", lambda: jpeg(hopper().convert("CMYK"), quality=90)),
        ("over max_side", lambda: jpeg(hopper().resize((1100, 1100)), quality=90)),
        ("turned by EXIF", lambda: edge("hopper_orientation_6.jpg")),
        ("non-sRGB profile", lambda: edge("icc_profile_big.jpg")),
    ],
)
def test_jpegs_with_something_to_fix_are_reencoded(case, data):
    result = process_image(data())
    assert not result.passed_through, case
    decoded(result)  # a baseline JPEG all the same
    assert result.pixel_sha256 == hashlib.sha256(result.jpeg).hexdigest()


def test_real_pmc_jpegs_pass_through_with_identical_pixels():
    paths = pmc_images("*/*.jpg")
    passed = 0
    for path in paths:
        data = path.read_bytes()
        result = process_image(data)
        if result.passed_through:
            passed += 1
            assert len(result.jpeg) <= len(data)
            with Image.open(io.BytesIO(data)) as im:
                assert np.array_equal(decoded(result), np.asarray(im.convert("RGB"))), path.name
    assert passed == len(paths) == 27  # PMC's web JPEGs: baseline, sRGB or grey, upright


def test_copy_in_another_container_is_a_near_duplicate():
    """A PNG of a passed-through JPEG's pixels is another published file: another exact key,
    but a perceptual hash within 2 bits, well inside the near-duplicate threshold (4)."""
    for path in pmc_images("*/*.jpg")[::4]:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            copy = process_image(png(im))
        original = process_image(data)
        assert original.passed_through and not copy.passed_through
        assert original.pixel_sha256 != copy.pixel_sha256
        assert hamming(original.phash, copy.phash) <= 2, path.name


def test_strip_metadata_refuses_what_it_cannot_vouch_for():
    plain = jpeg(hopper(), quality=80)
    assert strip_metadata(plain) == plain
    assert strip_metadata(plain + b"trailing junk") == plain  # nothing after EOI is kept
    assert strip_metadata(plain[:-2]) is None  # no EOI: truncated
    assert strip_metadata(jpeg(hopper(), progressive=True)) is None  # SOF2
    assert strip_metadata(png(hopper())) is None
    # A marker after the scan (a second scan would bring tables like this): not one scan.
    assert strip_metadata(plain[:-2] + b"\xff\xc4\x00\x02" + plain[-2:]) is None
    # Fill bytes before a marker are allowed, and dropped.
    assert strip_metadata(plain[:2] + b"\xff" + plain[2:]) == plain
    # A segment length running past the end.
    assert strip_metadata(plain[:2] + b"\xff\xe1\xff\xff" + plain[2:]) is None


# --- large JPEGs: decoded at a reduced DCT scale ---------------------------------------------


def large_figure(width: int, height: int) -> Image.Image:
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    for i in range(0, width, width // 23):
        draw.line((i, 0, width - i, height), fill=(200, 30, 30), width=5)
        draw.text((i, height // 3), f"panel {i}", fill="black", font_size=40)
    return picture


def test_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    picture = large_figure(4200, 3000)
    data = jpeg(picture, quality=92)
    sizes = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    result = process_image(data)
    assert set(sizes) == {(1050, 750)}  # 1/4 scale: the smallest that still covers 1024 x 731
    assert (result.width, result.height) == target_size(4200, 3000, 1024) == (1024, 731)
    assert (result.orig_width, result.orig_height) == (4200, 3000)
    with Image.open(io.BytesIO(data)) as im:
        exact = np.asarray(im.convert("RGB").resize((1024, 731), Image.Resampling.LANCZOS))
    mse = ((decoded(result) - exact.astype(int)) ** 2).mean()
    assert 10 * np.log10(255**2 / mse) > 30  # dB against an exact Lanczos resize
    assert process_image(data) == result


def test_results_do_not_depend_on_threads_or_processes():
    datas = [p.read_bytes() for p in pmc_images()[::3]]
    datas.append(jpeg(large_figure(2600, 1900), quality=90))
    alone = [process_image(d) for d in datas]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(process_image, datas)) == alone
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert list(pool.map(process_image, datas)) == alone
