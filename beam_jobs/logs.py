"""Logging of a build run (no Beam import here, so it can be set up before Beam is imported)."""

from __future__ import annotations

import logging


class _DropNoise(logging.Filter):
    """Beam warns at import time that Google's apitools is missing, though nothing here
    uses it; that line is noise in every local run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("apitools not found")


def configure_logging() -> None:
    """Our progress lines (one per staged chunk) on stderr at INFO; everything else at
    WARNING. Worker processes of a multi-processing run relay their log lines at WARNING
    through Beam's local job service: only its errors are kept."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropNoise())
    ours = logging.getLogger("pmc_pipeline")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    # A local Dask cluster's scheduler runs in this process: its INFO lines are noise here.
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(logging.WARNING)
