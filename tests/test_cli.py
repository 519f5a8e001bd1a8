"""Command line: ``python -m geo validate``. Exit 0 no errors, 1 errors in the data, 2 bad usage.

Most tests call :func:`geo.cli.main` in-process (fast); two run the real
``python -m geo`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo import cli
from geo.cli import main
from geo.schema import COUNT_KEYS
from geo.source import DEMO_DIR, FileSource

REPO = Path(__file__).resolve().parent.parent

INCIDENTS = (
    "incident_id;occurred_at;category;lat;lon\n"
    "I1;18.03.2024;Vjedhje;42,65;21,15\n"
    "I2;18.03.2024.;Vjedhje e veçantë;42,75;21,25\n"
    "I3;18/03/2024 14:05;Krađa;42,21;20,74\n"
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)  # exactly one JSON object: json.loads refuses anything after it


def usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["validate", *map(str, argv)])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    return err


@pytest.fixture
def incidents_path(write):
    return write("incidents.csv", INCIDENTS)


# ---------------------------------------------------------------- exit codes and output


def test_valid_data_exits_0(capsys, sections_path, incidents_path):
    code, out, _ = run(capsys, "--sections", sections_path, "--incidents", incidents_path)
    assert code == 0
    assert "WARNING [unknown_category]" in out
    assert "incidents" in out and "DOES NOT RECONCILE" not in out
    assert "OK: 0 error(s), 1 warning(s)" in out


def test_json_is_one_object_with_the_report(capsys, sections_path, incidents_path):
    code, report = run_json(capsys, "--sections", sections_path, "--incidents", incidents_path)
    assert code == 0
    assert set(report) == {"ok", "errors", "warnings", "counts"}
    assert report["ok"] is True
    assert report["errors"] == []
    assert [(w["code"], w["row"], w["field"], w["value"]) for w in report["warnings"]] == [
        ("unknown_category", 2, "category", "Vjedhje e veçantë")
    ]
    assert report["counts"]["incidents"] == {"loaded": 3, "joined": 2, "outside": 1, "rejected": 0}
    assert report["counts"]["sections"] == {"loaded": 4, "accepted": 4, "rejected": 0, "repaired": 0}
    for name, counts in report["counts"].items():
        first, *rest = COUNT_KEYS[name]
        assert counts[first] == sum(counts[k] for k in rest)


def test_json_problem_fields(capsys, sections_path, write):
    path = write("incidents.csv", "occurred_at,category,section_id\n2024-03-18,theft,S9\n")
    _, report = run_json(capsys, "--sections", sections_path, "--incidents", path)
    (w,) = report["warnings"]
    assert set(w) == {"code", "severity", "input", "file", "row", "field", "value", "expected", "message"}
    assert (w["code"], w["severity"], w["input"], w["file"], w["row"], w["field"], w["value"]) == (
        "unknown_section",
        "warning",
        "incidents",
        "incidents.csv",
        1,
        "section_id",
        "S9",
    )


def test_errors_in_the_data_exit_1(capsys, tmp_path, grid, write_boundaries, incidents_path):
    gdf = grid.copy()
    gdf.loc[3, "section_id"] = "S1"
    path = write_boundaries(gdf, tmp_path / "dup.geojson")
    code, report = run_json(capsys, "--sections", path, "--incidents", incidents_path)
    assert code == 1
    assert report["ok"] is False
    assert [(e["code"], e["row"], e["field"]) for e in report["errors"]] == [
        ("duplicate_id", 4, "section_id"),
        ("needs_sections", None, None),
    ]
    assert report["counts"]["sections"] == {"loaded": 4, "accepted": 0, "rejected": 4, "repaired": 0}


def test_errors_in_the_readable_report(capsys, tmp_path, write):
    empty = write("sections.geojson", "")
    code, out, _ = run(capsys, "--sections", empty)
    assert code == 1
    assert "ERROR [empty_file]" in out
    assert "NOT OK: 1 error(s), 0 warning(s)" in out


def test_missing_crs_exits_1(capsys, tmp_path, grid, write_boundaries):
    path = write_boundaries(grid.to_crs(9141).set_crs(None, allow_override=True), tmp_path / "sections.zip")
    code, report = run_json(capsys, "--sections", path)
    assert code == 1
    assert [(e["code"], e["row"], e["field"]) for e in report["errors"]] == [("missing_crs", None, None)]
    # ... and with the CRS given
    code, report = run_json(capsys, "--sections", path, "--crs", "sections=EPSG:9141")
    assert code == 0
    assert report["counts"]["sections"]["accepted"] == 4


# ---------------------------------------------------------------- options


def test_map_option(capsys, tmp_path, grid, write_boundaries):
    path = write_boundaries(grid.rename(columns={"section_name": "EMRI_SEKT"}), tmp_path / "sections.gpkg")
    code, report = run_json(capsys, "--sections", path)
    assert code == 1
    assert [(e["code"], e["row"], e["field"]) for e in report["errors"]] == [("missing_column", None, "section_name")]
    code, report = run_json(capsys, "--sections", path, "--map", "sections.section_name=EMRI_SEKT")
    assert code == 0
    assert report["errors"] == [] and report["warnings"] == []


def test_value_option(capsys, sections_path, incidents_path):
    value = "incidents.category=Vjedhje e veçantë:theft"
    code, report = run_json(capsys, "--sections", sections_path, "--incidents", incidents_path, "--value", value)
    assert code == 0
    assert report["warnings"] == []


def test_value_option_without_input_prefix_for_a_field_of_one_input(capsys, sections_path, write):
    path = write("committees.csv", "committee_id,type,name,municipality\nC1,Këshilli,K,Prishtinë\n")
    code, report = run_json(capsys, "--sections", sections_path, "--committees", path)
    assert code == 0
    assert [(w["code"], w["row"], w["field"]) for w in report["warnings"]] == [("bad_value", 1, "type")]
    assert report["counts"]["committees"] == {"loaded": 1, "matched": 0, "rejected": 1}
    # "type" belongs to committees only: no INPUT. prefix needed
    code, report = run_json(capsys, "--sections", sections_path, "--committees", path, "--value", "type=Këshilli:MCPS")
    assert code == 0
    assert report["warnings"] == []
    assert report["counts"]["committees"] == {"loaded": 1, "matched": 1, "rejected": 0}


def test_crs_option_for_xy_columns(capsys, sections_path, write):
    path = write("incidents.csv", "occurred_at,category,x,y\n2024-03-18,theft,7512345.0,4726000.0\n")
    code, report = run_json(capsys, "--sections", sections_path, "--incidents", path)
    assert code == 1
    assert [(e["code"], e["input"]) for e in report["errors"]] == [("missing_crs", "incidents")]
    code, report = run_json(capsys, "--sections", sections_path, "--incidents", path, "--crs", "incidents=EPSG:9141")
    assert code == 0
    assert report["counts"]["incidents"]["loaded"] == 1


def test_encoding_option(capsys, sections_path, write):
    path = write("incidents.csv", INCIDENTS, encoding="cp1250")
    _, report = run_json(capsys, "--sections", sections_path, "--incidents", path)
    assert [w["code"] for w in report["warnings"]] == ["encoding_guessed", "unknown_category"]
    _, report = run_json(capsys, "--sections", sections_path, "--incidents", path, "--encoding", "incidents=cp1250")
    assert [w["code"] for w in report["warnings"]] == ["unknown_category"]
    assert report["warnings"][0]["value"] == "Vjedhje e veçantë"


# ---------------------------------------------------------------- usage errors exit 2


def test_ambiguous_map_field(capsys, sections_path):
    err = usage_error(capsys, "--sections", sections_path, "--map", "section_id=x")
    assert "ambiguous" in err and "section_id" in err


def test_incidents_without_sections(capsys, incidents_path):
    err = usage_error(capsys, "--incidents", incidents_path)
    assert "--sections" in err


@pytest.mark.parametrize(
    "value",
    [
        "incidents.category=Vjedhje:stealing",  # not a code
        "incidents.category=Vjedhje",  # no FROM:TO
        "incidents.occurred_at=a:b",  # no vocabulary
        "category=Vjedhje:theft",  # ambiguous: incidents and concerns
        "incidents.kategoria=Vjedhje:theft",  # no such field
        "people.category=Vjedhje:theft",  # no such input
    ],
)
def test_bad_value_option(capsys, sections_path, incidents_path, value):
    usage_error(capsys, "--sections", sections_path, "--incidents", incidents_path, "--value", value)


def test_unknown_encoding(capsys, sections_path, incidents_path):
    err = usage_error(
        capsys, "--sections", sections_path, "--incidents", incidents_path, "--encoding", "incidents=klingon"
    )
    assert "klingon" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--crs", "EPSG:9141"],  # no INPUT=
        ["--crs", "places=EPSG:9141"],  # no such input
        ["--encoding", "incidents="],  # empty
        ["--map", "sections.section_name="],  # empty source column
        ["--map", "sections.nme=shapeName"],  # no such field
        ["--demo"],  # with input files
    ],
)
def test_other_usage_errors(capsys, sections_path, argv):
    usage_error(capsys, "--sections", sections_path, *argv)


def test_missing_file_is_a_usage_error(capsys, tmp_path):
    err = usage_error(capsys, "--sections", tmp_path / "nowhere.geojson")
    assert "nowhere.geojson" in err


def test_options_without_files_are_a_usage_error(capsys):
    usage_error(capsys, "--crs", "incidents=EPSG:9141")


def test_unknown_argument_is_a_usage_error(capsys):
    usage_error(capsys, "--sektions", "x")


# ---------------------------------------------------------------- the demo


@pytest.mark.parametrize("argv", [[], ["--demo"]])
def test_no_inputs_means_the_demo_source(capsys, monkeypatch, sections_path, argv):
    calls = []

    def fake_demo_source():
        calls.append(True)
        return FileSource({"sections": sections_path}, label="demo", is_demo=True)

    monkeypatch.setattr(cli, "demo_source", fake_demo_source)
    code, report = run_json(capsys, *argv)
    assert calls == [True]
    assert code == 0
    assert report["counts"]["sections"]["accepted"] == 4


@pytest.mark.skipif(
    not (DEMO_DIR / "sections.geojson").exists(),
    reason="data/demo/sections.geojson is missing: generate the demo with `python -m geo demo` first",
)
def test_no_inputs_validates_the_demo(capsys):
    code, report = run_json(capsys)
    assert code == 0
    assert report["ok"] is True
    assert report["counts"]["sections"]["accepted"] > 0
    for name, counts in report["counts"].items():
        first, *rest = COUNT_KEYS[name]
        assert counts[first] == sum(counts[k] for k in rest)


# ---------------------------------------------------------------- the real command


def _python_m_geo(*argv) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "geo", "validate", *map(str, argv)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_subprocess_json(sections_path, incidents_path):
    proc = _python_m_geo("--sections", sections_path, "--incidents", incidents_path, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # stdout holds exactly one JSON object
    assert proc.stdout.count("\n") == 1
    assert set(report) == {"ok", "errors", "warnings", "counts"}
    assert report["warnings"][0]["value"] == "Vjedhje e veçantë"  # not escaped to \\u00eb


def test_subprocess_usage_error(incidents_path):
    proc = _python_m_geo("--incidents", incidents_path, "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--sections" in proc.stderr
