"""open_clip's own training program (open_clip_train) trains on a build's shards as they are,
with the project's dependencies and no patch: the command docs/training.md shows, with the
number of samples read from the build's webdataset/train/sizes.json."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("open_clip_train")

from beam_jobs import build_dataset  # noqa: E402
from pmc_pipeline.mirror import write_mirror  # noqa: E402

pytestmark = pytest.mark.slow

# A small model in open_clip's own config format: ViT image tower, open_clip's transformer
# text tower with its bundled BPE tokenizer (nothing is downloaded).
TINY_OPEN_CLIP = {
    "model_cfg": {
        "embed_dim": 32,
        "vision_cfg": {
            "image_size": 64,
            "layers": 2,
            "width": 64,
            "head_width": 32,
            "patch_size": 16,
        },
        "text_cfg": {
            "context_length": 32,
            "vocab_size": 49408,
            "width": 64,
            "heads": 2,
            "layers": 2,
        },
    },
    "preprocess_cfg": {},
}


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """A build of a small synthetic mirror, as `make sample` makes (fewer articles)."""
    root = tmp_path_factory.mktemp("open_clip_train")
    mirror, out = root / "mirror", root / "output"
    write_mirror(mirror, "cloud", 24, 5, pdf_scale=0.02, supplement_scale=0.1, workers=1)
    argv = ["--layout", "cloud", "--root", str(mirror), "--output", str(out)]
    argv += ["--chunk-size", "8", "--shard-size", "20", "--split", "train=0.8,val=0.1,test=0.1"]
    assert build_dataset.run(argv) == 0
    return out


def test_open_clip_train_trains_two_steps_on_the_sample_shards(sample_build, tmp_path):
    train_dir = sample_build / "webdataset" / "train"
    sizes = json.loads((train_dir / "sizes.json").read_text())
    shards = sorted(train_dir.glob("train-*.tar"))
    assert len(shards) >= 2 and sorted(sizes) == [p.name for p in shards]
    samples = sum(sizes.values())
    batch = math.ceil(samples / 2)  # one epoch of two steps

    model_dir, logs = tmp_path / "model", tmp_path / "logs"
    model_dir.mkdir()
    (model_dir / "open_clip_config.json").write_text(json.dumps(TINY_OPEN_CLIP))
    # The brace pattern docs/training.md shows; no --train-num-samples: sizes.json has it.
    pattern = f"{train_dir}/train-{{000000..{len(shards) - 1:06d}}}.tar"
    cmd = [sys.executable, "-m", "open_clip_train.main", "--train-data", pattern]
    cmd += ["--dataset-type", "webdataset", "--batch-size", str(batch), "--epochs", "1"]
    cmd += ["--workers", "1", "--model", f"local-dir:{model_dir}", "--device", "cpu"]
    cmd += ["--precision", "fp32", "--lr", "1e-3", "--warmup", "1", "--seed", "0"]
    cmd += ["--logs", str(logs), "--name", "run", "--save-frequency", "1", "--report-to", ""]
    cmd += ["--log-every-n-steps", "1"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    log = (logs / "run" / "out.log").read_text()
    assert "Handling webdataset error" not in log
    # One progress line per step: "Train Epoch: 0 [seen/total (pct%)] ... Contrastive_loss"
    progress = re.findall(r"Train Epoch: 0 \[\s*(\d+)/(\d+) .*Contrastive_loss: ([0-9.]+)", log)
    assert len(progress) == 2, log[-3000:]
    assert int(progress[-1][0]) == int(progress[-1][1]) == 2 * batch  # the epoch from sizes.json
    assert all(math.isfinite(float(loss)) for _, _, loss in progress)
    assert (logs / "run" / "checkpoints" / "epoch_1.pt").stat().st_size > 0
