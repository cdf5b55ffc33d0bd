"""Two gloo processes under torchrun train in step, and match one process that sees the same
global batch: rank r reads stream r, as worker r of a single 2-worker process does, and the
gathered loss over 2 x 8 rows equals the accumulated loss over 2 micro-batches of 8."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

torch = pytest.importorskip("torch")
from helpers.torch_threads import one_torch_thread  # noqa: E402, F401

pytest.importorskip("open_clip")

from pmc_pipeline.train import checkpoint as ckpt  # noqa: E402
from pmc_pipeline.train.config import TrainConfig, to_argv  # noqa: E402
from pmc_pipeline.train.loop import train  # noqa: E402
from pmc_pipeline.train.modeling import create_model  # noqa: E402
from pmc_pipeline.train.run import load_run  # noqa: E402
from pmc_pipeline.train.synthetic import synthetic_pairs, write_synthetic_build  # noqa: E402
from pmc_pipeline.train.tokenizer import build_text_tower  # noqa: E402

ARGS = dict(model="tiny", image_size=32, context_length=32, steps=4, batch_size=16, warmup=2)
ARGS |= dict(lr=1e-3, shuffle_buffer=20, patch_dropout=0.0, log_every=1, progress=False)
TINY_TEXT = {"width": 64, "heads": 2, "layers": 2, "mlp_ratio": 2.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_ranks_agree_and_match_one_process(tmp_path):
    from transformers import BertConfig

    build = tmp_path / "build"
    write_synthetic_build(build, {"train": 96}, shard_size=32, image_size=32)
    # Without dropout both set-ups are deterministic functions of the same batches.
    tower = tmp_path / "tower"
    captions = [c for _, _, c in synthetic_pairs(96, seed=0)]
    build_text_tower(tower, captions, {"vocab_size": 500, "context_length": 32} | TINY_TEXT)
    bert = BertConfig.from_pretrained(tower)
    bert.hidden_dropout_prob = bert.attention_probs_dropout_prob = 0.0
    bert.save_pretrained(tower)
    common = dict(data=str(build), text_tower=str(tower), **ARGS)

    ranks_config = TrainConfig(output=str(tmp_path / "ranks"), workers=0, **common)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    launcher += ["--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
    launcher += ["-m", "pmc_pipeline.cli", "train", *to_argv(ranks_config)]
    subprocess.run(launcher, env=env, check=True, timeout=600, cwd=tmp_path)

    single = train(TrainConfig(output=str(tmp_path / "one"), workers=2, accum_freq=2, **common))
    assert single.step == 4

    ranks = ckpt.load_checkpoint(tmp_path / "ranks" / "checkpoints" / "step-00000004.pt")
    one = ckpt.load_checkpoint(tmp_path / "one" / "checkpoints" / "step-00000004.pt")
    digests = ranks["param_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]  # both ranks hold the same weights
    assert ranks["data"]["world_size"] == 2 and len(ranks["data"]["ranks"]) == 2

    run = load_run(tmp_path / "one")
    torch.manual_seed(run.config.seed)
    initial = create_model(run, torch.device("cpu"))[0].state_dict()
    moved = max((one["model"][k] - initial[k]).abs().max().item() for k in initial)
    apart = max((ranks["model"][k] - one["model"][k]).abs().max().item() for k in initial)
    assert moved > 1e-3  # training changed the weights ...
    assert apart < 1e-5  # ... in the same way in both set-ups, up to float rounding
