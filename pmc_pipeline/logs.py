"""How the `pmc-pipeline` commands set up logging, in one place.

The library only logs (each module through `logging.getLogger(__name__)`) and never
configures logging: what is shown, in which format, and which third-party lines are noise
is decided here, by the command that runs (pmc_pipeline/commands/). No Beam or torch import
here, so a command can set logging up before importing either.
"""

from __future__ import annotations

import logging
import os


class _DropRecords(logging.Filter):
    """Drops records that are noise in a command's output: by the start of their message,
    or, below `below`, by the package whose code logged them."""

    def __init__(self, *, messages: tuple[str, ...] = (), package: str = "", below: int = 0):
        super().__init__()
        self.messages = messages
        self.package = f"{os.sep}{package}{os.sep}" if package else ""
        self.below = below

    def filter(self, record: logging.LogRecord) -> bool:
        if self.messages and record.getMessage().startswith(self.messages):
            return False
        return not (
            self.package and record.levelno < self.below and self.package in record.pathname
        )


def configure_build_logging() -> None:
    """`pmc-pipeline build`: our progress lines (one per phase step) on stderr at INFO with
    the time; everything else at WARNING. Beam warns at import time that Google's apitools
    is missing, though nothing here uses it: that line is dropped. Worker processes of a
    multi-processing run relay their log lines at WARNING through Beam's local job service:
    only its errors are kept. A local Dask cluster's scheduler runs in this process: its
    INFO lines are noise here."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropRecords(messages=("apitools not found",)))
    ours = logging.getLogger("pmc_pipeline")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_train_logging(rank: int) -> None:
    """`pmc-pipeline train`: INFO on rank 0, WARNING on the others, each line naming its rank.
    open_clip logs through the root logger while it creates the model (the spec it reads,
    'no CLIP weights found': expected for a model being trained): below ERROR, its lines are
    dropped."""
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING,
        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropRecords(package="open_clip", below=logging.ERROR))


def configure_evaluate_logging() -> None:
    """`pmc-pipeline evaluate`: warnings and errors only (the result is the JSON on stdout)."""
    logging.basicConfig(level=logging.WARNING)
