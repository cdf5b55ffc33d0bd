"""pmc_pipeline: PubMed Central OA -> figure-caption dataset (WebDataset + Parquet) and a
BiomedCLIP-style contrastive trainer. See README.md and docs/design.md."""

from setuptools import find_packages, setup

CORE = [
    "apache-beam>=2.60",
    "boto3>=1.34",  # S3 roots (sources/s3.py): the default root is s3://pmc-oa-opendata
    # Caption analysis: every anchor word found in one pass (a compiled DFA).
    "ahocorasick-rs>=1.0",
    "imagehash>=4.3",
    "lxml>=5.2",
    "numpy>=1.26",
    "pillow>=10.3",
    "pyarrow>=15",
    "pyyaml>=6",  # the dataset card's YAML header (pmc_pipeline.hub)
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
    # Beam's own S3 filesystem, for runners and options that name s3:// paths (boto3, which
    # reads S3 roots, is in the core).
    "aws": ["apache-beam[aws]>=2.60"],
    # Beam's DaskRunner: the build on a dask.distributed cluster (--runner DaskRunner).
    "dask": ["apache-beam[dask]>=2.60"],
    # Google Cloud Dataflow (make dataflow): the runner, and `build`, with which Beam turns
    # --setup_file into the sdist the workers install (without isolation, so the build
    # system's own requirements, pyproject.toml's setuptools and wheel, must be here too).
    "gcp": ["apache-beam[gcp]>=2.60", "build>=1", "setuptools>=64", "wheel"],
    "report": ["matplotlib>=3.8"],
    # Reading a build the Hugging Face way (docs/hub.md): `datasets` for
    # pmc_pipeline.hub.webdataset_features(), mlcroissant to read croissant.json. Writing the
    # Hub files needs neither.
    "hub": ["datasets>=4", "mlcroissant>=1.0"],
    "dev": [
        "pytest>=8",
        "pytest-timeout>=2.3",
        "apache-beam[dask]>=2.60",  # the build on a 2-process Dask cluster in the tests
        "apache-beam[gcp]>=2.60",  # the Dataflow translation test (--dry_run)
        "build>=1",
        "webdataset==0.2.86",  # reads the shards back in the tests (pinned: see "train")
        "hypothesis>=6.100",
        "moto[server]>=5",
        "ruff>=0.5",
        "mypy>=1.11",  # make typecheck
        "pre-commit>=3",  # .pre-commit-config.yaml: make lint and make typecheck on commit
        "jsonschema>=4.20",
        "pubmed_parser>=0.5",  # the peer in bench/ (what PMC-15M used)
        "playwright>=1.45",  # drives the system Chromium in the data card test
        "matplotlib>=3.8",
        "datasets>=4",  # loads the build through its dataset cards in tests/test_hub.py
        "mlcroissant>=1.0",  # validates and reads croissant.json in tests/test_hub.py
    ],
    # The image benchmark's peer (bench/bench_image.py): what img2dataset's resizer module
    # imports. img2dataset itself is installed with --no-deps (`make bench` does it): its
    # package pins pandas < 3 and webdataset < 0.3 and pulls in wandb, none of which the
    # resizer needs. Not part of `all`: no test needs it.
    "bench": ["albumentations>=1.3,<2", "opencv-python-headless>=4.5.5.62,<5", "psutil>=5"],
}
EXTRAS["all"] = sorted({dep for name, deps in EXTRAS.items() if name != "bench" for dep in deps})

setup(
    name="pmc_pipeline",
    version="0.1.0",
    description="Build a PMC-15M-style figure-caption dataset from PMC OA; train BiomedCLIP-style models",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    # schemas/ (top level, as docs/design.md lays it out) ships inside the package as
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
