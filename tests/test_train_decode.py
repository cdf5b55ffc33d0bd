"""The loader's JPEG decoding and image transforms: libjpeg-turbo (simplejpeg) agrees with
Pillow, what it refuses goes to Pillow, and LoaderTransform gives open_clip's own transforms'
results (the same crops from the same seed, the same normalisation arithmetic) faster."""

from __future__ import annotations

import io
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

torch = pytest.importorskip("torch")
from helpers.torch_threads import one_torch_thread  # noqa: E402, F401

pytest.importorskip("open_clip")

import numpy as np  # noqa: E402
from helpers.paths import shared_fixture  # noqa: E402
from open_clip.transform import PreprocessCfg, image_transform_v2  # noqa: E402
from PIL import Image  # noqa: E402

from pmc_pipeline.train.decode import (  # noqa: E402
    LoaderTransform,
    SkipSample,
    decode_jpeg,
    jpeg_size,
)
from pmc_pipeline.train.evaluate import EVAL_DECODE_FACTOR  # noqa: E402
from pmc_pipeline.train.synthetic import COLOURS, draw_figure, jpeg_bytes  # noqa: E402


def _figures() -> list[bytes]:
    """JPEGs of figures: synthetic ones of several shapes and modes."""
    out = []
    for i, (colour, size) in enumerate(zip(COLOURS, (600, 517, 333, 1024), strict=False)):
        image = draw_figure(colour, "circle", "upper left", size)
        if i % 2:  # a wide one and a grey one
            image = image.resize((size, size * 2 // 3)).convert("L")
        out.append(jpeg_bytes(image, quality=90))
    return out


@pytest.fixture(scope="module")
def pmc_jpegs() -> list[bytes]:
    """Real PMC figure JPEGs from the shared fixtures (read in place)."""
    paths = sorted(shared_fixture("images", "pmc").glob("*/*.jpg"))
    return [path.read_bytes() for path in paths]


def _pillow(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_full_size_decoding_equals_pillow(pmc_jpegs):
    for data in _figures() + pmc_jpegs:
        assert np.array_equal(np.asarray(decode_jpeg(data)), _pillow(data))


def test_scaled_decoding_keeps_the_sides_asked_for(pmc_jpegs):
    for data in _figures() + pmc_jpegs:
        width, height = jpeg_size(data)
        image = decode_jpeg(data, min_width=200, min_height=150)
        assert image.mode == "RGB"
        assert image.width >= min(200, width) and image.height >= min(150, height)
        if width >= 400 and height >= 300:
            assert image.width < width  # decoded smaller than the file


def test_what_libjpeg_turbo_refuses_goes_to_pillow():
    cmyk = io.BytesIO()
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(cmyk, format="JPEG")
    image = decode_jpeg(cmyk.getvalue())
    assert image.mode == "RGB" and np.array_equal(np.asarray(image), _pillow(cmyk.getvalue()))
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    truncated = _figures()[0][:3000]
    for bad in (png.getvalue(), truncated, b"not an image"):
        with pytest.raises(SkipSample) as info:
            decode_jpeg(bad)
        assert info.value.reason == "bad_image"
    huge = io.BytesIO()
    Image.new("L", (5000, 4000)).save(huge, format="JPEG")
    with pytest.raises(SkipSample) as info:
        jpeg_size(huge.getvalue())
    assert info.value.reason == "image_too_large"


def _mean_abs_diff(a: torch.Tensor, b: torch.Tensor, std) -> float:
    """Mean absolute difference of two normalised images, in 0-255 pixel steps."""
    scale = torch.tensor(std).view(3, 1, 1) * 255
    return ((a - b).abs() * scale).mean().item()


def test_training_crops_match_open_clips_transform(pmc_jpegs):
    """Same seed, same crop: the crop drawn on the header's size and resampled from a
    smaller decode equals open_clip's transform of the full-size image up to resampling
    (a few pixel steps on average, at sharp edges); another seed's crop is far off."""
    transform = image_transform_v2(PreprocessCfg(size=224), is_train=True)
    std = transform.transforms[-1].std
    fast = LoaderTransform(transform)
    assert fast.crop is not None and fast.tail is not None
    other_crops = []
    for index, data in enumerate(_figures() + pmc_jpegs):
        torch.manual_seed(index)
        ours = fast.stack([fast.image(data)])[0]
        after = torch.rand(1)
        full = Image.fromarray(_pillow(data))
        torch.manual_seed(index)
        reference = transform(full)
        assert torch.equal(after, torch.rand(1))  # the same draws from torch's RNG
        assert ours.shape == reference.shape == (3, 224, 224)
        assert _mean_abs_diff(ours, reference, std) < 5.0, index
        torch.manual_seed(index + 1000)
        other_crops.append(_mean_abs_diff(transform(full), reference, std))
    assert max(other_crops) > 10.0  # the check above tells crops apart


def test_evaluation_images_match_open_clips_transform(pmc_jpegs):
    transform = image_transform_v2(PreprocessCfg(size=224), is_train=False)
    std = transform.transforms[-1].std
    fast = LoaderTransform(transform, min_side=EVAL_DECODE_FACTOR * 224)  # as evaluate does
    assert fast.crop is None
    for data in _figures() + pmc_jpegs:
        ours = fast.stack([fast.image(data)])[0]
        reference = transform(Image.fromarray(_pillow(data)))
        assert _mean_abs_diff(ours, reference, std) < 5.0


def test_batch_normalisation_is_open_clips_arithmetic():
    transform = image_transform_v2(PreprocessCfg(size=64), is_train=False)
    fast = LoaderTransform(transform)
    images = [fast.image(data) for data in _figures()]
    expected = torch.stack([transform.transforms[-1](transform.transforms[-2](i)) for i in images])
    assert torch.equal(fast.stack(images), expected)  # bit for bit


def test_other_transforms_run_as_they_are():
    fast = LoaderTransform(lambda image: torch.tensor(image.size))
    image = fast.image(_figures()[0])
    assert fast.crop is None and image.tolist() == [600, 600]
    assert fast.stack([image, image]).shape == (2, 2)
