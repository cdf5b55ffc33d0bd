"""JSON Schema pieces with nested fields (a list of objects, an object), for the tests of
what the Arrow schemas, the dataset cards and Croissant make of them."""

from __future__ import annotations

# A panel: an object with a nullable string and a list of numbers.
PANEL = {
    "type": "object",
    "properties": {
        "label": {"type": ["string", "null"], "description": "panel label"},
        "bbox": {"type": "array", "items": {"type": "number"}, "description": "box"},
    },
    "required": ["label", "bbox"],
}

# A nullable object with one boolean field.
COMPOUND = {
    "type": ["object", "null"],
    "description": "whether the figure is compound",
    "properties": {"is_compound": {"type": "boolean", "description": "yes or no"}},
    "required": ["is_compound"],
}
