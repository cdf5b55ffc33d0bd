"""Logging of a build run: the build's set-up is pmc_pipeline.logs.configure_build_logging
(the one place the commands set logging up); here under the name this package uses."""

from __future__ import annotations

from pmc_pipeline.logs import configure_build_logging as configure_logging

__all__ = ["configure_logging"]
