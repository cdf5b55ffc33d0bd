"""Evaluation of an export: image<->text retrieval on a split, zero-shot classification.

The model is loaded with plain open_clip from RUN_DIR/export (`local-dir:`), so what is
measured is exactly what users of the export get.

Retrieval: for every image, the rank of its own caption among all captions of the split
(i2t), and for every caption the rank of its own image (t2i); recall@k is the fraction with
rank < k. Ties (identical captions, or a collapsed model that embeds everything alike) are
broken at random, in expectation: a collapsed model scores chance, k/n, not 1.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F
from PIL import Image

from pmc_pipeline.train.data import SplitSamples, make_loader
from pmc_pipeline.train.distributed import pick_device
from pmc_pipeline.train.export import CONFIG_NAME, relocate_export
from pmc_pipeline.train.reader import shard_paths

RECALL_AT = (1, 5, 10)
EVAL_DECODE_FACTOR = 2
# BiomedCLIP's zero-shot prompts: its model card uses "this is a photo of {}".
DEFAULT_TEMPLATES = ("this is an image of {}", "this is a photo of {}")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def load_export(export_dir: Path, device: torch.device | str = "cpu"):
    """(model, preprocess, tokenizer) of an export, via open_clip's local-dir loader."""
    config = json.loads((export_dir / CONFIG_NAME).read_text(encoding="utf-8"))
    if Path(config["model_cfg"]["text_cfg"]["hf_model_name"]) != export_dir.resolve():
        relocate_export(export_dir)  # the export was moved: point it at where it is now
    spec = f"local-dir:{export_dir.resolve()}"
    model, _, preprocess = open_clip.create_model_and_transforms(spec, device=device)
    model.eval()
    return model, preprocess, open_clip.get_tokenizer(spec)


def match_ranks(queries: torch.Tensor, keys: torch.Tensor, chunk: int = 1024):
    """For each query i: how many keys score higher than key i, and how many others tie
    with it. Computed in chunks, so memory is chunk x n, not n x n."""
    n = len(queries)
    higher = torch.empty(n, dtype=torch.long)
    ties = torch.empty(n, dtype=torch.long)
    for start in range(0, n, chunk):
        scores = queries[start : start + chunk] @ keys.T
        rows = torch.arange(len(scores))
        own = scores[rows, rows + start][:, None]
        higher[start : start + len(scores)] = (scores > own).sum(dim=1)
        ties[start : start + len(scores)] = (scores == own).sum(dim=1) - 1
    return higher, ties


def recall_at(higher: torch.Tensor, ties: torch.Tensor, k: int) -> float:
    """Recall@k with ties broken uniformly at random, in expectation: the match lands at
    any of the tied places with equal probability."""
    hit = ((k - higher).double() / (ties + 1).double()).clamp(0.0, 1.0)
    return hit.mean().item()


def retrieval_recall(image_emb: torch.Tensor, text_emb: torch.Tensor, ks=RECALL_AT) -> dict:
    """i2t and t2i recall@k of paired embeddings (row i of each is one pair)."""
    if len(image_emb) != len(text_emb):
        raise ValueError("image and text embeddings must pair up row by row")
    result: dict = {"n": len(image_emb)}
    if not len(image_emb):
        return result | {f"{d}_r{k}": None for d in ("i2t", "t2i") for k in ks}
    image_emb = F.normalize(image_emb.float(), dim=-1)
    text_emb = F.normalize(text_emb.float(), dim=-1)
    for direction, (queries, keys) in (
        ("i2t", (image_emb, text_emb)),
        ("t2i", (text_emb, image_emb)),
    ):
        higher, ties = match_ranks(queries, keys)
        for k in ks:
            result[f"{direction}_r{k}"] = recall_at(higher, ties, k)
    return result


@torch.no_grad()
def embed_split(
    model,
    preprocess,
    tokenizer,
    data: str,
    split: str,
    *,
    batch_size: int = 256,
    workers: int = 2,
    device="cpu",
):
    """Image and text embeddings of every decodable pair of a split, plus skip counts."""
    shards = shard_paths(data, split)
    if not shards:
        raise ValueError(f"no shards for split {split!r} under {data}/webdataset/{split}")
    size = model.visual.image_size
    size = max(size) if isinstance(size, (list, tuple)) else size
    dataset = SplitSamples(
        data,
        shards,
        transform=preprocess,
        tokenizer=tokenizer,
        batch_size=batch_size,
        # JPEGs decoded at twice the model's side at least: the resize to the model's side
        # then does the rest, as open_clip's preprocess of the full image would
        min_side=EVAL_DECODE_FACTOR * size,
    )
    images: list[torch.Tensor] = []
    texts: list[torch.Tensor] = []
    skipped: Counter = Counter()
    for batch in make_loader(dataset, min(workers, len(shards)), seed=0, pin_memory=False):
        skipped.update(batch.skipped)
        if len(batch):
            images.append(model.encode_image(batch.images.to(device), normalize=True).cpu())
            texts.append(model.encode_text(batch.texts.to(device), normalize=True).cpu())
    if not images:
        return torch.empty(0), torch.empty(0), dict(skipped)
    return torch.cat(images), torch.cat(texts), dict(skipped)


def evaluate_retrieval(
    export_dir: Path,
    data: str,
    split: str,
    *,
    batch_size: int = 256,
    workers: int = 2,
    device: str | None = None,
) -> dict:
    """Recall@k of the export on a split; `device` cpu or cuda (default: cuda if available)."""
    chosen = pick_device(device)
    model, preprocess, tokenizer = load_export(export_dir, chosen)
    image_emb, text_emb, skipped = embed_split(
        model,
        preprocess,
        tokenizer,
        data,
        split,
        batch_size=batch_size,
        workers=workers,
        device=chosen,
    )
    return {
        "split": split,
        **retrieval_recall(image_emb, text_emb),
        "skipped": sum(skipped.values()),
    }


def image_folder(root: Path) -> list[tuple[Path, int, str]]:
    """(image path, class index, class folder) of an ImageFolder-style directory:
    one sub-directory per class, sorted by name."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{root} has no class sub-directories")
    items = []
    for index, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                items.append((path, index, name))
    return items


@torch.no_grad()
def zero_shot(
    export_dir: Path,
    image_dir: Path,
    *,
    class_names: dict[str, str] | None = None,
    templates=DEFAULT_TEMPLATES,
    batch_size: int = 64,
    device: str | None = None,
) -> dict:
    """Top-1 / top-5 accuracy of zero-shot classification on an image folder. A class's
    text embedding is the mean of its prompts' embeddings (prompt ensembling); class names
    default to the folder names with underscores as spaces. `device` as evaluate_retrieval."""
    chosen = pick_device(device)
    model, preprocess, tokenizer = load_export(export_dir, chosen)
    items = image_folder(image_dir)
    folders = sorted({name for _, _, name in items})
    names = [(class_names or {}).get(f, f.replace("_", " ")) for f in folders]
    class_emb = []
    for name in names:
        prompts = tokenizer([t.format(name) for t in templates]).to(chosen)
        emb = model.encode_text(prompts, normalize=True).mean(dim=0)
        class_emb.append(F.normalize(emb, dim=-1))
    classifier = torch.stack(class_emb)
    correct1 = correct5 = 0
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        pixels = []
        for path, _, _ in chunk:
            with Image.open(path) as image:
                pixels.append(preprocess(image.convert("RGB")))
        logits = model.encode_image(torch.stack(pixels).to(chosen), normalize=True) @ classifier.T
        top = logits.topk(min(5, len(names)), dim=-1).indices.cpu()
        labels = torch.tensor([label for _, label, _ in chunk])
        correct1 += (top[:, 0] == labels).sum().item()
        correct5 += (top == labels[:, None]).any(dim=1).sum().item()
    n = len(items)
    logging.getLogger(__name__).info("zero-shot on %d images of %d classes", n, len(names))
    return {
        "zeroshot_n": n,
        "zeroshot_classes": len(names),
        "zeroshot_top1": correct1 / n if n else None,
        "zeroshot_top5": correct5 / n if n else None,
    }
