"""Outputs a reader can use as they are: hot spots by name and area with whole counts, demo data marked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import shapely
from test_exports import map_counts as map_properties

from geo import exports
from geo.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_hotspots_json_names_each_section_and_its_area_and_counts_are_integers(capsys, demo):
    assert main(["hotspots", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    first = doc["units"][0]
    sec = demo.sections.set_index("section_id").loc[first["section_id"]]
    assert (first["section_name"], first["municipality"], first["region"]) == (
        sec["section_name"],
        sec["municipality"],
        sec["region"],
    )
    assert all(isinstance(u["count"], int) for u in doc["units"])
    assert doc["data"] == exports.DEMO_NOTE


def test_public_hotspots_json_withholds_counts_as_null_not_floats(capsys):
    assert main(["hotspots", "--public", "--json"]) == 0
    units = json.loads(capsys.readouterr().out)["units"]
    assert {type(u["count"]) for u in units} <= {int, type(None)}
    assert {u["withheld"] for u in units} == {"", "small"}
    assert all((u["count"] is None) == (u["withheld"] == "small") for u in units)  # nothing else is withheld


def test_every_output_of_the_demo_says_it_is_synthetic(tmp_path, capsys):
    out = tmp_path / "map.html"
    assert main(["map", "--lang", "sq", "--out", str(out)]) == 0
    assert "të dhëna demo sintetike" in out.read_text(encoding="utf-8")
    geo = tmp_path / "hot.geojson"
    assert main(["hotspots", "--out", str(geo)]) == 0
    assert json.loads(geo.read_text(encoding="utf-8"))["data"] == exports.DEMO_NOTE
    assert main(["hotspots"]) == 0
    assert exports.DEMO_NOTE in capsys.readouterr().out


def test_own_data_is_not_called_a_demo(tmp_path, capsys, write_boundaries, make_sections):
    sections = write_boundaries(make_sections([shapely.box(21.1, 42.6, 21.2, 42.7)]), tmp_path / "s.geojson")
    out = tmp_path / "map.html"
    assert main(["map", "--sections", str(sections), "--out", str(out)]) == 0
    assert exports.DEMO_NOTE not in out.read_text(encoding="utf-8")


def test_the_static_folder_is_in_the_repository():
    """Streamlit looks for ./static when it starts, before the app copies Leaflet into it."""
    tracked = subprocess.run(["git", "ls-files", "static"], cwd=ROOT, capture_output=True, text=True).stdout
    assert (ROOT / "static").is_dir() and tracked.strip()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_public_outputs_that_refuse_broken_data_do_not_print_its_values(tmp_path, capsys, monkeypatch, how):
    """A brief, map or hot-spot output refused for errors says where they are, not what the file holds."""
    secret = "Sektori-i-fshehte-42"
    ring = [[21.1, 42.6], [21.2, 42.6], [21.2, 42.7], [21.1, 42.6]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"section_id": secret, "section_name": "A", "municipality": "Prishtinë"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ]
        * 2,  # the same id twice: an error whose value is the id
    }
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    args = ["map", "--sections", str(path), "--out", str(tmp_path / "m.html")]
    if how == "env":
        monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    else:
        args.append("--public")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "the value is withheld in public-safe mode" in err and secret not in err
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    assert main(args[:-1] if how == "flag" else args) == 1  # the control: restricted, the value is shown
    assert secret in capsys.readouterr().err


def map_counts(page: str) -> dict[str, str]:
    """The count text (``t2``) of every section of a map file."""
    return {sid: props["t2"] for sid, props in map_properties(page).items()}


def test_public_map_file_and_hotspots_give_the_same_published_counts(tmp_path, capsys):
    page = tmp_path / "m.html"
    assert main(["map", "--public", "--lang", "en", "--out", str(page)]) == 0
    assert main(["hotspots", "--public", "--json"]) == 0  # the same categories: all but traffic tickets
    units = json.loads(capsys.readouterr().out.splitlines()[-1])["units"]
    shown = map_counts(page.read_text(encoding="utf-8"))
    assert len(shown) == len(units)
    for u in units:
        want = "fewer than 5" if u["withheld"] == "small" else f"{u['count']:,}"
        assert shown[u["section_id"]] == want, (u, shown[u["section_id"]])


@pytest.mark.parametrize("command", [["map"], ["hotspots"], ["brief", "--municipality", "Gjilan"]])
def test_public_output_of_a_free_period_names_the_options_and_what_is_allowed(command, tmp_path, capsys):
    out = tmp_path / ("h.csv" if command[0] == "hotspots" else "o.html")
    with pytest.raises(SystemExit) as exc:
        main([*command, "--public", "--from", "2026-09-05", "--to", "2026-10-04", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and not out.exists()
    assert "--from 2026-09-05 --to 2026-10-04" in err
    assert all(word in err for word in ("calendar month", "quarter", "year")) and "Traceback" not in err
    # a quarter is a public period
    assert main([*command, "--public", "--from", "2026-07-01", "--to", "2026-09-30", "--out", str(out)]) == 0


@pytest.mark.parametrize("command", [["map"], ["hotspots"], ["brief", "--municipality", "Gjilan"]])
@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-01-01", "2026-12-31"), ("2027-01-01", "2027-12-31"), ("2026-11-01", "2026-11-30")],
)
def test_public_output_of_a_period_the_data_do_not_cover_completely_is_refused(command, start, end, tmp_path, capsys):
    # the demo's incidents end on 2026-10-31: 2026 is not a whole year of data, November and 2027 have none
    out = tmp_path / ("h.csv" if command[0] == "hotspots" else "o.html")
    with pytest.raises(SystemExit) as exc:
        main([*command, "--public", "--from", start, "--to", end, "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and not out.exists() and "Traceback" not in err
    assert f"--from {start} --to {end}" in err and "covers completely" in err
    assert "2026-10-01 to 2026-10-31" in err and "2026-07-01 to 2026-09-30" in err  # the newest allowed periods
    # the newest month is allowed, and is the default
    assert main([*command, "--public", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out)]) == 0
