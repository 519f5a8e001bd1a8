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
    assert list(table.columns) == [
        "classification", "section_id", "section_name", "municipality", "region",
        "count", "rate", "z", "p", "p_fdr", "label",
    ]  # fmt: skip
    assert set(table["classification"]) == {"RESTRICTED"}
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


def test_grid_is_refused_in_public_mode(tmp_path, monkeypatch, capsys):
    out = tmp_path / "h.geojson"
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    with pytest.raises(SystemExit) as exc:
        main(["hotspots", "--unit", "grid", "--cell-m", "1000", "--out", str(out)])
    assert exc.value.code == 2 and not out.exists()
    assert "public versions show sections only" in capsys.readouterr().err
    monkeypatch.delenv("DASHBOARD_PUBLIC")
    with pytest.raises(SystemExit):
        main(["hotspots", "--unit", "grid", "--public", "--out", str(out)])
    assert not out.exists()


def test_public_sections_hide_small_counts(tmp_path, capsys):
    out = tmp_path / "h.geojson"
    assert main(["hotspots", "--public", "--category", "drugs", "--out", str(out)]) == 0
    units = gpd.read_file(out)
    small = units["count"].notna() & (units["count"] > 0) & (units["count"] < 5)
    hidden = units["withheld"] == "small"
    assert not small.any() and hidden.any()
    assert set(units["withheld"].fillna("")) <= {"", "small"}
    assert units.loc[hidden, ["count", "rate", "z", "p", "p_fdr"]].isna().all().all()
    assert set(units.loc[hidden, "label"]) == {hotspots.NOT_SIGNIFICANT}
    assert json.loads(out.read_text(encoding="utf-8"))["classification"] == "PUBLIC"
    assert set(units["classification"]) == {"PUBLIC"}


def test_public_gi_star_is_computed_on_the_published_counts(demo, capsys):
    """Gi* in public: the published counts, those shown as "fewer than N" entering as 0 (and listed without z)."""
    from dashboard_fixtures import public_policy

    from geo import figures

    assert main(["hotspots", "--public", "--category", "theft", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    period = figures.Period(*(pd.Timestamp(d).date() for d in doc["period"]))
    policy = public_policy()
    published = figures.incident_counts(policy.apply(demo).cube, period, ("theft",))
    published = published.reindex(demo.sections["section_id"].astype(str), fill_value=0)
    small = published.map(policy.is_small)
    assert small.any() and (published > 0).any()
    expected = hotspots.section_hotspots(demo.sections, published.where(~small, 0).astype(float))
    units = pd.DataFrame(doc["units"]).set_index("section_id")
    shown = ~small.reindex(units.index).to_numpy(dtype=bool)
    assert (units.loc[shown, "count"] == published[units.index[shown]]).all()
    assert units.loc[shown, "z"].to_numpy() == pytest.approx(expected["z"].reindex(units.index[shown]).to_numpy())
    assert units.loc[~shown, "z"].isna().all() and units.loc[~shown, "count"].isna().all()


def test_public_hotspots_refuse_a_free_set_of_categories(tmp_path, capsys):
    out = tmp_path / "h.csv"
    with pytest.raises(SystemExit) as exc:
        main(["hotspots", "--public", "--category", "drugs", "--category", "theft", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and not out.exists()
    assert "--category drugs, theft" in err and "one category at a time" in err and "crimes (theft" in err
    assert main(["hotspots", "--category", "drugs", "--category", "theft", "--out", str(out)]) == 0  # restricted


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
