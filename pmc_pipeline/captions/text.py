"""Caption text as the analysis reads it: whitespace runs collapsed to one space."""

from __future__ import annotations


def collapse_spaces(text: str) -> str:
    """Every run of whitespace (any Unicode space) as one space, the ends stripped.

    A caption from parse_article is collapsed already, and is then only checked, in
    compiled code: a printable string (str.isprintable) holds no whitespace but the plain
    space, as every other space is a separator or control character in Unicode."""
    if "  " not in text and text.isprintable():
        return text.strip()
    return " ".join(text.split())
