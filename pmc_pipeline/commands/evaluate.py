"""`pmc-pipeline evaluate`: retrieval recall@1/5/10 of a trained run on a split, and
zero-shot accuracy on an image folder.

    pmc-pipeline evaluate --run RUN_DIR --data OUTPUT --split val
    pmc-pipeline evaluate --run RUN_DIR --zero-shot IMAGE_DIR [--templates FILE]

Prints one JSON object: n, i2t_r1, i2t_r5, i2t_r10, t2i_r1, t2i_r5, t2i_r10 (and split,
skipped) for retrieval; zeroshot_top1, zeroshot_top5, ... for zero-shot.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="a run directory (its export/ is loaded)")
    parser.add_argument("--data", help="a build's OUTPUT, for retrieval on --split")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--zero-shot", metavar="IMAGE_DIR", help="one sub-directory per class")
    parser.add_argument(
        "--class-names", metavar="JSON", help="JSON object: class folder -> class name"
    )
    parser.add_argument(
        "--templates", metavar="FILE", help="prompt templates, one per line, with {} for the class"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2, help="loader processes (retrieval)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")


def run(args: argparse.Namespace) -> int:
    from pmc_pipeline.logs import configure_evaluate_logging

    configure_evaluate_logging()
    if not args.data and not args.zero_shot:
        raise SystemExit("evaluate: give --data (retrieval) and/or --zero-shot IMAGE_DIR")
    export_dir = Path(args.run) / "export"
    if not (export_dir / "open_clip_config.json").is_file():
        raise SystemExit(f"evaluate: {export_dir} holds no export (has training finished?)")
    try:
        result = _evaluate(args, export_dir, args.device)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"evaluate: {exc}") from None
    print(json.dumps(result), flush=True)
    return 0


def _evaluate(args: argparse.Namespace, export_dir: Path, device: str | None) -> dict:
    from pmc_pipeline.train import evaluate

    result: dict = {}
    if args.data:
        result |= evaluate.evaluate_retrieval(
            export_dir,
            args.data,
            args.split,
            batch_size=args.batch_size,
            workers=args.workers,
            device=device,
        )
    if args.zero_shot:
        templates: tuple[str, ...] = evaluate.DEFAULT_TEMPLATES
        if args.templates:
            lines = Path(args.templates).read_text(encoding="utf-8").splitlines()
            templates = tuple(line for line in lines if line.strip())
            if not templates or not all("{}" in t for t in templates):
                raise SystemExit("evaluate: every template needs a {} for the class name")
        class_names = None
        if args.class_names:
            class_names = json.loads(Path(args.class_names).read_text(encoding="utf-8"))
        result |= evaluate.zero_shot(
            export_dir,
            Path(args.zero_shot),
            class_names=class_names,
            templates=templates,
            batch_size=args.batch_size,
            device=device,
        )
    return result
