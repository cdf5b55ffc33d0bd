"""Measuring the caption analysis against hand labels (the development set and any other).

A labelled caption is a dict with `caption`, optional `title`, `types` (sorted type names),
`compound`, `panels` ([{'label', 'subcaption'}] in the order the caption names them) and
`shared_caption`. `score(items)` gives the measures issue 16 sets targets for:

- figure-type micro-F1 over (caption, type) pairs, and each type's precision;
- panel labels exactly right (the whole list, in order) per caption;
- sub-captions equal to the labelled text, whitespace aside, per labelled panel (a
  predicted panel with the same label and the same text);
- `compound` right per caption.

`load_dev_set(fixtures)` reads tests/data/captions_dev.json: captions written for the set
(they run anywhere) and labels of real fixture captions, which it reads from the fixture
articles themselves (labels hold character spans, not copies of the text).
`load_fresh_set(fixtures)` reads tests/data/captions_fresh.json, real captions labelled by
hand before the parser ever ran on them (an independent check, not tuning data); with
`path=fresh_set(n)`, the n-th such set (tests/data/captions_freshn.json: the second of other
publishers and fields, the third every captioned figure of 71 PLOS articles in batches each
labelled before the parser ran on it, the fourth ROCO's radiology and non-radiology
captions, the fifth on eLife articles with their figure supplements, and so on).
`FRESH_SETS` lists every set in the folder, in order; each file's `about` says what it holds
and how it was labelled, its `bench` how `python -m bench captions` names its rows, and
docs/captions.md gives each set's untouched measure.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pmc_pipeline.captions import CaptionAnalysis, analyze_caption
from pmc_pipeline.captions.taxonomy import FIGURE_TYPES

_DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
DEV_SET = _DATA / "captions_dev.json"


def fresh_set(number: int) -> Path:
    """The path of fresh set `number` (1: tests/data/captions_fresh.json, n:
    tests/data/captions_freshn.json)."""
    return _DATA / f"captions_fresh{number if number > 1 else ''}.json"


def _set_number(path: Path) -> int:
    return int(path.stem.removeprefix("captions_fresh") or 1)


FRESH_SET = fresh_set(1)
# Every fresh set in the folder, in order: a new one is found by its file name.
FRESH_SETS = tuple(sorted(_DATA.glob("captions_fresh*.json"), key=_set_number))


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Scores:
    captions: int = 0
    micro_f1: float = 0.0
    precision: dict[str, float | None] = field(default_factory=dict)  # None: never predicted
    recall: dict[str, float | None] = field(default_factory=dict)
    support: dict[str, int] = field(default_factory=dict)  # labelled captions per type
    panel_labels_exact: float = 0.0
    subcaptions_equal: float = 0.0
    panels_labelled: int = 0
    compound_accuracy: float = 0.0
    errors: list[dict] = field(default_factory=list)  # captions with any difference

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out.pop("errors")
        return out


def _analyze_item(item: dict) -> CaptionAnalysis:
    return analyze_caption(item["caption"], item.get("title"))


def score(items: list[dict], analyze: Callable[[dict], CaptionAnalysis] = _analyze_item) -> Scores:
    """The measures of `analyze` (item -> its analysis: this checkout's analyze_caption unless
    given; bench untouched gives an earlier commit's) against the labelled `items`."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    labels_right = compound_right = sub_right = sub_total = 0
    errors = []
    for item in items:
        got = analyze(item)
        want_types, got_types = set(item["types"]), set(got.figure_types)
        for t in got_types & want_types:
            tp[t] += 1
        for t in got_types - want_types:
            fp[t] += 1
        for t in want_types - got_types:
            fn[t] += 1
        want_labels = [p["label"] for p in item["panels"]]
        got_panels = {p.label: p.subcaption for p in got.panels}
        labels_ok = [p.label for p in got.panels] == want_labels
        labels_right += labels_ok
        compound_right += got.compound == item["compound"]
        for p in item["panels"]:
            sub_total += 1
            sub_right += _norm(got_panels.get(p["label"], "\0")) == _norm(p["subcaption"])
        if not labels_ok or got.compound != item["compound"] or want_types != got_types:
            errors.append(
                {
                    "id": item.get("id"),
                    "types": [sorted(want_types), sorted(got_types)],
                    "labels": [want_labels, [p.label for p in got.panels]],
                    "compound": [item["compound"], got.compound],
                }
            )
    n = len(items)
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro = 2 * total_tp / (2 * total_tp + total_fp + total_fn) if total_tp else 0.0
    return Scores(
        captions=n,
        micro_f1=micro,
        precision={t: (tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else None) for t in FIGURE_TYPES},
        recall={t: (tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else None) for t in FIGURE_TYPES},
        support={t: tp[t] + fn[t] for t in FIGURE_TYPES},
        panel_labels_exact=labels_right / n if n else 0.0,
        subcaptions_equal=sub_right / sub_total if sub_total else 1.0,
        panels_labelled=sub_total,
        compound_accuracy=compound_right / n if n else 0.0,
        errors=errors,
    )


class FixtureChanged(Exception):
    """A fixture caption is not the one that was labelled (its sha256 differs)."""


def load_dev_set(fixtures: Path | None, path: Path = DEV_SET) -> dict[str, list[dict]]:
    """{'synthetic': [...], 'fixtures': [...]} as labelled items; 'fixtures' is empty when
    `fixtures` (../shared/fixtures) is None or absent."""
    data = json.loads(path.read_text(encoding="utf-8"))
    synthetic = [dict(item, id=f"synthetic:{i}") for i, item in enumerate(data["synthetic"])]
    real: list[dict] = []
    if fixtures is not None and fixtures.is_dir():
        real = _fixture_items(fixtures, data["fixtures"])
    return {"synthetic": synthetic, "fixtures": real}


def _fixture_items(fixtures: Path, labels: list[dict]) -> list[dict]:
    from pmc_pipeline.jats import parse_article

    articles: dict[str, dict] = {}
    items = []
    for label in labels:
        path = label["path"]
        if path not in articles:
            article = parse_article((fixtures / path).read_bytes())
            articles[path] = {f.id: f for f in article.figures}
        figure = articles[path][label["figure_id"]]
        caption = figure.caption
        if hashlib.sha256(caption.encode()).hexdigest() != label["caption_sha256"]:
            raise FixtureChanged(
                f"{path} {label['figure_id']}: caption differs from the labelled one"
            )
        items.append(
            _labelled(label, caption, id=f"{path}#{label['figure_id']}", title=figure.title)
        )
    return items


def _labelled(label: dict, caption: str, **extra) -> dict:
    """A labelled item from a label stored as spans into its caption."""
    s, e = label["shared"]
    return {
        **extra,
        "caption": caption,
        "types": label["types"],
        "compound": label["compound"],
        "shared_caption": caption[s:e],
        "panels": [
            {"label": p["label"], "subcaption": caption[p["span"][0] : p["span"][1]]}
            for p in label["panels"]
        ],
    }


def load_fresh_set(fixtures: Path | None, path: Path = FRESH_SET) -> list[dict]:
    """The fresh, independently labelled set (tests/data/captions_fresh.json) as labelled
    items: captions stored as text, and those of the shared fixtures' figure metadata
    (read from `fixtures`, left out when it is None or absent)."""
    import html

    data = json.loads(path.read_text(encoding="utf-8"))
    items = []
    metadata: dict[str, list] = {}
    for i, entry in enumerate(data["items"]):
        if "caption" in entry:
            items.append(dict(entry, id=f"fresh:{i}"))
            continue
        if fixtures is None or not fixtures.is_dir():
            continue
        name = entry["fixture"]
        if name not in metadata:
            metadata[name] = json.loads((fixtures / name).read_text(encoding="utf-8"))
        figure = metadata[name][entry["index"]]
        caption = _norm(html.unescape(figure.get("caption") or ""))
        if hashlib.sha256(caption.encode()).hexdigest() != entry["caption_sha256"]:
            raise FixtureChanged(f"{name} #{entry['index']}: caption differs from the labelled one")
        items.append(
            _labelled(
                entry, caption, id=f"fresh:{i}", batch=entry["batch"], source=name, title=None
            )
        )
    return items
