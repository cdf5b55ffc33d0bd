"""Small JATS documents written for the tests (no third-party text), in the shapes the
parser must handle: classic nxml, OAI-PMH-wrapped JATS in the JATS namespace."""

from __future__ import annotations

JATS_NS = "https://jats.nlm.nih.gov/ns/archiving/1.3/"
NXML_DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange '
    'DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">'
)
_NAMESPACES = (
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:mml="http://www.w3.org/1998/Math/MathML" '
    'xmlns:ali="http://www.niso.org/schemas/ali/1.0/"'
)


def article(
    body: str = "",
    *,
    front: str = "",
    back: str = "",
    floats: str = "",
    after: str = "",
    article_type: str = "research-article",
) -> str:
    """An <article> with the given parts (`after`: sub-articles and the like)."""
    parts = [f"<front>{front}</front>" if front else "<front><article-meta/></front>"]
    parts.append(f"<body>{body}</body>")
    if back:
        parts.append(f"<back>{back}</back>")
    if floats:
        parts.append(f"<floats-group>{floats}</floats-group>")
    parts.append(after)
    return f'<article {_NAMESPACES} article-type="{article_type}">{"".join(parts)}</article>'


def nxml(body: str = "", **parts) -> bytes:
    """A classic PMC .nxml document (DOCTYPE, no namespace)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>' + NXML_DOCTYPE + article(body, **parts)
    ).encode()


def oai_pmh(body: str = "", **parts) -> bytes:
    """The same article as an OAI-PMH GetRecord response: JATS in the default namespace."""
    inner = article(body, **parts).replace("<article ", f'<article xmlns="{JATS_NS}" ', 1)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord><record>'
        f"<metadata>{inner}</metadata></record></GetRecord></OAI-PMH>"
    ).encode()


def fig(
    fig_id: str,
    caption: str = "<p>A caption.</p>",
    *,
    label: str | None = None,
    href: str | None = None,
    graphics: str | None = None,
) -> str:
    """A <fig> with a label, a caption and one graphic (or the given graphics markup)."""
    label_xml = f"<label>{label}</label>" if label else ""
    caption_xml = f"<caption>{caption}</caption>" if caption is not None else ""
    if graphics is None:
        graphics = f'<graphic xlink:href="{href or fig_id + "-image"}"/>'
    return f'<fig id="{fig_id}">{label_xml}{caption_xml}{graphics}</fig>'
