"""Figure types from caption words: a fixed taxonomy, each type with the words that show it.

A caption gets every type whose evidence it holds (multi-label), and the matched words are
kept as the evidence, so a user can see why. The words are specific on purpose: per-type
precision matters more than catching every vague caption ("Representative images of ...").

Three strengths of evidence:
- *strong* words name the type outright ("western blot", "H&E", "Kaplan-Meier").
- *weak* words only decide when no strong word of any type is present: a caption whose
  only cue is "Mechanism of ..." or "... signalling pathways" is a diagram, but the same
  words in a caption that says "western blot" are not.
- *generic microscopy* ("micrograph", "microscopy", "DIC", "scale bar" ...) means
  light microscopy unless the caption names fluorescence or electron microscopy: a DIC or
  phase channel beside a fluorescence merge adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RADIOLOGY = "radiology"
LIGHT_MICROSCOPY = "light_microscopy"
FLUORESCENCE_MICROSCOPY = "fluorescence_microscopy"
ELECTRON_MICROSCOPY = "electron_microscopy"
GEL_BLOT = "gel_blot"
CHART = "chart"
DIAGRAM = "diagram"
MOLECULAR_STRUCTURE = "molecular_structure"
PHOTOGRAPH = "photograph"
OTHER = "other"

FIGURE_TYPES = (
    RADIOLOGY,
    LIGHT_MICROSCOPY,
    FLUORESCENCE_MICROSCOPY,
    ELECTRON_MICROSCOPY,
    GEL_BLOT,
    CHART,
    DIAGRAM,
    MOLECULAR_STRUCTURE,
    PHOTOGRAPH,
    OTHER,
)

DESCRIPTIONS = {
    RADIOLOGY: "CT, MRI, X-ray, ultrasound, PET/SPECT, angiography (of patients or specimens)",
    LIGHT_MICROSCOPY: "histology, H&E, IHC, brightfield, cytology; microscopy of no stated kind",
    FLUORESCENCE_MICROSCOPY: "immunofluorescence, confocal, fluorescent dyes and reporters",
    ELECTRON_MICROSCOPY: "TEM, SEM, cryo-EM micrographs",
    GEL_BLOT: "western, northern and southern blots, gels",
    CHART: "any quantitative plot: bars, curves, histograms, heat maps, spectra",
    DIAGRAM: "schematics, flowcharts, pathways, study designs, phylogenetic trees, illustrations",
    MOLECULAR_STRUCTURE: "chemical structures, reaction schemes, 3D macromolecular structures, "
    "sequence alignments and logos",
    PHOTOGRAPH: "clinical, specimen, endoscopy, organism and device photographs",
    OTHER: "none of the above",
}

# Each pattern is matched case-insensitively unless it starts with '(?-i)' (acronyms).
_STRONG: dict[str, tuple[str, ...]] = {
    RADIOLOGY: (
        r"computed\s+tomograph\w*",
        r"(?-i:\b(?:micro-?|µ|μ)?CT\b)(?!\s*(?:value|cycle|Green|Red|Blue|Orange|Deep|Far))",
        r"(?-i:\bCBCT\b)",
        r"cone[\s-]beam",
        r"\btomograph(?:y|ic|s)\b",
        r"(?-i:\bf?MRI\b)",
        r"(?-i:\bMR\s+(?:image|imaging|angiograph)\w*)",
        r"magnetic\s+resonance\s+(?:imag|angiograph)\w*",
        r"\bT[12][\s-]weighted",
        r"(?-i:\bFLAIR\b)",
        r"diffusion[\s-]weighted",
        r"\bx[\s-]?ray(?!\s*(?:crystal|diffraction|structure|scattering|photoelectron|"
        r"absorption|fluorescence|powder))",
        r"\bradiograph\w*",
        r"\bradiolog\w*\s+(?:image|finding|feature|appearance)s?",
        r"\bmammogra\w+",
        r"\bultrasonogra\w+",
        r"\bsonogra\w+",
        r"\bechocardiogra\w+",
        r"\bultrasound\s+(?:image|imaging|scan|examination|view|finding)s?",
        r"\bdoppler\b",
        r"(?-i:\bPET\b)(?!\s*(?:film|bottle|substrate|fib))",
        r"(?-i:\bSPECT\b)",
        r"\bscintigra\w+",
        r"\bangiogra\w+",
        r"\bfluoroscop\w+",
        r"(?-i:\bFDG\b)",
        r"\btomosynthesis\b",
        r"\bbone\s+scan",
    ),
    LIGHT_MICROSCOPY: (
        r"(?-i:\bH\s?&\s?E\b)",
        r"\bh(?:a)?ematoxylin",
        r"\beosin\b",
        r"\bhistolog\w*",
        r"\bhistopatholog\w*",
        r"\bhistochem\w*",
        r"\bimmunohistochem\w*",
        r"(?-i:\bIHC\b)",
        r"\bbright[\s-]?field\b",
        r"\blight\s+micro\w+",
        r"\bgiemsa\b",
        r"\bmasson",
        r"\btrichrome\b",
        r"periodic\s+acid",
        r"(?-i:\bPAS\b)",
        r"\bnissl\b",
        r"\btoluidine\b",
        r"\bgram[\s-]stain\w*",
        r"\boil\s+red\s+o\b",
        r"\balizarin\b",
        r"\balcian\b",
        r"\bsirius\s+red\b",
        r"\bvon\s+kossa\b",
        r"\bx-gal\b",
        r"\bcrystal\s+violet\b",
        r"\bcytolog\w*",
        r"\bsmears?\b",
        r"(?<!fluorescence )(?<!fluorescent )\bin\s+situ\s+hybridi[sz]ation",
        r"(?-i:(?<!F)\bISH\b)",
        r"(?-i:\bDAB\b)",
    ),
    FLUORESCENCE_MICROSCOPY: (
        r"\bimmunofluorescen\w*",
        r"\bfluorescen(?:ce|t)\s+(?:\w+\s+)?(?:microscop\w*|images?|imaging|micrographs?|"
        r"stain\w*|photomicrographs?|confocal|labell?ing)",
        r"\bconfocal\b",
        r"(?-i:\bDAPI\b)",
        r"\bhoechst\b",
        r"\bphalloidin\b",
        r"\balexa[\s-]?(?:fluor)?[\s-]?\d{3}",
        r"(?-i:\bFITC\b)",
        r"(?-i:\bTRITC\b)",
        r"(?-i:\bTIRFM?\b)",
        r"(?-i:\bFISH\b)",
        r"\bepifluorescen\w*",
        r"(?<=two[\s-])photon\b",
        r"\bmultiphoton\b",
        r"\b(?:mito|lyso|cell)tracker\b",
        r"\bsytox\b",
        r"\bcalcein\b",
        r"\bthioflavin\w*",
        r"\bpseudo-?colou?red\b",
        r"\bfluorescent(?:ly)?[\s-](?:labell?ed|tagged|stained)",
    ),
    ELECTRON_MICROSCOPY: (
        r"\belectron\s+micro\w+",
        r"\b(?:transmission|scanning)\s+electron",
        r"(?-i:\b(?:FE|HR|cryo-?)?TEM\b)",
        r"(?-i:\b(?:FE)?SEM\b)(?=\s*(?:image|micrograph|analysis|photograph|observation))",
        r"(?-i:\bFESEM\b)",
        r"\bcryo-?em\b(?!\s+(?:structure|map|density|reconstruction))",
        r"\bimmunogold\b",
        r"\bimmuno-gold\b",
        r"\bultrastructur\w*",
        r"\bnegative(?:ly)?[\s-]stain\w*",
    ),
    GEL_BLOT: (
        r"\bwestern\s+blot\w*",
        r"\bimmunoblot\w*",
        r"\b(?:northern|southern|dot|slot)\s+blot\w*",
        r"\bblots\b",
        r"\bblotting\b",
        r"\bgel\s+electrophores\w+",
        r"\belectrophoresis\b",
        r"\bagarose\b",
        r"(?-i:\bSDS[\s-]?PAGE\b)",
        r"(?-i:\bPAGE\b)",
        r"\bcoomassie\b",
        r"\bsilver[\s-]stain\w*",
        r"\bzymogra\w+",
        r"(?-i:\bEMSA\b)",
        r"\bgel[\s-]shift\b",
        r"\bloading\s+control\b",
        r"\bgels?\b(?!\s*(?:filtration|permeation))",
    ),
    CHART: (
        r"\bgraphs?\b",
        r"\bplots?\b",
        r"\bplotted\b",
        r"\bcharts?\b",
        r"\bhistograms?\b",
        r"\bcurves?\b",
        r"\bkaplan[\s–-]+meier\b",
        r"\bheat[\s-]?maps?\b",
        r"\bbox[\s-]?(?:and[\s-]whisker|plot)s?\b",
        r"\bwhiskers?\b",
        r"\bscatter\w*\b",
        r"\berror\s+bars?\b",
        r"\b(?:grey|gray|white|black|open|filled|solid|closed)\s+(?:columns|bars|circles|squares|"
        r"triangles|diamonds|symbols)\b",
        r"(?<!scale )\bbars\b(?!\s*(?:=|:|,?\s*\d))",
        r"\bbar\s+(?:graph|chart|diagram)s?",
        r"\bspectr(?:um|a)\b",
        r"\bchromatogra\w+",
        r"(?:±|\+/?-)\s*(?:s\.?d\.?|s\.?e\.?m\.?|sem|standard\s+(?:deviation|error))",
        r"(?-i:\b[Pp]\d?\s*[<>=≤]\s*0?\.\d)",
        r"(?-i:\bANOVA\b)",
        r"\bt[\s-]tests?\b",
        r"\bquantif\w+",
        r"\bquantitat\w+",
        r"\bregression\b",
        r"(?-i:\bROC\b)",
        r"\bforest\s+plot",
        r"\bvolcano\b",
        r"\bvenn\b",
        r"(?-i:\b(?:UMAP|t-SNE|tSNE|PCA)\b)",
        r"\bprincipal\s+component",
        r"\bdose[\s-]response",
        r"\bflow\s+cytometr\w+",
        r"(?-i:\bFACS\b)",
        r"\bline[\s-]?scans?\b",
        r"\btraces?\b",
        r"\bprofiles\b",
        r"\bsurvival\s+(?:curves?|rates?|analys\w+|probabilit\w+|plots?|times?|of)\b",
        r"\boverall\s+survival\b",
        r"\b(?:odds|hazard)\s+ratios?\b",
        r"\bconfidence\s+intervals?\b",
        r"\bvoltammetr\w+",
        r"\bzeta\s+potentials?\b",
        r"\bpercentages?\b",
        r"\bcorrelation\w*",
        r"\bfold[\s-]change",
        r"\bkinetics?\b",
        r"\bdistribution\s+of\b",
        r"\bx[\s-]axis\b",
        r"\by[\s-]axis\b",
    ),
    DIAGRAM: (
        r"\bschemati\w*",
        r"(?<!venn )(?<!bifurcation )(?<!phase )(?<!bar )\bdiagram\w*",
        r"\bflow[\s-]?charts?\b",
        r"\bflow\s+diagram",
        r"\bwork[\s-]?flows?\b",
        r"\bpipeline\b",
        r"\billustrations?\b",
        r"\bcartoons?\b",
        r"\b(?:proposed|working|hypothetical|conceptual|schematic)\s+model\b",
        r"\bmodel\s+(?:of|depicting|illustrating)\b",
        r"\bstudy\s+design\b",
        r"\bdesign\s+of\s+the\s+study\b",
        r"(?-i:\b(?:CONSORT|PRISMA)\b)",
        r"\btimeline\b",
        r"\bphylogen\w*",
        r"\bcladogram\b",
        r"\bbiorender\b",
        r"\bmaps?\s+of\s+(?:the\s+)?(?:study|province|region|country|area|world|location)",
        r"\blocation\s+of\s+the\s+study",
        r"\bstudy\s+areas?\b(?=[^.]{0,40}\b(?:outlined|map|located))",
    ),
    MOLECULAR_STRUCTURE: (
        r"\bchemical\s+structures?\b",
        r"\bstructural\s+formula\w*",
        r"\bmolecular\s+structures?\b",
        r"\bcrystal\s+(?:structures?|lattice)\b",
        r"\bx[\s-]?ray\s+(?:crystal\w*|structures?)\b",
        r"\bcryo-?em\s+(?:structure|map|density|reconstruction)s?\b",
        r"\bnmr\s+structures?\b",
        r"\b3d\s+structures?\b",
        r"\bribbon\w*\b",
        r"\b(?:cartoon|surface|stick|sphere)s?\s+representation",
        r"\bsticks\b",
        r"(?-i:\bPDB\b)",
        r"\bsuperpos\w+",
        r"\bmolecular\s+docking\b",
        r"\bdocking\s+(?:pose|model|simulation|analysis|result)s?\b",
        r"\bbinding\s+(?:mode|pose)s?\b",
        r"\bactive\s+sites?\b",
        r"\belectron\s+density\b",
        r"\bsequence\s+alignments?\b",
        r"\balignment\s+of\b",
        r"\bsequence\s+logos?\b",
        r"\bweblogo\b",
        r"\bamino\s+acid\s+sequences?\b",
        r"\bnucleotide\s+sequences?\b",
        r"\bprotein\s+sequences?\b",
        r"\breaction\s+schemes?\b",
        r"\bsynthetic\s+(?:route|scheme|pathway)s?\b",
        r"\bchemical\s+synthesis\b",
        r"\bchemical[\s-]enzymatic\s+synthesis\b",
        r"\bsynthesis\s+of\s+(?:compounds?|\d|[A-Z]{2,}\w*\d)",
        r"\bhomology\s+model\w*",
        r"\bmolecular\s+dynamics\b",
        r"\bchemical\s+reactions?\b",
    ),
    PHOTOGRAPH: (
        r"\bphotograph\w*",
        r"\bphotos?\b",
        r"\bpictures?\b",
        r"\bgross\s+(?:appearance|morphology|view|specimens?|patholog\w*|images?|findings?)",
        r"\bmacroscopic\w*",
        r"\bclinical\s+(?:photo\w*|images?|appearance|pictures?)",
        r"\bendoscop\w+",
        r"\bcolonoscop\w+",
        r"\blaryngoscop\w+",
        r"\bbronchoscop\w+",
        r"\barthroscop\w+",
        r"\blaparoscop\w+",
        r"\bcystoscop\w+",
        r"\bintra-?operative\w*",
        r"\bfundus\b",
        r"\bdermoscop\w+",
        r"\bslit[\s-]lamp\b",
        r"\bcamera\b",
        r"\binflorescences?\b",
        r"\bspread\s+plates?\b",
        r"\bcolonies\s+on\b",
        r"\bpetri\s+dish\w*",
        r"\bexcised\s+tumou?rs?\b",
        r"\bappearance\s+of\s+(?:the\s+)?(?:mice|patient|tumou?rs?|wounds?|lesions?|skin|plants?)",
        r"\bparticipants?\s+(?:interacting|observing|taking|filling)",
    ),
}

_WEAK: dict[str, tuple[str, ...]] = {
    DIAGRAM: (
        r"\bmechanisms?\b",
        r"\bpathways?\b",
        r"\bmodel\b",
        r"\bcycle\b",
        r"\bstrateg\w+",
        r"\bclassification\b",
        r"\bprocess\b",
        r"\bsteps?\b",
        r"\bapproach\b",
        r"\bconcept\w*",
        r"\bsummary\b",
        r"\broles?\s+of\b",
        r"\bregulat\w+",
        r"\bstructure\s+of\b",
        r"\bscheme\b",
        r"\bdendrogram\b",
        r"\bframework\b",
        r"\barchitecture\b",
        r"\boverview\b",
        r"\bdepict\w*",
        r"\bset-?up\b",
        r"\bnetwork\b",
        r"\billustrat\w+",
        r"\bactivation\b",
        r"\btherap(?:y|ies)\b",
        r"\bbiogenesis\b",
        r"\bmethods\b",
        r"\bsignall?ing\b",
    ),
    CHART: (
        r"\bcomparison\b",
        r"\bprofile\b",
        r"\bsurvival\b",
        r"\bdistributions?\b",
        r"\bas\s+a\s+function\s+of\b",
        r"\bnumber\s+of\b",
        r"\bby\s+(?:sex|age|year|group)\b",
        r"\breported\b",
        r"\brates?\b",
        r"\bincidence\b",
        r"\bprevalence\b",
        r"\bcitations\b",
        r"\baccurac\w+",
        r"\bvariations?\b",
        r"\bdifferences?\b",
        r"\bproportions?\b",
        r"\bstatistic\w*",
        r"\baverage\w*\b",
        r"\bsimulat\w+",
        r"\bassays?\b",
        r"\blevels?\b",
        r"\bfrequenc\w+",
        r"\bmeasured\b",
        r"\bvalues?\b",
        r"\bratio\b",
    ),
    MOLECULAR_STRUCTURE: (r"\bsynthesis\s+of\b",),
    GEL_BLOT: (r"(?-i:\bkDa\b)", r"\blanes?\b", r"\bimmunoprecipitat\w+"),
}

# Microscopy of no stated kind: light microscopy unless fluorescence or EM is named.
_GENERIC_MICROSCOPY = (
    r"\bmicroscop\w+",
    r"\bmicrographs?\b",
    r"\bphotomicrographs?\b",
    r"(?-i:\bDIC\b)",
    r"\bphase[\s-]contrast\b",
    r"\boriginal\s+magnification\b",
    r"\bmagnification\s*[×x:]\s*\d",
    r"[×x]\s*\d+\s+magnification\b",
    r"\bscale\s+bars?\b",
    r"\bimmunostain\w*",
    r"\bwhole[\s-]mount\b",
    r"\bstained\s+(?:for|with)\b",
    r"\bstained\s+(?:tissue\s+)?sections?\b",
    r"\btissue\s+sections?\b",
    r"\b(?:retinal|brain|liver|kidney|lung|heart|skin|paraffin|frozen|serial|coronal|sagittal|"
    r"transverse)\s+sections?\b",
)

# Words that mean fluorescence microscopy when the caption also speaks of images.
_FLUORESCENCE_CUE = (
    r"(?-i:\b(?:e?GFP|YFP|RFP|CFP|mCherry|tdTomato|mVenus|mScarlet)\b)",
    r"\bfluorescen\w+",
    r"\bmerged?\b",
    r"\bco-?locali[sz]\w+",
    r"\b(?:cells|nuclei|microspheres|neurons|puncta|vesicles)\s*\((?:red|green|blue|magenta|cyan)\)",
)
_IMAGE_CONTEXT = (
    r"\bimages?\b",
    r"\bimaging\b",
    r"\bimaged\b",
    r"\bmicrograph\w*",
    r"\bmicroscop\w+",
    r"\bscale\s+bars?\b",
    r"\bvisuali[sz]ed\b",
)


# Anchors: a lowercase literal that occurs wherever the pattern matches, found for all
# patterns at once by an Aho-Corasick automaton; a pattern's regex then runs only in a small
# window around each hit, so the cost grows with the caption's length once, not once per
# pattern. Most anchors are read off the pattern; these are given.
_ANCHORS = {
    r"(?-i:\b(?:micro-?|µ|μ)?CT\b)(?!\s*(?:value|cycle|Green|Red|Blue|Orange|Deep|Far))": (
        "ct",
        "µct",
        "μct",
    ),
    r"(?-i:\bf?MRI\b)": ("mri", "fmri"),
    r"(?-i:\bMR\s+(?:image|imaging|angiograph)\w*)": ("mr ",),
    r"\bT[12][\s-]weighted": ("weighted",),
    r"\bx[\s-]?ray(?!\s*(?:crystal|diffraction|structure|scattering|photoelectron|"
    r"absorption|fluorescence|powder))": ("ray",),
    r"(?-i:\bH\s?&\s?E\b)": ("&",),
    r"\bh(?:a)?ematoxylin": ("ematoxylin",),
    r"\bx-gal\b": ("x-gal",),
    r"(?<!fluorescence )(?<!fluorescent )\bin\s+situ\s+hybridi[sz]ation": ("hybridi",),
    r"\b(?:mito|lyso|cell)tracker\b": ("tracker",),
    r"\b(?:transmission|scanning)\s+electron": ("electron",),
    r"(?-i:\b(?:FE|HR|cryo-?)?TEM\b)": ("tem",),
    r"(?-i:\b(?:FE)?SEM\b)(?=\s*(?:image|micrograph|analysis|photograph|observation))": ("sem",),
    r"\b(?:northern|southern|dot|slot)\s+blot\w*": ("blot",),
    r"\b(?:grey|gray|white|black|open|filled|solid|closed)\s+(?:columns|bars|circles|squares|"
    r"triangles|diamonds|symbols)\b": (
        "columns",
        "bars",
        "circles",
        "squares",
        "triangles",
        "diamonds",
        "symbols",
    ),
    r"(?:±|\+/?-)\s*(?:s\.?d\.?|s\.?e\.?m\.?|sem|standard\s+(?:deviation|error))": (
        "±",
        "+/-",
        "+-",
    ),
    r"(?-i:\b[Pp]\d?\s*[<>=≤]\s*0?\.\d)": tuple(
        f"{sign}{space}{digit}" for sign in "<>=≤" for space in ("", " ") for digit in "0."
    ),
    r"\bt[\s-]tests?\b": ("test",),
    r"(?-i:\b(?:UMAP|t-SNE|tSNE|PCA)\b)": ("umap", "sne", "pca"),
    r"\b(?:odds|hazard)\s+ratios?\b": ("ratio",),
    r"\bx[\s-]axis\b": ("axis",),
    r"\by[\s-]axis\b": ("axis",),
    r"\b(?:proposed|working|hypothetical|conceptual|schematic)\s+model\b": ("model",),
    r"(?-i:\b(?:CONSORT|PRISMA)\b)": ("consort", "prisma"),
    r"\bx[\s-]?ray\s+(?:crystal\w*|structures?)\b": ("ray",),
    r"\b3d\s+structures?\b": ("structure",),
    r"\b(?:cartoon|surface|stick|sphere)s?\s+representation": ("representation",),
    r"\bas\s+a\s+function\s+of\b": ("function",),
    r"\bby\s+(?:sex|age|year|group)\b": ("sex", "age", "year", "group"),
    r"[×x]\s*\d+\s+magnification\b": ("magnification",),
    r"\b(?:retinal|brain|liver|kidney|lung|heart|skin|paraffin|frozen|serial|coronal|sagittal|"
    r"transverse)\s+sections?\b": ("section",),
    r"(?-i:\b(?:e?GFP|YFP|RFP|CFP|mCherry|tdTomato|mVenus|mScarlet)\b)": (
        "gfp",
        "yfp",
        "rfp",
        "cfp",
        "mcherry",
        "tdtomato",
        "mvenus",
        "mscarlet",
    ),
    r"\bco-?locali[sz]\w+": ("locali",),
    r"\b(?:cells|nuclei|microspheres|neurons|puncta|vesicles)\s*\((?:red|green|blue|magenta|"
    r"cyan)\)": ("(red)", "(green)", "(blue)", "(magenta)", "(cyan)"),
}
_INSIDE_WORDS = frozenset({"ematoxylin", "tracker", "locali", "ray"})
_LEAD = re.compile(r"(?:\(\?-i:|\(\?<[!=](?:[^()]|\([^()]*\))*\)|\\b)*([A-Za-z0-9&±µμ ]+)")
# A pattern's regex runs from its anchor (from BACK characters before it when the anchor is
# given: "transmission electron" is anchored on "electron") to AHEAD characters after it.
BACK = 32
AHEAD = 64


def _anchors(pattern: str) -> tuple[tuple[str, int], ...]:
    """(anchor, how far before it a match may start) pairs of a pattern."""
    if pattern in _ANCHORS:
        return tuple((anchor, BACK) for anchor in _ANCHORS[pattern])
    lead = _LEAD.match(pattern)
    anchor = lead.group(1) if lead else ""
    if lead and pattern[lead.end() : lead.end() + 1] in ("?", "*", "{"):
        anchor = anchor[:-1]  # "mechanisms?": the last letter is optional
    anchor = anchor.lower()
    if len(anchor) < 3:
        raise ValueError(f"no anchor for the caption pattern {pattern!r}: add it to _ANCHORS")
    return ((anchor, 0),)


class _Matcher:
    """Every pattern of several groups, matched in one pass: `words(caption)` ->
    {group: the caption words its patterns matched, in order, at most MAX_EVIDENCE}."""

    def __init__(self, groups: dict[str, tuple[str, ...]]) -> None:
        import ahocorasick

        self.patterns: list[tuple[str, re.Pattern]] = []
        index: dict[str, list[tuple[int, int]]] = {}
        for group, patterns in groups.items():
            for pattern in patterns:
                number = len(self.patterns)
                self.patterns.append((group, re.compile(pattern, re.IGNORECASE)))
                for anchor, back in _anchors(pattern):
                    index.setdefault(anchor, []).append((number, back))
        self.automaton = ahocorasick.Automaton()
        for anchor, targets in index.items():
            # An anchor counts at a word start only ("effect" holds no CT), except those
            # that stand for the end of a word ("haematoxylin", "MitoTracker", "xray").
            at_word = anchor[0].isalnum() and anchor not in _INSIDE_WORDS
            self.automaton.add_word(anchor, (len(anchor), at_word, tuple(targets)))
        self.automaton.make_automaton()

    def words(self, caption: str) -> dict[str, tuple[str, ...]]:
        found: dict[str, dict[str, None]] = {}
        lowered = caption.lower()
        if len(lowered) != len(caption):  # a character whose lower case is longer
            return self._everywhere(caption)
        patterns = self.patterns
        for end, (length, at_word, targets) in self.automaton.iter(lowered):
            start = end - length + 1
            if at_word and start and lowered[start - 1].isalnum():
                continue  # inside a word: "effect" holds no CT
            for number, back in targets:
                group, regex = patterns[number]
                m = regex.search(caption, start - back if start > back else 0, end + AHEAD)
                if m is not None:
                    self._add(found, group, m.group(0))
        return {group: tuple(words) for group, words in found.items()}

    def _everywhere(self, caption: str) -> dict[str, tuple[str, ...]]:
        found: dict[str, dict[str, None]] = {}
        for group, regex in self.patterns:
            for m in regex.finditer(caption):
                self._add(found, group, m.group(0))
        return {group: tuple(words) for group, words in found.items()}

    @staticmethod
    def _add(found: dict[str, dict[str, None]], group: str, text: str) -> None:
        words = found.setdefault(group, {})
        if len(words) < MAX_EVIDENCE:
            word = " ".join(text.split())
            if word not in words and word.lower() not in {w.lower() for w in words}:
                words[word] = None


MAX_EVIDENCE = 5  # words kept per type
_TABLE_RE = re.compile(r"\btable\b(?!\s*S?\d)", re.IGNORECASE)
_MATCHER = _Matcher(
    {
        **{f"strong:{t}": p for t, p in _STRONG.items()},
        "generic": _GENERIC_MICROSCOPY,
        "fluorescence_cue": _FLUORESCENCE_CUE,
        "image_context": _IMAGE_CONTEXT,
    }
)
_WEAK_MATCHER = _Matcher({f"weak:{t}": p for t, p in _WEAK.items()})  # only when needed


@dataclass(frozen=True)
class Tagging:
    types: tuple[str, ...]  # sorted type names, never empty ('other' when nothing fits)
    evidence: dict[str, tuple[str, ...]]  # type -> the caption words that decided it


def tag_caption(caption: str) -> Tagging:
    """The figure types a caption's words show, each with its evidence."""
    words = _MATCHER.words(caption)
    evidence: dict[str, tuple[str, ...]] = {}
    for figure_type in _STRONG:
        if f"strong:{figure_type}" in words:
            evidence[figure_type] = words[f"strong:{figure_type}"]
    if FLUORESCENCE_MICROSCOPY not in evidence and "image_context" in words:
        if "fluorescence_cue" in words:
            evidence[FLUORESCENCE_MICROSCOPY] = words["fluorescence_cue"]
    microscopy = words.get("generic")
    if microscopy and not (
        evidence.keys() & {FLUORESCENCE_MICROSCOPY, ELECTRON_MICROSCOPY, LIGHT_MICROSCOPY}
    ):
        evidence[LIGHT_MICROSCOPY] = microscopy
    if not evidence and _TABLE_RE.search(caption):
        return Tagging((OTHER,), {})  # "Crystallographic statistics table": no weak guess
    if not evidence:  # weak words decide alone: the type(s) with the most of them
        words = _WEAK_MATCHER.words(caption)
        weak = {t: words.get(f"weak:{t}", ()) for t in _WEAK}
        most = max(len(w) for w in weak.values())
        if most:
            evidence = {t: w for t, w in weak.items() if len(w) == most}
    if not evidence:
        return Tagging((OTHER,), {})
    return Tagging(tuple(sorted(evidence)), evidence)
