"""`pmc-pipeline parse PATH...`: one JSON line per file, valid against the schema; failed
files print their path and error, and the command exits 1 after the others."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
from helpers.jats_docs import fig, nxml, oai_pmh
from helpers.paths import shared_fixture

from pmc_pipeline.cli import main
from pmc_pipeline.schemas_io import load_schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema("article")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def run_parse(capsys, *argv: str) -> tuple[int, list[dict]]:
    code = main(["parse", *argv])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_good_files_print_one_valid_line_each_and_exit_0(tmp_path, capsys, validator):
    body = '<p>Shown (<xref ref-type="fig" rid="F1">Fig. 1</xref>).</p>' + fig("F1", label="Fig 1")
    first = write(tmp_path / "a.nxml", nxml(body))
    second = write(tmp_path / "b.xml", oai_pmh(body))
    code, records = run_parse(capsys, str(first), str(second))
    assert code == 0
    assert [r["path"] for r in records] == [str(first), str(second)]
    for record in records:
        validator.validate(record)
        (figure,) = record["figures"]
        assert figure["label"] == "Fig 1"
        assert figure["caption"] == "A caption."
        assert figure["kind"] == "figure"
        assert figure["graphics"] == [{"href": "F1-image", "role": "image"}]
        assert figure["mentions"] == ["Shown (Fig. 1)."]


def test_a_failed_file_prints_its_error_and_the_run_goes_on_then_exits_1(
    tmp_path, capsys, validator
):
    broken = write(tmp_path / "broken.nxml", b"<article><body><p>cut")
    hostile = write(
        tmp_path / "laughs.xml",
        b'<!DOCTYPE article [<!ENTITY a "aaaa">]><article><p>&a;</p></article>',
    )
    missing = tmp_path / "missing.nxml"
    good = write(tmp_path / "good.nxml", nxml(fig("F1")))
    code, records = run_parse(capsys, str(broken), str(hostile), str(missing), str(good))
    assert code == 1
    assert [r["path"] for r in records] == [str(broken), str(hostile), str(missing), str(good)]
    for record in records:
        validator.validate(record)
    assert [r.get("status") for r in records] == ["parse_failed", "unsafe", "fetch_failed", None]
    assert "not well-formed" in records[0]["error"]
    assert "entity" in records[1]["error"]
    assert records[3]["figures"][0]["id"] == "F1"


def test_max_bytes_refuses_a_file_without_reading_it(tmp_path, capsys):
    path = write(tmp_path / "big.nxml", nxml(fig("F1")))
    code, (record,) = run_parse(capsys, "--max-bytes", "64", str(path))
    assert code == 1
    assert record["status"] == "unsafe" and "over the 64 byte cap" in record["error"]


def test_a_folder_is_searched_for_xml_files_in_sorted_order(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "b.nxml", nxml(fig("F2")))
    write(tmp_path / "a.xml", nxml(fig("F1")))
    write(tmp_path / "notes.txt", b"not an article")
    code, records = run_parse(capsys, str(tmp_path))
    assert code == 0
    assert [r["figures"][0]["id"] for r in records] == ["F1", "F2"]


def test_a_real_cloud_article(capsys, validator):
    path = shared_fixture("jats", "pyEuropePMC", "benchmark_xmls", "xml", "PMC13170065.xml")
    code, (record,) = run_parse(capsys, str(path))
    assert code == 0
    validator.validate(record)
    assert record["pmcid"] == "PMC13170065"
    assert record["license"]["code"] == "CC BY-NC"
    assert len(record["figures"]) == 5
    assert all(f["graphics"][0]["role"] == "image" for f in record["figures"])


def test_the_installed_command_runs(tmp_path):
    path = write(tmp_path / "a.nxml", nxml(fig("F1")))
    done = subprocess.run(
        [sys.executable, "-m", "pmc_pipeline.cli", "parse", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["figures"][0]["id"] == "F1"


def test_read_references_refuses_a_file_broken_only_inside_its_reference_list(
    tmp_path, capsys, validator
):
    refs = '<ref-list><ref id="B1"><mixed-citation><italic>Cell</mixed-citation></ref></ref-list>'
    path = write(tmp_path / "a.nxml", nxml(fig("F1"), back=refs))
    code, (record,) = run_parse(capsys, str(path))
    assert code == 0 and [f["id"] for f in record["figures"]] == ["F1"]
    validator.validate(record)
    code, (record,) = run_parse(capsys, "--read-references", str(path))
    assert code == 1 and record["status"] == "parse_failed"
    assert "not well-formed" in record["error"]


def test_only_regular_files_are_read(tmp_path, capsys):
    """/dev/zero would be read until memory runs out and a FIFO would hang: neither is read."""
    import os

    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    code, records = run_parse(capsys, "/dev/zero", str(fifo))
    assert code == 1
    assert [(r["path"], r["status"]) for r in records] == [
        ("/dev/zero", "unsafe"),
        (str(fifo), "unsafe"),
    ]
    assert all("not a regular file" in r["error"] for r in records)


def test_each_figure_shows_its_types_and_panels(capsys, validator):
    path = shared_fixture("jats", "pubmed-client", "tests", "integration", "test_data")
    path = path / "pmc_xml" / "PMC6000000.xml"
    code, (record,) = run_parse(capsys, str(path))
    assert code == 0
    validator.validate(record)
    histology = record["figures"][1]
    assert histology["figure_types"] == ["light_microscopy"]
    assert "hematoxylin" in histology["figure_type_evidence"]["light_microscopy"]
    assert histology["compound"] is True
    assert [p["label"] for p in histology["panels"]] == list("abcdefgh")
    assert histology["panels"][0]["subcaption"] == (
        "Eight-week-old female BALB/c mice without infection."
    )
    assert histology["shared_caption"] == histology["title"]


def test_python_dash_m_runs_the_command():
    """`python -m pmc_pipeline` is the `pmc-pipeline` command."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pmc_pipeline", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "parse" in done.stdout and "build" in done.stdout
