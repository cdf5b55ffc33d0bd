"""pmc_pipeline: PubMed Central OA -> figure-caption dataset (WebDataset + Parquet) and a
BiomedCLIP-style contrastive trainer. See README.md and DESIGN notes in docs/."""

from setuptools import find_packages, setup

CORE = [
    "apache-beam>=2.60",
    "boto3>=1.34",
    "imagehash>=4.3",
    "lxml>=5.2",
    "numpy>=1.26",
    "pillow>=10.3",
    "pyarrow>=15",
    "requests>=2.31",
    "tqdm>=4.66",
    "urllib3>=2",
]

EXTRAS = {
    # The trainer. torch/torchvision are pinned to the releases this project is tested
    # with (the CUDA build on x86_64 PyPI; it runs on the CPU too).
    "train": [
        "torch==2.14.1",
        "torchvision==0.29.1",
        "open_clip_torch>=3.0",
        # The newest release open_clip_train works with (open_clip_torch[training] pins
        # <=0.2.86): later ones end every shard with an empty dict that its reader fails on
        # (KeyError: 'fname').
        "webdataset==0.2.86",
        "tokenizers>=0.19",
        "simplejpeg>=1.9",  # libjpeg-turbo decoding at any n/8 scale (the loader)
        "transformers>=4.40",
        "pandas>=2",  # open_clip_train imports it
    ],
    "aws": ["boto3>=1.34", "apache-beam[aws]>=2.60"],
    "report": ["matplotlib>=3.8"],
    "dev": [
        "pytest>=8",
        "pytest-timeout>=2.3",
        "webdataset==0.2.86",  # reads the shards back in the tests (pinned: see "train")
        "hypothesis>=6.100",
        "moto[server]>=5",
        "ruff>=0.5",
        "jsonschema>=4.20",
        "pubmed_parser>=0.5",  # the peer in bench/ (what PMC-15M used)
        "playwright>=1.45",  # drives the system Chromium in the data card test
        "matplotlib>=3.8",
    ],
}
EXTRAS["all"] = sorted({dep for deps in EXTRAS.values() for dep in deps})

setup(
    name="pmc_pipeline",
    version="0.1.0",
    description="Build a PMC-15M-style figure-caption dataset from PMC OA; train BiomedCLIP-style models",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # schemas/ (top level, as DESIGN.md lays it out) ships inside the package as
    # pmc_pipeline.schemas, so Dataflow workers installed from the sdist can read it.
    packages=find_packages(include=["pmc_pipeline", "pmc_pipeline.*", "beam_jobs", "beam_jobs.*"])
    + ["pmc_pipeline.schemas"],
    package_dir={"pmc_pipeline.schemas": "schemas"},
    package_data={
        "pmc_pipeline": ["train/model_configs/*.json"],
        "pmc_pipeline.schemas": ["*.json"],
    },
    install_requires=CORE,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["pmc-pipeline=pmc_pipeline.cli:main"]},
)
