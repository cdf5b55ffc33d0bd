"""`pmc-pipeline train`: train a BiomedCLIP-style model on a build's WebDataset shards.

    pmc-pipeline train --data OUTPUT --model tiny|biomedclip --output RUN_DIR [--steps N]
        [--batch-size B] [--resume] [...]

On several GPUs (or CPU processes), launch it with torchrun; every rank runs the same
command:

    torchrun --nproc_per_node=8 -m pmc_pipeline.cli train --data OUTPUT --output RUN_DIR ...

Prints one JSON object when done: run directory, steps, final loss, skipped samples, export.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pmc_pipeline.train.config import add_arguments as add_train_arguments

    parser.description = (
        "An option not given takes the value the --model preset's recipe carries (shown as "
        "'preset NAME' below), else its default (the BiomedCLIP recipe); RUN_DIR/run.json "
        "records where each value came from."
    )
    add_train_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pmc_pipeline.logs import configure_train_logging
    from pmc_pipeline.train.config import from_args
    from pmc_pipeline.train.loop import train

    rank = int(os.environ.get("RANK", "0"))
    configure_train_logging(rank)
    try:
        result = train(from_args(args))
    except (FileExistsError, ValueError) as exc:  # bad options or data: a message, no trace
        print(f"pmc-pipeline train: {exc}", file=sys.stderr)
        return 2
    if rank == 0:
        summary = {
            "run_dir": str(result.run_dir),
            "step": result.step,
            "total_steps": result.total_steps,
            "loss": result.loss,
            "skipped": result.skipped,
            "export": str(result.export_dir) if result.export_dir else None,
        }
        print(json.dumps(summary), flush=True)
    return 0
