"""The fixed tables the synthetic articles are drawn from: journals, article types, licences,
visual kinds and the biomedical words their captions use. Weights are relative frequencies;
docs/mirror.md lists the resulting proportions.

The journals and publishers are fictional, so nobody mistakes a synthetic article for a
real one; their file-naming styles copy real publishers' (see `Journal.style`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Journal:
    title: str
    abbrev: str  # the NLM title abbreviation, used in citations
    publisher: str
    issn: str
    code: str  # the short code publishers put in file names
    # How the publisher names its files (see articles.file_stem): 'wiley' NPR2-43-85-g001,
    # 'frontiers' fmmed-14-1154535-g001, 'springer' 41999_2024_2111_Fig1_HTML,
    # 'plos' psbi.0046493.g001 (dots inside the name), 'mdpi' ijmm-24-13282-g001,
    # 'bmc' bcrm936-1, 'preprint' nihpp-2023.12.31.573776v1-f0001, 'elsevier' gr1.
    style: str
    fig_id: str  # format of <fig @id>; {n} the number, {art} the article number
    label: str  # format of <label>; {n} the number


JOURNALS: tuple[tuple[Journal, float], ...] = (
    (
        Journal(
            "Journal of Synthetic Cell Biology",
            "J Synth Cell Biol",
            "Meridian Academic Press",
            "2050-1234",
            "JSCB",
            "wiley",
            "jscb{art}-fig-{n:04d}",
            "FIGURE {n}",
        ),
        14,
    ),
    (
        Journal(
            "Frontline Model Medicine",
            "Frontl Model Med",
            "Frontline Open Science",
            "1664-0001",
            "fmmed",
            "frontiers",
            "F{n}",
            "Figure {n}",
        ),
        14,
    ),
    (
        Journal(
            "Cell Death Models",
            "Cell Death Models",
            "Nordic Springboard",
            "2058-7716",
            "41999",
            "springer",
            "Fig{n}",
            "Fig.\u00a0{n}",
        ),
        12,
    ),
    (
        Journal(
            "Open Library of Simulated Biology",
            "Open Libr Simul Biol",
            "Open Library of Science",
            "1932-0000",
            "psbi",
            "plos",
            "psbi-{art}-g{n:03d}",
            "Fig {n}",
        ),
        12,
    ),
    (
        Journal(
            "International Journal of Molecular Mocks",
            "Int J Mol Mocks",
            "Basel Digital Publishing",
            "1422-0067",
            "ijmm",
            "mdpi",
            "ijmm-{art}-f{n}",
            "Figure {n}",
        ),
        12,
    ),
    (
        Journal(
            "Breast Cancer Research Models",
            "Breast Cancer Res Models",
            "BioMed Open",
            "1465-5411",
            "bcrm",
            "bmc",
            "F{n}",
            "Figure {n}",
        ),
        8,
    ),
    (
        Journal(
            "bioArchive",
            "bioArchive",
            "Cold Harbor Preprint Server",
            "2692-8205",
            "nihpp",
            "preprint",
            "F{n}",
            "Figure {n}.",
        ),
        8,
    ),
    (
        Journal(
            "Physiology, Pathology and Pharmacology Reports",
            "Physiol, Pathol Pharmacol Rep",
            "Meridian Academic Press",
            "2051-817X",
            "PPPR",
            "wiley",
            "pppr{art}-fig-{n:04d}",
            "FIGURE {n}",
        ),
        5,
    ),
    (
        Journal(
            "Journal of Clinical Simulation",
            "J Clin Simul",
            "Harbour Science",
            "0022-0000",
            "jcs",
            "elsevier",
            "fig{n}",
            "Fig.\u00a0{n}",
        ),
        10,
    ),
    (
        Journal(
            "Medical Imaging Letters",
            "Med Imaging Lett",
            "Basel Digital Publishing",
            "2313-433X",
            "mil",
            "mdpi",
            "mil-{art}-f{n}",
            "Figure {n}",
        ),
        5,
    ),
)

# (article-type, weight). Figures per article depend on the type (plan.FIGURE_COUNTS).
ARTICLE_TYPES: tuple[tuple[str, float], ...] = (
    ("research-article", 74),
    ("review-article", 9),
    ("case-report", 6),
    ("brief-report", 3),
    ("editorial", 2),
    ("letter", 2),
    ("correction", 1.5),
    ("other", 2.5),
)

# (licence code as PMC lists it, weight).
LICENSES: tuple[tuple[str, float], ...] = (
    ("CC BY", 52),
    ("CC BY-NC", 8),
    ("CC BY-NC-ND", 12),
    ("CC BY-NC-SA", 3),
    ("CC BY-SA", 1),
    ("CC BY-ND", 1),
    ("CC0", 5),
    ("NO-CC CODE", 18),
)

# Creative Commons URL path and prose name of each CC licence code.
CC_URL_PART = {
    "CC BY": "by",
    "CC BY-NC": "by-nc",
    "CC BY-NC-ND": "by-nc-nd",
    "CC BY-NC-SA": "by-nc-sa",
    "CC BY-SA": "by-sa",
    "CC BY-ND": "by-nd",
}
CC_PROSE = {
    "CC BY": "Creative Commons Attribution License",
    "CC BY-NC": "Creative Commons Attribution-NonCommercial License",
    "CC BY-NC-ND": "Creative Commons Attribution-NonCommercial-NoDerivatives License",
    "CC BY-NC-SA": "Creative Commons Attribution-NonCommercial-ShareAlike License",
    "CC BY-SA": "Creative Commons Attribution-ShareAlike License",
    "CC BY-ND": "Creative Commons Attribution-NoDerivatives License",
    "CC0": "Creative Commons CC0 public domain dedication",
}

# --- what a figure shows, and the words its caption uses for it ----------------------------

# Named colours (RGB). Plots and schematics use PLOT_COLORS; fluorescence uses FLUOR_COLORS.
COLORS = {
    "red": (205, 38, 38),
    "blue": (35, 75, 200),
    "green": (40, 160, 60),
    "orange": (240, 140, 20),
    "purple": (120, 50, 160),
    "black": (25, 25, 25),
    "magenta": (220, 40, 200),
    "grey": (128, 128, 128),
}
PLOT_COLORS = ("red", "blue", "green", "orange", "purple", "black")
FLUOR_COLORS = ("green", "red", "blue", "magenta")
SHAPES = ("circles", "squares", "triangles")

# (visual kind, weight) for figures; tables-as-images always show the 'table' kind.
VISUAL_KINDS: tuple[tuple[str, float], ...] = (
    ("bar_chart", 18),
    ("line_plot", 12),
    ("scatter_plot", 12),
    ("fluorescence_micrograph", 14),
    ("histology", 8),
    ("western_blot", 9),
    ("heatmap", 8),
    ("schematic", 11),
    ("ct_scan", 8),
)

# The phrases a caption names its visual kind with (the first words of its title).
KIND_PHRASES = {
    "bar_chart": ("Bar chart", "Bar graph"),
    "line_plot": ("Line plot", "Line graph", "Time course plot"),
    "scatter_plot": ("Scatter plot", "Correlation scatter plot"),
    "fluorescence_micrograph": (
        "Fluorescence micrograph",
        "Confocal micrograph",
        "Immunofluorescence micrograph",
    ),
    "histology": ("Histology section", "H&E-stained histology section", "Light micrograph"),
    "western_blot": ("Western blot", "Immunoblot"),
    "heatmap": ("Heatmap", "Clustered heatmap"),
    "schematic": ("Schematic diagram", "Schematic overview", "Workflow diagram"),
    "ct_scan": ("Computed tomography scan", "Axial CT image", "MRI scan"),
    "table": ("Table",),
}

GENES = (
    "TP53",
    "BRCA1",
    "MYC",
    "EGFR",
    "KRAS",
    "SLC25A48",
    "PPARG",
    "UCP1",
    "IL6",
    "TNF",
    "HIF1A",
    "SOX2",
    "CDK4",
    "PTEN",
    "VEGFA",
)
CELLS = (
    "HeLa cells",
    "primary hepatocytes",
    "brown adipocytes",
    "HEK293T cells",
    "cardiomyocytes",
    "cortical neurons",
    "macrophages",
    "intestinal organoids",
)
TISSUES = (
    "liver",
    "kidney",
    "lung",
    "brain",
    "adipose tissue",
    "colon",
    "skeletal muscle",
    "tumour",
)
SUBJECTS = (
    "wild-type and knockout mice",
    "patients and healthy controls",
    "treated and untreated rats",
    "zebrafish larvae",
    "the discovery cohort",
    "three independent donors",
)
TREATMENTS = (
    "cisplatin",
    "metformin",
    "rapamycin",
    "vehicle",
    "hypoxia",
    "a high-fat diet",
    "siRNA knockdown",
    "cold exposure",
)
# Measures; some carry inline markup the caption builder renders (see captions.py).
MEASURES = (
    "{gene} mRNA expression",
    "cell viability",
    "tumour volume",
    "body weight",
    "oxygen consumption",
    "serum glucose",
    "CD8{sup:+} T-cell counts",
    "Ca{sup:2+} influx",
    "CO{sub:2} production",
    "plasma IL-6",
    "{gene} protein abundance",
    "apoptosis rate",
)
PATHWAYS = (
    "mTOR signalling",
    "glycolysis",
    "the TCA cycle",
    "NF-\u03baB activation",
    "autophagy",
    "one-carbon metabolism",
    "the cell cycle",
    "sample processing",
)
STATISTICS = (
    "unpaired t-test",
    "two-way ANOVA",
    "Mann\u2013Whitney U test",
    "one-way ANOVA with Tukey\u2019s correction",
)
TABLE_TOPICS = (
    "Baseline characteristics of",
    "Clinical outcomes in",
    "Primer sequences used for",
    "Antibodies used for",
    "Multivariate analysis of risk factors in",
)
