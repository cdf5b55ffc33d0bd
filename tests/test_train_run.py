"""Training runs end to end on a synthetic build: the loss falls, resume is exact, the export
loads with plain open_clip, evaluate reports recall far above chance."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

torch = pytest.importorskip("torch")
from helpers.torch_threads import one_torch_thread  # noqa: E402, F401

pytest.importorskip("open_clip")

from pmc_pipeline import cli  # noqa: E402
from pmc_pipeline.train import checkpoint as ckpt  # noqa: E402
from pmc_pipeline.train.config import TrainConfig  # noqa: E402
from pmc_pipeline.train.evaluate import load_export, zero_shot  # noqa: E402
from pmc_pipeline.train.logs import read_log  # noqa: E402
from pmc_pipeline.train.loop import train  # noqa: E402
from pmc_pipeline.train.modeling import WarmupCosine, create_model  # noqa: E402
from pmc_pipeline.train.run import create_run, load_run  # noqa: E402
from pmc_pipeline.train.synthetic import COLOURS, draw_figure, write_synthetic_build  # noqa: E402

BATCH = 32
FAST = ["--model", "tiny", "--image-size", "32", "--context-length", "32", "--no-progress"]


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("build")
    write_synthetic_build(root, {"train": 160, "val": 64}, shard_size=64, image_size=48)
    return root


@pytest.fixture(scope="module")
def trained(build, tmp_path_factory):
    """A tiny model trained through the command line for 60 steps."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    argv = ["train", "--data", str(build), "--output", str(run_dir), *FAST]
    argv += ["--steps", "60", "--batch-size", str(BATCH), "--lr", "1e-3", "--warmup", "10"]
    argv += ["--workers", "0", "--save-every", "30", "--log-every", "5", "--no-grad-checkpointing"]
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(argv) == 0
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    return run_dir, summary


def test_a_short_run_lowers_the_loss(trained):
    run_dir, summary = trained
    assert summary["step"] == summary["total_steps"] == 60
    assert summary["export"] == str(run_dir / "export")
    losses = [r["loss"] for r in read_log(run_dir / "log.jsonl")]
    assert len(losses) == 12
    assert losses[0] == pytest.approx(math.log(BATCH), abs=0.25)  # chance at the start
    assert sum(losses[-3:]) / 3 < losses[0] - 1.0
    checkpoints = ckpt.list_checkpoints(run_dir / "checkpoints")
    assert [p.name for p in checkpoints] == ["step-00000030.pt", "step-00000060.pt"]


def _evaluate(run_dir, build, split, capsys):
    argv = ["evaluate", "--run", str(run_dir), "--data", str(build), "--split", split]
    assert cli.main([*argv, "--workers", "0"]) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_reports_train_recall_far_above_chance(trained, build, capsys):
    run_dir, _ = trained
    result = _evaluate(run_dir, build, "train", capsys)
    assert set(result) >= {"n", "i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10"}
    assert result["n"] == 160 and result["skipped"] == 0
    chance = 10 / result["n"]
    assert result["i2t_r10"] > 4 * chance and result["t2i_r10"] > 4 * chance
    assert result["i2t_r1"] <= result["i2t_r5"] <= result["i2t_r10"] <= 1.0


def test_zero_shot_names_the_colour(trained, tmp_path):
    run_dir, _ = trained
    colours = ["red", "blue", "yellow", "black"]
    for colour in colours:
        (tmp_path / colour).mkdir()
        for i, (shape, place) in enumerate([("circle", "upper left"), ("square", "lower right")]):
            draw_figure(colour, shape, place, 48).save(tmp_path / colour / f"{i}.png")
    result = zero_shot(
        run_dir / "export",
        tmp_path,
        templates=("A {} circle in the upper left corner of the panel.",),
    )
    assert result["zeroshot_n"] == 8 and result["zeroshot_classes"] == 4
    assert result["zeroshot_top1"] > 1 / len(colours)  # chance
    assert result["zeroshot_top5"] == 1.0  # 4 classes: always within the top 5
    assert set(colours) <= set(COLOURS)


EXPORT_CHECK = """
import json, sys, torch, open_clip
model, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + sys.argv[1])
tokenizer = open_clip.get_tokenizer("local-dir:" + sys.argv[1])
model.eval()
images = torch.load(sys.argv[2])
with torch.no_grad():
    out = {"image": model.encode_image(images), "text": model.encode_text(tokenizer(
        ["A red circle in the upper left corner of the panel.", "a blue cross"]))}
torch.save(out, sys.argv[3])
assert not any(m.startswith("pmc_pipeline") for m in sys.modules), "used pmc_pipeline"
"""


@pytest.mark.slow
def test_export_loads_with_plain_open_clip_and_gives_the_same_embeddings(trained, tmp_path):
    run_dir, _ = trained
    images = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    torch.save(images, tmp_path / "images.pt")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, "-c", EXPORT_CHECK, str(run_dir / "export"), "images.pt", "out.pt"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=300,
    )
    plain = torch.load(tmp_path / "out.pt")
    # the same weights through our own model construction, from the final checkpoint
    run = load_run(run_dir)
    model, _, _ = create_model(run, torch.device("cpu"))
    model.load_state_dict(ckpt.load_checkpoint(run.checkpoint_dir / "step-00000060.pt")["model"])
    model.eval()
    tokenizer = load_export(run_dir / "export")[2]
    with torch.no_grad():
        ours_image = model.encode_image(images)
        ours_text = model.encode_text(
            tokenizer(["A red circle in the upper left corner of the panel.", "a blue cross"])
        )
    assert torch.allclose(plain["image"], ours_image, atol=1e-5)
    assert torch.allclose(plain["text"], ours_text, atol=1e-5)


def test_a_moved_export_still_loads(trained, tmp_path):
    run_dir, _ = trained
    moved = tmp_path / "elsewhere" / "export"
    shutil.copytree(run_dir / "export", moved)
    model, preprocess, tokenizer = load_export(moved)
    config = json.loads((moved / "open_clip_config.json").read_text())
    assert config["model_cfg"]["text_cfg"]["hf_model_name"] == str(moved.resolve())
    assert model.encode_text(tokenizer(["a red circle"])).shape == (1, 64)


def test_an_existing_run_is_not_overwritten(trained, build):
    run_dir, _ = trained
    config = TrainConfig(data=str(build), output=str(run_dir), model="tiny", steps=1)
    with pytest.raises(FileExistsError, match="--resume"):
        train(config)


def _config(build, output, tower, **overrides) -> TrainConfig:
    values = dict(
        data=str(build),
        output=str(output),
        model="tiny",
        text_tower=str(tower),
        image_size=32,
        context_length=32,
        steps=6,
        batch_size=16,
        warmup=2,
        lr=1e-3,
        workers=2,
        patch_dropout=0.25,
        precision="bf16",
        shuffle_buffer=30,
        log_every=1,
        save_every=100,
        progress=False,
    )
    return TrainConfig(**(values | overrides))


@pytest.mark.slow
def test_resume_after_a_stop_reaches_the_same_parameters(trained, build, tmp_path):
    """Stop at step 3 of 6 (an odd number of batches: the worker round-robin must continue
    with the right stream), resume, and compare with a run that never stopped. bf16
    autocast, dropout, patch dropout and gradient checkpointing are all on."""
    tower = trained[0] / "text_tower"  # one vocabulary for both runs
    straight = train(_config(build, tmp_path / "straight", tower))
    stopped = train(_config(build, tmp_path / "stopped", tower, stop_at_step=3))
    assert stopped.step == 3 and stopped.export_dir is None
    resumed = train(_config(build, tmp_path / "stopped", tower, resume=True))
    assert straight.step == resumed.step == 6
    a = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "straight" / "checkpoints"))
    b = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "stopped" / "checkpoints"))
    assert a["model"].keys() == b["model"].keys()
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert a["data"] == b["data"]
    assert a["scheduler"] == b["scheduler"]
    moved = ckpt.load_checkpoint(tmp_path / "stopped" / "checkpoints" / "step-00000003.pt")
    assert any(not torch.equal(moved["model"][n], b["model"][n]) for n in b["model"])
    steps = [r["step"] for r in read_log(tmp_path / "stopped" / "log.jsonl")]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_a_pretrained_text_tower_is_loaded(trained, build, tmp_path):
    from transformers import BertConfig, BertModel

    tower = tmp_path / "pubmedbert"
    shutil.copytree(trained[0] / "text_tower", tower)
    bert = BertModel(BertConfig.from_pretrained(tower), add_pooling_layer=False)
    bert.save_pretrained(tower)
    run = create_run(_config(build, tmp_path / "run", tower))
    assert run.text_pretrained
    model, _, _ = create_model(run, torch.device("cpu"))
    loaded = model.text.transformer.state_dict()
    for name, value in bert.state_dict().items():
        assert torch.equal(loaded[name], value), name


def test_the_recipe_defaults():
    config = TrainConfig(data="d", output="o")
    assert (config.model, config.batch_size, config.lr, config.warmup) == (
        "biomedclip",
        4096,
        5e-4,
        2000,
    )
    assert (config.beta1, config.beta2, config.eps, config.weight_decay) == (0.9, 0.98, 1e-6, 0.2)
    assert config.grad_checkpointing and config.precision == "auto"
    schedule = WarmupCosine(warmup=10, total=110)
    assert schedule(0) == pytest.approx(0.1) and schedule(9) == pytest.approx(1.0)
    assert schedule(60) == pytest.approx(0.5) and schedule(110) == pytest.approx(0.0)


def test_the_command_line_maps_onto_the_config():
    import argparse

    from pmc_pipeline.train.config import add_arguments, from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--data", "D", "--output", "O", "--model", "tiny", "--steps", "7", "--crop-scale"]
        + ["0.5", "1", "--no-grad-checkpointing", "--precision", "bf16", "--resume"]
    )
    config = from_args(args)
    assert (config.data, config.output, config.model, config.steps) == ("D", "O", "tiny", 7)
    assert config.crop_scale == (0.5, 1.0) and not config.grad_checkpointing
    assert config.precision == "bf16" and config.resume
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "D", "--output", "O", "--precision", "fp16"])
    with pytest.raises(ValueError):
        TrainConfig(data="D", output="O", crop_scale=(0.0, 1.0))


@pytest.mark.slow
def test_the_biomedclip_config_builds_the_paper_shape(build, tmp_path):
    config = TrainConfig(data=str(build), output=str(tmp_path / "run"), model="biomedclip")
    run = create_run(config)
    model, train_transform, _ = create_model(run, torch.device("cpu"))
    assert type(model.visual.trunk).__name__ == "VisionTransformer"  # timm ViT-B/16
    assert model.visual.image_size == (224, 224)
    bert = model.text.transformer.config
    assert (bert.hidden_size, bert.num_hidden_layers, bert.num_attention_heads) == (768, 12, 12)
    assert run.context_length == 256 and model.logit_scale.numel() == 1
    assert model.text.proj[-1].out_features == 512  # embedding 512
    assert "RandomResizedCrop" in str(train_transform)


def test_command_line_errors_are_messages(trained, build, capsys):
    run_dir, _ = trained
    with pytest.raises(SystemExit, match="no shards for split 'test'"):
        cli.main(["evaluate", "--run", str(run_dir), "--data", str(build), "--split", "test"])
    argv = ["train", "--data", str(build), "--output", str(run_dir), "--model", "tiny"]
    assert cli.main(argv) == 2
    assert "already holds a run" in capsys.readouterr().err


def _write_spec_many_times(path: str, start, value: int) -> None:
    from pmc_pipeline.train.run import write_json_atomic

    start.wait()  # both processes imported: write at the same time
    for _ in range(2000):
        write_json_atomic(Path(path), {"model_cfg": value})


@pytest.mark.slow
def test_ranks_writing_the_same_json_at_once_do_not_collide(tmp_path):
    # Every rank writes RUN_DIR/model/open_clip_config.json as it builds the model; with
    # one shared temporary name, one rank's rename could take the other's file away.
    import multiprocessing

    target = tmp_path / "open_clip_config.json"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [
        context.Process(target=_write_spec_many_times, args=(str(target), start, 1)) for _ in "ab"
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [writer.exitcode for writer in writers] == [0, 0]
    assert json.loads(target.read_text()) == {"model_cfg": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["open_clip_config.json"]


def test_a_batch_larger_than_the_train_split_is_refused(build, tmp_path, capsys):
    """The BiomedCLIP recipe's batch of 4,096 on 160 pairs: every pair would sit in each
    batch about 25 times. Refused before anything is written, with both numbers."""
    run_dir = tmp_path / "run"
    argv = ["train", "--data", str(build), "--output", str(run_dir), "--no-progress"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--batch-size 4096 is larger than the train split" in err and "160 pairs" in err
    assert "--batch-size 160 or less" in err
    assert not run_dir.exists()


def test_loader_workers_shrink_to_what_the_data_can_fill(build, caplog):
    from pmc_pipeline.train.distributed import World
    from pmc_pipeline.train.loop import plan_epochs, report_plan

    world = World(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    config = TrainConfig(data=str(build), output="unused", model="tiny")  # batch 64 (preset)
    # 160 pairs: 4 streams would get about 40 each, short of a batch of 64; 2 get 80
    plan, workers = plan_epochs(config, world, 4, auto=True)
    assert workers == 2 and plan.streams == 2 and plan.batches_per_epoch == 1
    report_plan(plan, workers, 4)
    assert "2 loader workers instead of 4" in caplog.text
    with pytest.raises(ValueError, match="give fewer --workers or a smaller --batch-size"):
        plan_epochs(config, world, 4, auto=False)


def test_the_preset_recipe_fills_the_options_not_given(build, tmp_path, caplog):
    """`tiny` carries its recipe (batch 64, lr 1e-3, warmup 30, no gradient checkpointing);
    a given option wins; run.json says where each value came from; a resumed run keeps the
    saved values of the options it is not given."""
    run_dir = tmp_path / "run"
    small = dict(image_size=32, context_length=32, workers=0, progress=False)
    caplog.set_level("INFO")
    first = train(
        TrainConfig(data=str(build), output=str(run_dir), model="tiny", steps=2, lr=2e-3, **small)
    )
    assert first.step == 2
    assert "--warmup 30 is longer than the run's 2 steps" in caplog.text
    saved = json.loads((run_dir / "run.json").read_text())
    assert saved["config"]["batch_size"] == 64 and saved["sources"]["batch_size"] == "preset tiny"
    assert saved["config"]["warmup"] == 30 and saved["sources"]["warmup"] == "preset tiny"
    assert saved["config"]["grad_checkpointing"] is False
    assert saved["config"]["lr"] == 2e-3 and saved["sources"]["lr"] == "given"
    assert saved["sources"]["epochs"] == "default" and "recipe" not in saved["model_cfg"]

    resumed = train(
        TrainConfig(data=str(build), output=str(run_dir), steps=3, resume=True, **small)
    )
    assert resumed.step == 3
    saved = json.loads((run_dir / "run.json").read_text())
    assert saved["config"]["model"] == "tiny" and saved["config"]["batch_size"] == 64
    assert saved["config"]["lr"] == 2e-3 and saved["sources"]["lr"] == "given"
    assert saved["config"]["steps"] == 3
