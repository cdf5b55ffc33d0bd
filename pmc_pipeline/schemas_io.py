"""Access to the JSON Schemas in schemas/ (installed as the package pmc_pipeline.schemas)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent / "schemas"


@cache
def load_schema(name: str) -> dict:
    """The JSON Schema `schemas/<name>.schema.json` as a dict."""
    filename = f"{name}.schema.json"
    if (_SOURCE_TREE / filename).is_file():  # a source checkout or editable install
        return json.loads((_SOURCE_TREE / filename).read_text(encoding="utf-8"))
    return json.loads(resources.files("pmc_pipeline.schemas").joinpath(filename).read_text("utf-8"))
