"""The options of a mirror, checked once, and the summary a mirror run returns."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path

from pmc_pipeline.model import Layout

DEFAULT_PMCID_BASE = 9_995_000  # synthetic PMCIDs cross PMC10000000 after 50 articles
JATS_PMCID_BASE = 50_000_000  # with --jats: far from any real PMCID
DEFAULT_SNAPSHOT_DATE = "2026-11-16"


@dataclass(frozen=True)
class MirrorOptions:
    """Everything that decides a mirror's bytes (workers and progress do not)."""

    layout: str
    n_articles: int | None  # None with jats_dir: one per real file
    seed: int
    jats_dir: Path | None = None
    images_dir: Path | None = None
    pdf_scale: float = 1.0  # PDF stand-in sizes x this (mean about 540 kB at 1.0)
    supplement_scale: float = 1.0  # supplement stand-in sizes x this (mean about 80 kB)
    snapshot_date: str = DEFAULT_SNAPSHOT_DATE  # the day of the newest inventory / file lists
    inventory_days: int = 2  # cloud: daily inventories ending on snapshot_date
    inventory_rows_per_file: int = 2500  # cloud: rows per inventory data file
    bulk: bool = True  # legacy: write oa_bulk/ file lists and XML tarballs
    pmcid_base: int | None = None  # synthetic PMCIDs start here (default: see above)
    workers: int = 0  # processes; 0 = one per CPU (never part of the output)
    progress: bool = False  # a progress bar on stderr
    overwrite: bool = False  # replace an existing mirror (a directory with a truth file)

    def __post_init__(self) -> None:
        if self.layout not in (Layout.CLOUD, Layout.LEGACY):
            raise ValueError(f"layout must be 'cloud' or 'legacy', got {self.layout!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {self.seed!r}")
        if self.n_articles is None:
            if self.jats_dir is None:
                raise ValueError("n_articles is required without jats_dir")
        elif (
            isinstance(self.n_articles, bool)
            or not isinstance(self.n_articles, int)
            or self.n_articles < 0
        ):
            raise ValueError(f"n_articles must be an int >= 0, got {self.n_articles!r}")
        for name in ("jats_dir", "images_dir"):
            value = getattr(self, name)
            if value is not None:
                path = Path(value)
                if not path.is_dir():
                    raise NotADirectoryError(f"{name}: {path} is not a directory")
                object.__setattr__(self, name, path)
        for name in ("pdf_scale", "supplement_scale"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name} must be in [0, 100], got {getattr(self, name)!r}")
        date.fromisoformat(self.snapshot_date)  # ValueError if it is not YYYY-MM-DD
        if self.inventory_days < 1 or self.inventory_rows_per_file < 1:
            raise ValueError("inventory_days and inventory_rows_per_file must be >= 1")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.pmcid_base is None:
            object.__setattr__(
                self, "pmcid_base", JATS_PMCID_BASE if self.jats_dir else DEFAULT_PMCID_BASE
            )
        elif self.pmcid_base < 1:
            raise ValueError(f"pmcid_base must be >= 1, got {self.pmcid_base}")

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def recorded(self) -> dict:
        """The options as the truth file records them (paths as given, no run settings)."""
        out = asdict(self)
        for name in ("workers", "progress", "overwrite"):
            out.pop(name)
        for name in ("jats_dir", "images_dir"):
            out[name] = None if out[name] is None else Path(out[name]).name
        return out


@dataclass(frozen=True)
class MirrorSummary:
    """What a mirror run wrote. Figure counts are over the newest versions; files and
    bytes over everything but the truth file."""

    out_dir: Path
    layout: str
    articles: int  # distinct PMCIDs in the mirror
    article_versions: int  # article folders (cloud) or packages (legacy)
    omitted: int  # synthetic articles the layout cannot hold (legacy: not open access)
    figures: int
    image_files: int  # full images and thumbnails written (newest versions)
    corrupt_images: int
    missing_images: int
    duplicates: int  # exact: same bytes or same pixels as an earlier article's image
    near_duplicates: int
    files: int
    bytes: int
    truth_path: Path
