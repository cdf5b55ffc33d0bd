"""The card's page: one static index.html, readable from disk with no network and no script.

Every piece of text that comes from the build (captions, titles, journals, keys, reasons,
option values) is untrusted and goes through `_e` (html.escape, quotes included). Every
count comes from stats.json; the charts' tables come from the Parquet tables (charts.py).
Links to PMC are plain <a> elements: the page itself loads only its own relative images.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from pmc_pipeline.captions import FIGURE_TYPES
from pmc_pipeline.captions.taxonomy import DESCRIPTIONS as TYPE_DESCRIPTIONS
from pmc_pipeline.model import ArticleStatus, FigureStatus
from pmc_pipeline.report.charts import Chart
from pmc_pipeline.report.clusters import ClusterSummary, phash_distance
from pmc_pipeline.report.style import CSS

PMC_ARTICLE_URL = "https://pmc.ncbi.nlm.nih.gov/articles/{}/"
_PMCID = re.compile(r"^PMC[0-9]+$")

ARTICLE_STATUS_TEXT: dict[str, str] = {
    ArticleStatus.OK: "fetched and parsed; its figures are counted below",
    ArticleStatus.NO_FIGURES: "parsed, but no figure with a graphic",
    ArticleStatus.EXCLUDED: "a selection rule: retracted, not open access, licence, type",
    ArticleStatus.FETCH_FAILED: "store or network error after bounded retries",
    ArticleStatus.PARSE_FAILED: "XML that cannot be read as a JATS article",
    ArticleStatus.UNSAFE: "refused: path traversal, bomb, oversize, entity expansion",
    ArticleStatus.REMOVED: "taken down at assemble time (takedown list)",
}
FIGURE_STATUS_TEXT: dict[str, str] = {
    FigureStatus.KEPT: "published as a figure-caption pair",
    FigureStatus.FILTERED: "a keep/drop rule: caption length, image size or shape, tables",
    FigureStatus.IMAGE_FAILED: "no image file, or an unreadable or unsafe image",
    FigureStatus.DUPLICATE: "the same decoded pixels as a kept figure",
    FigureStatus.NEAR_DUPLICATE: "perceptual hash within the threshold of a kept figure",
    FigureStatus.CONTAMINATED: "matches the decontamination list",
    FigureStatus.REMOVED: "its article was taken down",
}


@dataclass(frozen=True)
class Page:
    """Everything the page shows; paths are relative to the card folder."""

    source: str  # the OUTPUT the card describes
    stats: Mapping
    charts: Sequence[tuple[Chart, str]]  # (chart, its PNG)
    gallery: Mapping[str, Sequence[Mapping]]  # split -> sampled pair rows
    type_gallery: Mapping[str, Sequence[Mapping]]  # figure type -> sampled pair rows
    clusters: ClusterSummary
    images: Mapping[str, str]  # figure key -> thumbnail
    missing: Mapping[str, str]  # figure key -> why it has no thumbnail
    staging: bool  # whether staging chunks (images of removed figures) were found


def render(page: Page) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may load from the network, whatever a caption contains. 'file:' as well as
        # 'self': browsers differ on whether a file: page's 'self' covers its folder.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src 'self' file:; style-src 'unsafe-inline'\">",
        f"<title>Data card: {_e(page.source)}</title>",
        f"<style>{CSS}</style></head><body>",
        _header(page),
        _nav(),
        '<main class="wrap">',
        _overview(page.stats),
        _funnel(page.stats),
        _charts(page.charts),
        _gallery(page),
        _type_gallery(page),
        _clusters(page),
        _options(page.stats.get("options", {})),
        "</main>",
        '<footer class="wrap">Made by <code>pmc-pipeline report</code>: counts from '
        "<code>stats.json</code>, charts and samples from the Parquet tables and shards. "
        "How to read it: <code>docs/report.md</code>.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# --- header and overview ---------------------------------------------------------------------


def _header(page: Page) -> str:
    options = page.stats.get("options", {})
    identity = page.stats.get("identity", {})
    badge = (
        '<span class="badge ok">accounting identity holds</span>'
        if identity.get("holds")
        else '<span class="badge bad">accounting identity BROKEN</span>'
    )
    return (
        '<header class="top"><div class="wrap">'
        "<h1>PMC figure–caption dataset: data card</h1>"
        f"<p>Build <code>{_e(page.source)}</code> of <code>{_e(options.get('root'))}</code> "
        f"({_e(options.get('layout'))} layout) {badge}</p>"
        "</div></header>"
    )


def _nav() -> str:
    links = [
        ("overview", "Overview"),
        ("funnel", "Funnel"),
        ("charts", "Distributions"),
        ("gallery", "Gallery"),
        ("figure-types", "Figure types"),
        ("duplicates", "Duplicates removed"),
        ("options", "Build options"),
    ]
    items = "".join(f'<a href="#{anchor}">{text}</a>' for anchor, text in links)
    return f'<nav><div class="wrap">{items}</div></nav>'


def _overview(stats: Mapping) -> str:
    tiles = [
        ("articles.listed", stats["articles"]["listed"], "articles listed"),
        ("figures.seen", stats["figures"]["seen"], "figures seen"),
        ("pairs", stats["pairs"], "pairs kept"),
    ]
    tiles += [
        (f"pairs_per_split.{split}", n, f"{split} pairs")
        for split, n in _by_count(stats["pairs_per_split"])
    ]
    tiles.append(("shards", sum(len(s) for s in stats["shards"].values()), "shards"))
    cells = "".join(
        f'<div class="stat" data-stat="{_e(name)}"><span class="n">{_n(n)}</span>'
        f'<span class="what">{_e(what)}</span></div>'
        for name, n, what in tiles
    )
    problems = stats.get("identity", {}).get("problems") or []
    broken = "".join(f"<li>{_e(p)}</li>" for p in problems)
    return _section(
        "overview",
        "Overview",
        '<p class="lead">What this build published, counted by the build itself '
        "(<code>stats.json</code>).</p>"
        f'<div class="tiles">{cells}</div>'
        + (f'<ul class="problems">{broken}</ul>' if broken else ""),
    )


def _section(section_id: str, title: str, body: str) -> str:
    """One section of the card: <section id=...> with its <h2> title, then `body`."""
    return f'<section id="{section_id}"><h2>{title}</h2>{body}</section>'


# --- funnel --------------------------------------------------------------------------------------


def _funnel(stats: Mapping) -> str:
    articles, figures = stats["articles"], stats["figures"]
    rows = [
        _stage_row("articles", "Articles listed", articles["listed"]),
        *_status_rows(
            "articles", articles, articles["listed"], tuple(ArticleStatus), ARTICLE_STATUS_TEXT
        ),
        _stage_row("figures", "Figures seen (in articles with status ok)", figures["seen"]),
        *_status_rows("figures", figures, figures["seen"], tuple(FigureStatus), FIGURE_STATUS_TEXT),
        _stage_row("pairs", "Pairs published", stats["pairs"]),
    ]
    for split, n in _by_count(stats["pairs_per_split"]):
        shards = len(stats["shards"].get(split, []))
        text = f"{shards} shard{'s' if shards != 1 else ''}"
        rows.append(
            _row(
                "status split",
                {"stage": "pairs", "split": split},
                _e(split) + f'<span class="desc">{text}</span>',
                n,
                stats["pairs"],
            )
        )
    return _section(
        "funnel",
        "Funnel",
        '<p class="lead">From every article listed to the pairs kept. Each article ends with '
        "exactly one status and each figure seen with exactly one; the reason names the rule "
        "that dropped it (<code>docs/filters.md</code> lists them all).</p>"
        '<table class="funnel"><thead><tr><th>stage / status / reason</th><th>count</th>'
        "<th>share of stage</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>",
    )


def _status_rows(
    stage: str, block: Mapping, total: int, known: Sequence[str], texts: Mapping[str, str]
) -> list[str]:
    """A row per status (every known one, zeros included, so that a reader sees what did
    not happen too; then any status this code does not know), each followed by its reasons."""
    by_status, by_reason = block["by_status"], block.get("by_reason", {})
    statuses = list(known) + sorted(set(by_status) - set(known))
    rows = []
    for status in statuses:
        n = by_status.get(status, 0)
        label = _e(status) + f'<span class="desc">{_e(texts.get(status, ""))}</span>'
        attrs = {"stage": stage, "status": status}
        rows.append(
            _row(f"status {_e(status)}" + (" zero" if not n else ""), attrs, label, n, total)
        )
        for reason, m in _by_count(by_reason.get(status, {})):
            attrs = {"stage": stage, "status": status, "reason": reason}
            rows.append(_row("reason", attrs, _e(reason), m, total))
    return rows


def _stage_row(stage: str, text: str, n: int) -> str:
    return _row("stage", {"stage": stage}, _e(text), n, n)


def _row(cls: str, attrs: Mapping[str, str], label: str, n: int, total: int) -> str:
    data = "".join(f' data-{k}="{_e(v)}"' for k, v in attrs.items())
    share = n / total if total else 0.0
    return (
        f'<tr class="{cls}"{data}><td class="name">{label}</td><td class="n">{_n(n)}</td>'
        f'<td class="share">{share:.1%}</td>'
        f'<td class="bar"><div class="meter"><span style="width:{share * 100:.2f}%"></span>'
        "</div></td></tr>"
    )


# --- charts --------------------------------------------------------------------------------------


def _charts(charts: Sequence[tuple[Chart, str]]) -> str:
    figures = "".join(_chart(chart, png) for chart, png in charts)
    return _section(
        "charts",
        "Distributions",
        '<p class="lead">Of the published pairs (figure placements: of every figure seen), '
        "from the Parquet tables. Dashed lines mark filter thresholds; the numbers behind each "
        f'chart are under it.</p><div class="charts">{figures}</div>',
    )


def _chart(chart: Chart, png: str) -> str:
    header, rows = chart.table()
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    markers = getattr(chart, "markers", {})
    notes = [chart.note] if chart.note else []
    notes += [f"{name} = {value:g}" for name, value in markers.items()]
    note = f"<p>{_e('; '.join(notes))}</p>" if notes else ""
    return (
        f'<figure class="chart" id="chart-{_e(chart.name)}">'
        f'<img src="{_e(png)}" alt="{_e(chart.title)}">'
        f"<figcaption><details><summary>{_e(chart.title)}: the numbers</summary>"
        f'<table class="data" data-chart="{_e(chart.name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{note}</details></figcaption></figure>"
    )


# --- gallery and duplicates --------------------------------------------------------------------


def _gallery(page: Page) -> str:
    per_split = page.stats["pairs_per_split"]
    blocks = []
    for split, total in _by_count(per_split):
        rows = page.gallery.get(split, [])
        blocks.append(
            _cards_block(
                page,
                rows,
                f'<div class="split" id="gallery-{_e(split)}" data-split="{_e(split)}">'
                f"<h3>{_e(split)}: {_n(len(rows))} of {_n(total)} pairs</h3>",
            )
        )
    return _section(
        "gallery",
        "Gallery",
        '<p class="lead">Pairs drawn at random from each split (the same ones every time: '
        "the smallest hashes of the keys), with the caption as published and a link to the "
        "article on PMC.</p>" + "".join(blocks),
    )


def _cards_block(page: Page, rows: Sequence[Mapping], opening: str) -> str:
    """One block of a gallery (a split, a figure type): `opening` (its <div ...> and
    heading), then a card per pair row, closed."""
    cards = "".join(_card(page, row, split=row["split"]) for row in rows)
    return f'{opening}<div class="gallery">{cards}</div></div>'


def _type_gallery(page: Page) -> str:
    blocks = []
    for name in FIGURE_TYPES:
        rows = page.type_gallery.get(name, [])
        if not rows:
            continue
        blocks.append(
            _cards_block(
                page,
                rows,
                f'<div class="figure-type" id="type-{_e(name)}" data-type="{_e(name)}">'
                f'<h3>{_e(name)}</h3><p class="note">{_e(TYPE_DESCRIPTIONS[name])}</p>',
            )
        )
    return _section(
        "figure-types",
        "Figure types",
        '<p class="lead">A few pairs of each figure type, drawn the same way as the gallery. '
        "Types are read from the caption; the chart above counts them.</p>"
        + ("".join(blocks) or "<p>No pairs.</p>"),
    )


def _clusters(page: Page) -> str:
    summary = page.clusters
    removed = ", ".join(f"{_e(s)} {_n(n)}" for s, n in summary.removed.items()) or "none"
    intro = (
        f'<p class="lead">{_n(summary.clusters)} figures kept had copies removed '
        f"({removed}). Each row is one cluster: the kept figure (green) and the figures "
        "dropped as its exact or near duplicates, with the Hamming distance of their "
        f"perceptual hashes. Near-duplicate clusters first; {_n(len(summary.shown))} shown.</p>"
    )
    if summary.shown and not page.staging:
        intro += (
            '<p class="note">This build has no staging chunks (<code>staging/</code> was '
            "deleted or never written here), and removed figures are in no shard, so their "
            "images cannot be shown; only their records are.</p>"
        )
    rows = []
    for cluster in summary.shown:
        kept = cluster.kept or {"key": cluster.kept_key, "status": FigureStatus.KEPT}
        # The kept figure's own status, so a table that contradicts dedupe shows it.
        cards = [_card(page, kept, status=kept.get("status") or FigureStatus.KEPT)]
        for row in cluster.removed:
            distance = phash_distance(kept.get("phash"), row.get("phash"))
            cards.append(_card(page, row, status=row["status"], distance=distance))
        rows.append(
            f'<div class="cluster" data-kept="{_e(cluster.kept_key)}">{"".join(cards)}</div>'
        )
    return _section(
        "duplicates", "Duplicates removed", intro + f'<div class="clusters">{"".join(rows)}</div>'
    )


def _card(
    page: Page,
    row: Mapping,
    *,
    split: str | None = None,
    status: str | None = None,
    distance: int | None = None,
) -> str:
    key = row["key"]
    image = page.images.get(key)
    if image is not None:
        thumb = (
            f'<div class="thumb"><img src="{_e(image)}" alt="{_e(row.get("label") or key)}"></div>'
        )
    else:
        why = page.missing.get(key, "no image")
        thumb = f'<div class="thumb missing">{_e(why)}</div>'
    badge = ""
    if status is not None:
        badge = f'<span class="badge {_e(status)}">{_e(status)}</span>'
        if distance is not None:
            badge += f' <span class="dims">distance {distance}</span>'
    size = ""
    if row.get("width") and row.get("height"):
        size = f'<span class="dims">{row["width"]}×{row["height"]}</span>'
    source = [_article_link(row.get("pmcid"))]
    source += [_e(row[f]) for f in ("journal", "year", "license") if row.get(f) is not None]
    title = f'<p class="title">{_e(row["title"])}</p>' if row.get("title") else ""
    attrs = f' data-key="{_e(key)}"' + (f' data-split="{_e(split)}"' if split else "")
    kind = f"card {_e(status)}" if status else "card"
    return (
        f'<article class="{kind}"{attrs}>{thumb}<div class="body">'
        f'<div class="head"><span class="label">{_e(row.get("label") or "")}</span>{size}</div>'
        + (f"<div>{badge}</div>" if badge else "")
        + f'<p class="caption">{_e(row.get("caption") or "")}</p>'
        f'<p class="source">{" · ".join(s for s in source if s)}</p>{title}'
        f"<code>{_e(key)}</code></div></article>"
    )


def _article_link(pmcid: str | None) -> str:
    if not pmcid:
        return ""
    if not _PMCID.match(pmcid):  # not a PMCID: shown, not linked
        return _e(pmcid)
    url = PMC_ARTICLE_URL.format(quote(pmcid))
    return f'<a href="{_e(url)}">{_e(pmcid)}</a>'


# --- options -------------------------------------------------------------------------------------


def _options(options: Mapping) -> str:
    rows = "".join(
        f"<tr><th><code>{_e(name)}</code></th><td>{_e(_option_value(value))}</td></tr>"
        for name, value in _flatten(options)
    )
    return _section(
        "options",
        "Build options",
        '<p class="lead">As recorded in <code>stats.json</code>.</p>'
        f'<table class="options"><tbody>{rows}</tbody></table>',
    )


def _flatten(options: Mapping, prefix: str = "") -> list[tuple[str, object]]:
    items = []
    for name, value in options.items():
        if isinstance(value, Mapping) and value:
            items += _flatten(value, f"{prefix}{name}.")
        else:
            items.append((f"{prefix}{name}", value))
    return items


def _option_value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# --- formatting ----------------------------------------------------------------------------------


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _n(n: int) -> str:
    return f"{n:,}"


def _cell(value) -> str:
    """A table number: integers (and integral floats) with separators, others to 2 places."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return _e(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _by_count(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
