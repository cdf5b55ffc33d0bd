"""stats.json: what a build counted, and the accounting identity it must satisfy.

The identity (docs/design.md, "Contracts"): articles listed = sum of article statuses; figures seen = sum of
figure statuses; kept figures = Parquet pair rows = samples across all shards. A build that
cannot show it is a failed build: `check_identity` lists every way it fails, and the build
command exits non-zero when the list is not empty.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping

from pmc_pipeline.model import ArticleStatus, FigureStatus

STATS_FILE = "stats.json"


def reason_name(reason: str | None) -> str | None:
    """The code of a reason, so that stats group by cause. Rows hold the code in `reason`
    (and the text in `reason_detail`); a reason given whole ('fetch: 503 after 5 attempts')
    is cut at its first colon."""
    return reason.split(":", 1)[0].strip() if reason else None


def status_block(counts: Iterable[tuple[tuple[str, str | None], int]]) -> dict:
    """{'by_status': {status: n}, 'by_reason': {status: {reason: n}}} from counts of
    (status, reason name) pairs."""
    by_status: Counter = Counter()
    by_reason: dict[str, Counter] = {}
    for (status, reason), n in counts:
        by_status[status] += n
        if reason:
            by_reason.setdefault(status, Counter())[reason] += n
    return {
        "total": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
        "by_reason": {s: dict(sorted(r.items())) for s, r in sorted(by_reason.items())},
    }


def count_statuses(rows: Iterable[Mapping]) -> dict:
    """The status block of rows that carry 'status' and 'reason'."""
    counts = Counter((row["status"], reason_name(row.get("reason"))) for row in rows)
    return status_block(counts.items())


def build_stats(
    articles: Mapping,
    figures: Mapping,
    shard_summaries: Iterable[Mapping],
    *,
    articles_listed: int,
    figures_seen: int,
    bytes_read: int,
    options: Mapping,
    problems: Iterable[str] = (),
    build: Mapping | None = None,
) -> dict:
    """The content of stats.json (sorted keys; the only clock is in `build`, see build_info). `problems`: what
    the check of the published files on disk found (publish.verify); any breaks the
    identity."""
    shard_summaries = sorted(shard_summaries, key=lambda s: s["shard"])
    splits = sorted({s["split"] for s in shard_summaries})
    pairs_per_split = {
        split: sum(s["samples"] for s in shard_summaries if s["split"] == split) for split in splits
    }
    stats = {
        "articles": {"listed": articles_listed, **articles},
        "figures": {"seen": figures_seen, **figures},
        "pairs": sum(pairs_per_split.values()),
        "pairs_per_split": pairs_per_split,
        "pair_rows": sum(s["pair_rows"] for s in shard_summaries),
        "samples_in_shards": sum(s["samples"] for s in shard_summaries),
        "shards": {
            split: [s["shard"] for s in shard_summaries if s["split"] == split] for split in splits
        },
        "shard_bytes": sum(s["bytes"] for s in shard_summaries),
        "bytes_read": bytes_read,
        "options": dict(sorted(options.items())),
    }
    if build is not None:
        stats["build"] = dict(build)
    problems = [*problems, *check_identity(stats)]
    stats["identity"] = {"holds": not problems, "problems": problems}
    return stats


def build_info(listing: Mapping | None) -> dict:
    """stats.json's `build` block: the tool, its version, when the build was published, and
    what the newest extract listed from (e.g. the inventory's date). The time is
    SOURCE_DATE_EPOCH when set (the reproducible-builds convention: equal inputs then give
    an equal stats.json), else now."""
    from pmc_pipeline import __version__

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        if epoch and epoch.isdigit()
        else dt.datetime.now(dt.UTC)
    )
    return {
        "tool": "pmc_pipeline",
        "version": __version__,
        "built_at": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "listing": dict(listing) if listing else None,
    }


def check_identity(stats: Mapping) -> list[str]:
    """Every way the stats break the accounting identity (empty when it holds)."""
    problems = []
    a, f = stats["articles"], stats["figures"]
    if a["listed"] != sum(a["by_status"].values()):
        problems.append(f"articles listed {a['listed']} != sum of statuses {a['by_status']}")
    if f["seen"] != sum(f["by_status"].values()):
        problems.append(f"figures seen {f['seen']} != sum of statuses {f['by_status']}")
    unknown = set(a["by_status"]) - set(ArticleStatus)
    unknown |= set(f["by_status"]) - set(FigureStatus)
    if unknown:
        problems.append(f"unknown statuses {sorted(unknown)}")
    kept = f["by_status"].get(FigureStatus.KEPT, 0)
    if not kept == stats["pair_rows"] == stats["samples_in_shards"]:
        problems.append(
            f"kept figures {kept}, pair rows {stats['pair_rows']} and samples in shards "
            f"{stats['samples_in_shards']} differ"
        )
    return problems


def summary(stats: Mapping, elapsed: float | None = None) -> str:
    """The human summary a local run ends with."""
    lines = [f"articles listed: {stats['articles']['listed']}"]
    for status, n in stats["articles"]["by_status"].items():
        reasons = stats["articles"]["by_reason"].get(status, {})
        detail = ", ".join(f"{r} {c}" for r, c in reasons.items())
        lines.append(f"  {status:<14}{n:>9}" + (f"   ({detail})" if detail else ""))
    lines.append(f"figures seen: {stats['figures']['seen']}")
    for status, n in stats["figures"]["by_status"].items():
        reasons = stats["figures"]["by_reason"].get(status, {})
        detail = ", ".join(f"{r} {c}" for r, c in reasons.items())
        lines.append(f"  {status:<14}{n:>9}" + (f"   ({detail})" if detail else ""))
    per_split = ", ".join(f"{s} {n}" for s, n in stats["pairs_per_split"].items())
    n_shards = sum(len(v) for v in stats["shards"].values())
    lines.append(f"pairs: {stats['pairs']} ({per_split}) in {n_shards} shards")
    identity = stats["identity"]
    lines.append("accounting identity: " + ("holds" if identity["holds"] else "BROKEN"))
    lines.extend(f"  {p}" for p in identity["problems"])
    if elapsed is not None:
        lines.append(f"elapsed: {elapsed:.1f} s")
    return "\n".join(lines)
