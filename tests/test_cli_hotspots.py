"""python -m geo hotspots: per unit count, rate, Gi* z, p, FDR-adjusted p and label."""

import json

import geopandas as gpd
import pandas as pd
import pytest

from geo import hotspots
from geo.cli import main


def test_sections_csv_has_every_section_and_the_columns(tmp_path, capsys, demo):
    out = tmp_path / "h.csv"
    assert main(["hotspots", "--from", "2026-01-01", "--to", "2026-10-31", "--out", str(out)]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns) == ["section_id", "count", "rate", "z", "p", "p_fdr", "label"]
    assert len(table) == len(demo.sections)
    assert set(table["label"]) <= set(hotspots.LABELS)
    assert (table["p_fdr"] >= table["p"] - 1e-12).all()
    # the demo's planted theft/burglary/drugs hotspots make some sections hot at 99 %
    assert (table["label"] == hotspots.HOT_99).any()


def test_json_is_one_object(capsys):
    assert main(["hotspots", "--category", "theft", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["categories"] == ["theft"] and doc["unit"] == "sections"
    assert sum(doc["labels"].values()) == len(doc["units"])


def test_grid_geojson_in_public_mode_hides_small_counts(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.setenv("DASHBOARD_PUBLIC_MIN_CELL_M", "2000")
    out = tmp_path / "h.geojson"
    assert main(["hotspots", "--unit", "grid", "--cell-m", "1000", "--out", str(out)]) == 0
    cells = gpd.read_file(out)
    assert "cell_id" in cells and cells.crs.to_epsg() == 4326
    # cells are no finer than the deployment's public minimum (2,000 m) even though 1,000 m was asked for
    side = cells.to_crs(9141).geometry.apply(lambda g: max(g.bounds[2] - g.bounds[0], g.bounds[3] - g.bounds[1]))
    assert side.max() == pytest.approx(2000, abs=1)
    small = cells["count"].notna() & (cells["count"] > 0) & (cells["count"] < 5)
    assert not small.any()
    assert cells["suppressed"].any()


@pytest.mark.parametrize(
    "args",
    [
        ["--category", "nonsense"],
        ["--out", "h.xlsx"],
        ["--weights", "distance"],  # needs --threshold-m
        ["--from", "2026-01-01"],
    ],
)
def test_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["hotspots", *args])
    assert exc.value.code == 2
