"""Small helpers to write JATS markup as text: escaping and element strings.

The synthetic articles are written as strings (fast, and the markup reads like the JATS it
produces) and then parsed once with lxml, which proves them well-formed. Text only ever
goes through `esc`, which writes the five XML escapes and nothing else: no named entities
such as &nbsp;, which XML without a DTD does not define.
"""

from __future__ import annotations

from collections.abc import Mapping


def esc(text: str) -> str:
    """Text escaped for element content and attribute values."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def attrs(values: Mapping[str, object] | None) -> str:
    """' name="value" ...' for the values that are not None, in the given order."""
    if not values:
        return ""
    return "".join(
        f' {name}="{esc(str(value))}"' for name, value in values.items() if value is not None
    )


def tag(name: str, inner: str = "", values: Mapping[str, object] | None = None) -> str:
    """<name ...>inner</name>, or <name .../> when there is no content. `inner` is markup."""
    if inner:
        return f"<{name}{attrs(values)}>{inner}</{name}>"
    return f"<{name}{attrs(values)}/>"


def italic(text: str) -> str:
    return tag("italic", esc(text))


def bold(text: str) -> str:
    return tag("bold", esc(text))


def xref(ref_type: str, rids: str, text: str) -> str:
    return tag("xref", esc(text), {"ref-type": ref_type, "rid": rids})


def inline_p_value(threshold: str = "0.05") -> str:
    """An inline MathML 'p < threshold', as publishers mark up statistics in captions."""
    return tag(
        "inline-formula",
        tag(
            "mml:math",
            tag("mml:mi", "p") + tag("mml:mo", esc("<")) + tag("mml:mn", esc(threshold)),
        ),
    )
