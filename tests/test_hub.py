"""The Hub files a build leaves (README.md, webdataset/README.md, croissant.json), read back
with the libraries users read them with: Hugging Face `datasets` loads every config and split
of both cards (offline), the shards also through the plain webdataset loader given the
features, and mlcroissant validates croissant.json and reads every record set."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import datasets
import huggingface_hub.constants
import mlcroissant as mlc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets.info import DatasetInfosDict
from helpers.build_checks import check_build, read_table
from helpers.nested_schemas import COMPOUND, PANEL
from huggingface_hub import DatasetCard
from PIL import Image

from beam_jobs import build_dataset
from pmc_pipeline import cli, schemas_io
from pmc_pipeline.hub import write_hub_files
from pmc_pipeline.hub.card import TABLES
from pmc_pipeline.hub.facts import gather, non_commercial_or_no_derivatives
from pmc_pipeline.hub.features import webdataset_features
from pmc_pipeline.mirror import write_mirror
from pmc_pipeline.outputs import Output
from pmc_pipeline.schemas_io import arrow_schema

pytestmark = pytest.mark.slow

SMALL = {"pdf_scale": 0.02, "supplement_scale": 0.1, "workers": 1}
FAST = ["--chunk-size", "10", "--shard-size", "20"]
HUB_FILES = ["README.md", "webdataset/README.md", "croissant.json"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test here may reach the network: the offline settings, in the environment and in
    the libraries' constants (which they read from the environment when imported)."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def _build(tmp_path_factory, name, articles, seed, *extra) -> Path:
    root = tmp_path_factory.mktemp(name)
    write_mirror(root / "mirror", "cloud", articles, seed, **SMALL)
    argv = ["--layout", "cloud", "--root", str(root / "mirror"), "--output", str(root / "out")]
    assert build_dataset.run([*argv, *FAST, *extra]) == 0
    return root / "out"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return _build(tmp_path_factory, "hub", 40, 7, "--split", "train=0.6,val=0.2,test=0.2")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("hf-cache"))


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def load(path, *args, cache, **kwargs):
    return datasets.load_dataset(
        str(path), *args, cache_dir=cache, verification_mode="all_checks", **kwargs
    )


def test_a_build_leaves_the_hub_files_and_still_meets_the_contracts(built):
    for name in HUB_FILES:
        assert (built / name).is_file(), name
    check_build(built)


def test_load_dataset_loads_every_config_and_split_of_the_card(built, cache):
    header = front_matter(built / "README.md")
    stats = json.loads((built / "stats.json").read_text())
    configs = {c["config_name"]: c for c in header["configs"]}
    assert sorted(configs) == sorted(TABLES)
    assert all("staging" not in f["path"] for c in configs.values() for f in c["data_files"])
    for config in configs:
        loaded = load(built, config, cache=cache)  # all_checks: row counts as the card says
        schema_name = TABLES[config][0]
        expected = read_table(built, config)
        assert sum(d.num_rows for d in loaded.values()) == len(expected)
        rows = sorted((r for d in loaded.values() for r in d), key=lambda r: json.dumps(r))
        assert rows == sorted(expected, key=lambda r: json.dumps(r))
        for split in loaded.values():
            assert split.features == datasets.Features.from_arrow_schema(arrow_schema(schema_name))
    pairs = load(built, cache=cache)  # the default config: the pairs, every split
    assert {s: d.num_rows for s, d in pairs.items()} == stats["pairs_per_split"]
    assert all(r["split"] == split for split, d in pairs.items() for r in d)


def test_the_webdataset_card_loads_every_split_with_a_typed_sidecar(built, cache):
    pairs = {p["key"]: p for p in read_table(built, "pairs")}
    shards = load(built / "webdataset", cache=cache)
    stats = json.loads((built / "stats.json").read_text())
    assert {s: d.num_rows for s, d in shards.items()} == stats["pairs_per_split"]
    for split, data in shards.items():
        assert data.features == webdataset_features()
        for sample in data:
            record = pairs[sample["__key__"]]
            assert sample["json"] == record and sample["txt"] == record["caption"]
            assert record["split"] == split and Path(sample["__url__"]).parent.name == split
            assert isinstance(sample["jpg"], Image.Image)
            assert sample["jpg"].size == (record["width"], record["height"])


def _shard_files(out: Path) -> dict[str, list[str]]:
    stats = json.loads((out / "stats.json").read_text())
    return {split: [str(out / s) for s in shards] for split, shards in stats["shards"].items()}


def test_the_plain_webdataset_loader_works_given_the_features(built, cache):
    files = _shard_files(built)
    # The bug the features fix: the loader types the sidecar from the first 5 samples of a
    # split's first shard, where a mostly-null field (parent_group, license, ...) is all
    # null, and then fails on the first sample that sets it. This build has such a field.
    pairs = read_table(built, "pairs")
    ever_set = {f for p in pairs for f, v in p.items() if v is not None}
    null_at_first = set()
    for shards in files.values():
        first = [json.loads(sample["json"]) for sample in _samples(shards[0])[:5]]
        null_at_first |= {f for f in first[0] if all(s[f] is None for s in first)}
    assert null_at_first & ever_set
    kwargs = {"data_files": files, "features": webdataset_features(), "cache_dir": cache}
    loaded = datasets.load_dataset("webdataset", **kwargs)
    assert {s: d.num_rows for s, d in loaded.items()} == {s: n for s, n in _sizes(built).items()}
    streamed = datasets.load_dataset("webdataset", streaming=True, **kwargs)
    for split, data in streamed.items():
        keys = [sample["__key__"] for sample in data]
        assert sorted(keys) == sorted(loaded[split]["__key__"])


def _samples(tar: str) -> list[dict]:
    import webdataset as wds

    return list(wds.WebDataset(tar, shardshuffle=False))


def _sizes(out: Path) -> dict[str, int]:
    return json.loads((out / "stats.json").read_text())["pairs_per_split"]


def test_card_features_are_spelled_as_datasets_spells_them(built):
    top = front_matter(built / "README.md")
    for info in top["dataset_info"]:
        schema = arrow_schema(TABLES[info["config_name"]][0])
        assert info["features"] == datasets.Features.from_arrow_schema(schema)._to_yaml_list()
    shards = front_matter(built / "webdataset" / "README.md")
    features = shards["dataset_info"][0]["features"]
    assert features == webdataset_features()._to_yaml_list()
    # docs/hub.md's way to the features without pmc_pipeline: read them from the card.
    card = DatasetCard.load(built / "webdataset" / "README.md")
    assert DatasetInfosDict.from_dataset_card_data(card.data)["default"].features == (
        webdataset_features()
    )


def test_licence_mix_and_nc_nd_share_are_counted_from_the_parquet_pairs(built):
    stats = json.loads((built / "stats.json").read_text())
    counted = Counter(p["license"] or "unknown" for p in read_table(built, "pairs"))
    facts = gather(Output(str(built)), stats)
    assert facts.licenses == dict(counted) and sum(counted.values()) == stats["pairs"]
    header = front_matter(built / "README.md")
    assert header["license"] == "other" and header["license_link"].startswith("https://")
    card = (built / "README.md").read_text()
    for code, n in counted.items():
        assert f"| {code} | {n} | {100 * n / stats['pairs']:.1f}% |" in card
    nc_nd = non_commercial_or_no_derivatives(counted)
    assert nc_nd, "the sample build should hold NC or ND pairs"
    share = sum(counted[c] for c in nc_nd) / stats["pairs"]
    assert f"Non-commercial or no-derivatives (NC/ND): {100 * share:.1f}%" in card
    for section in ("Motivation", "Composition", "Collection", "Licence terms", "Uses",
                    "Known limitations", "Citation"):  # fmt: skip
        assert f"## {section}" in card, section


def test_croissant_validates_and_every_record_set_reads(built):
    dataset = mlc.Dataset(jsonld=built / "croissant.json")  # raises on any error
    issues = dataset.metadata.ctx.issues
    assert not issues.errors, issues.report()
    stats = json.loads((built / "stats.json").read_text())
    splits = [r["splits/name"] for r in dataset.records("splits")]
    assert sorted(splits) == sorted(stats["pairs_per_split"])  # inline data: str, not bytes
    for record_set, (schema_name, _) in TABLES.items():
        records = list(dataset.records(record_set))
        expected = read_table(built, record_set)
        assert len(records) == len(expected)
        names = {f"{record_set}/{f.name}" for f in arrow_schema(schema_name)}
        assert set(records[0]) == names
        key = "article_key" if record_set == "articles" else "key"
        got = sorted(r[f"{record_set}/{key}"].decode() for r in records)
        assert got == sorted(row[key] for row in expected)


def test_hub_files_are_deterministic_and_show_the_build_stats_records(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("staging"))
    stats = json.loads((built / "stats.json").read_text())
    assert write_hub_files(Output(str(copy)), stats) == HUB_FILES
    for name in HUB_FILES:
        assert (copy / name).read_bytes() == (built / name).read_bytes(), name
    stats["build"] = {"version": "9.8.7", "built_at": "2026-11-05T10:00:00Z"}
    (copy / "stats.json").write_text(json.dumps(stats))
    write_hub_files(Output(str(copy)), stats)
    croissant = json.loads((copy / "croissant.json").read_text())
    assert croissant["version"] == "9.8.7"
    assert croissant["datePublished"] == "2026-11-05T10:00:00Z"
    assert "built_at 2026-11-05T10:00:00Z" in (copy / "README.md").read_text()
    assert not mlc.Dataset(jsonld=copy / "croissant.json").metadata.ctx.issues.errors


def test_the_hub_command_rewrites_the_files_of_a_finished_build(built, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("staging", *HUB_FILES))
    assert not (copy / "webdataset" / "README.md").exists()
    assert cli.main(["hub", str(copy)]) == 0
    assert capsys.readouterr().out.split() == [str(copy / name) for name in HUB_FILES]
    for name in HUB_FILES:
        assert (copy / name).read_bytes() == (built / name).read_bytes(), name
    assert cli.main(["hub", str(tmp_path / "nothing")]) == 1
    assert "stats.json not found" in capsys.readouterr().err


def test_a_new_schema_field_shows_up_in_the_card_by_itself(built, tmp_path, monkeypatch, cache):
    """Nested fields (a list of objects, an object) added to the pair schema are typed in the
    card, load through `datasets` and read through Croissant, with no change to the writers."""
    schemas = tmp_path / "schemas"
    shutil.copytree(schemas_io._SOURCE_TREE, schemas)
    pair = json.loads((schemas / "pair.schema.json").read_text())
    pair["properties"]["panels"] = {
        "type": "array",
        "description": "the figure's panels",
        "items": PANEL,
    }
    pair["properties"]["compound"] = COMPOUND
    pair["required"] += ["panels", "compound"]
    (schemas / "pair.schema.json").write_text(json.dumps(pair))
    monkeypatch.setattr(schemas_io, "_SOURCE_TREE", schemas)
    schemas_io.load_schema.cache_clear()
    try:
        out = tmp_path / "out"
        shutil.copytree(built, out, ignore=shutil.ignore_patterns("staging"))
        schema = arrow_schema("pair")
        for part in sorted((out / "parquet" / "pairs").rglob("*.parquet")):
            rows = pq.read_table(part).to_pylist()
            for i, row in enumerate(rows):
                row["panels"] = [{"label": "A", "bbox": [0.0, 0.5]}] * (i % 3)
                row["compound"] = None if i % 2 else {"is_compound": i % 3 > 0}
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), part)
        stats = json.loads((out / "stats.json").read_text())
        write_hub_files(Output(str(out)), stats)

        card = (out / "README.md").read_text()
        assert "| `panels[].label` | `string` | panel label |" in card
        assert "| `compound.is_compound` | `bool` | yes or no |" in card
        pairs = load(out, "pairs", cache=cache)
        assert pairs["train"].features["panels"] == datasets.List(
            {"label": datasets.Value("string"), "bbox": datasets.List(datasets.Value("float64"))}
        )
        expected = {p["key"]: p for p in read_table(out, "pairs")}
        for row in pairs["train"]:
            assert row["panels"] == expected[row["key"]]["panels"]
            assert row["compound"] == expected[row["key"]]["compound"]

        dataset = mlc.Dataset(jsonld=out / "croissant.json")
        assert not dataset.metadata.ctx.issues.errors
        by_key = {r["pairs/key"].decode(): r for r in dataset.records("pairs")}
        for key, row in expected.items():
            panels = [
                {"label": p["pairs/panels/label"].decode(), "bbox": list(p["pairs/panels/bbox"])}
                for p in by_key[key]["pairs/panels"]
            ]
            assert panels == row["panels"], key
    finally:
        schemas_io.load_schema.cache_clear()


def test_an_empty_build_and_a_split_the_hub_refuses_still_get_cards(tmp_path_factory, cache):
    """A build that kept nothing, and one with a split name Hugging Face does not accept
    ('hold-out'), still get their Hub files, which say so; what can be loaded loads."""
    empty = _build(tmp_path_factory, "empty", 8, 3, "--min-side", "100000")
    assert json.loads((empty / "stats.json").read_text())["pairs"] == 0
    assert "pairs" not in {c["config_name"] for c in front_matter(empty / "README.md")["configs"]}
    assert load(empty, "figures", cache=cache)["full"].num_rows > 0
    assert not mlc.Dataset(jsonld=empty / "croissant.json").metadata.ctx.issues.errors

    odd = _build(tmp_path_factory, "odd", 16, 5, "--split", "train=0.5,hold-out=0.5")
    stats = json.loads((odd / "stats.json").read_text())
    assert stats["pairs_per_split"].get("hold-out"), "the build should fill the odd split"
    header = front_matter(odd / "README.md")
    pairs_config = next(c for c in header["configs"] if c["config_name"] == "pairs")
    assert [f["split"] for f in pairs_config["data_files"]] == ["train"]
    assert "hold-out" in (odd / "README.md").read_text()
    odd_croissant = mlc.Dataset(jsonld=odd / "croissant.json")  # Croissant takes any name
    assert [r["splits/name"] for r in odd_croissant.records("splits")] == ["train", "hold-out"]
    assert load(odd, cache=cache)["train"].num_rows == stats["pairs_per_split"]["train"]
    assert (
        load(odd / "webdataset", cache=cache)["train"].num_rows == stats["pairs_per_split"]["train"]
    )
