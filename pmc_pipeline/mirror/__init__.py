"""A synthetic PMC mirror, in the cloud or the legacy layout: the project's sample data.

    from pmc_pipeline.mirror import write_mirror
    summary = write_mirror("sample", "cloud", n_articles=300, seed=7)

Modules, one concern each: plan (what each article is), text and articles (its JATS),
drawing (its pictures), images (their files: encodings, duplicates, damage), blobs (PDF and
supplement stand-ins), synthetic and real (articles as VersionBundles), cloud and legacy
(the two layouts), truth (the ground truth file), lookalike (accidental near duplicates),
generate (the parallel run). See docs/mirror.md.
"""

from pmc_pipeline.mirror.generate import write_mirror
from pmc_pipeline.mirror.options import MirrorOptions, MirrorSummary
from pmc_pipeline.mirror.truth import TRUTH_NAME

__all__ = ["MirrorOptions", "MirrorSummary", "TRUTH_NAME", "write_mirror"]
