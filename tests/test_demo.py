"""Tests of the demo-dataset generator (geo/demo.py).

One generation per module (fixture ``demo_dir``); ``check`` regenerates twice more
(committed files, another seed). Areas and distances in EPSG:9141 (metres).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import demo, places, schema
from geo.source import DEMO_DIR, DEMO_FILES

METRIC = schema.METRIC_CRS
NORTH = ("Leposaviq", "Mitrovica Veriore", "Zubin Potok", "Zveçan")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    start = time.perf_counter()
    paths = demo.generate(out)
    elapsed = time.perf_counter() - start
    assert set(paths) == set(DEMO_FILES)
    assert all(paths[k] == out / DEMO_FILES[k] and paths[k].exists() for k in DEMO_FILES)
    assert elapsed < 45, f"generation took {elapsed:.1f} s"
    return out


@pytest.fixture(scope="module")
def data(demo_dir: Path) -> SimpleNamespace:
    sections = gpd.read_file(demo_dir / DEMO_FILES["sections"])
    incidents = pd.read_parquet(demo_dir / DEMO_FILES["incidents"])
    read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
    return SimpleNamespace(
        sections=sections,
        sections_m=sections.to_crs(METRIC),
        incidents=incidents,
        points=incidents[incidents["category"] != "traffic_ticket"],
        tickets=incidents[incidents["category"] == "traffic_ticket"],
        concerns=pd.read_csv(demo_dir / DEMO_FILES["concerns"], **read),
        committees=pd.read_csv(demo_dir / DEMO_FILES["committees"], **read),
        meetings=pd.read_csv(demo_dir / DEMO_FILES["meetings"], **read),
        surveys=pd.read_csv(demo_dir / DEMO_FILES["surveys"], **read),
    )


@pytest.fixture(scope="module")
def outline() -> shapely.Polygon:
    return gpd.read_file(places.REFERENCE_DIR / "kosovo_outline.geojson").geometry.iloc[0]


@pytest.fixture(scope="module")
def outline_m() -> shapely.Polygon:
    return gpd.read_file(places.REFERENCE_DIR / "kosovo_outline.geojson").to_crs(METRIC).geometry.iloc[0]


def _located(points: pd.DataFrame, sections: gpd.GeoDataFrame) -> pd.DataFrame:
    """``section_id`` and ``municipality`` of the section each lon/lat point lies in (NaN outside all)."""
    lon, lat = points["lon"].astype(float), points["lat"].astype(float)
    g = gpd.GeoDataFrame(index=points.index, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    joined = gpd.sjoin(g, sections[["section_id", "municipality", "geometry"]], predicate="within", how="left")
    return joined.loc[~joined.index.duplicated(), ["section_id", "municipality"]].reindex(points.index)


def _municipality_of(points: pd.DataFrame, sections: gpd.GeoDataFrame) -> pd.Series:
    return _located(points, sections)["municipality"]


# --- determinism and check --------------------------------------------------------------------------------------


def test_same_seed_same_content_and_committed_files_are_current(demo_dir: Path) -> None:
    # the fixture's generation equals the committed files, written by another process
    assert demo.compare(DEMO_DIR, demo_dir) == []
    # and a fresh generation compared with them through check()
    assert demo.check(DEMO_DIR) == []


def test_other_seed_gives_other_content(demo_dir: Path) -> None:
    diffs = demo.check(demo_dir, seed=demo.DEFAULT_SEED + 1)
    assert diffs
    assert any(d.startswith("incidents.parquet") for d in diffs)
    assert any(d.startswith("concerns.csv") for d in diffs)


def test_compare_reports_changed_and_missing_files(demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    concerns = pd.read_csv(copy / DEMO_FILES["concerns"], dtype=str, keep_default_na=False)
    concerns.loc[4, "status"] = "open" if concerns.loc[4, "status"] != "open" else "resolved"
    concerns.to_csv(copy / DEMO_FILES["concerns"], index=False)
    (copy / DEMO_FILES["surveys"]).unlink()
    diffs = demo.compare(demo_dir, copy)
    assert len(diffs) == 2, diffs
    assert diffs[0].startswith("concerns.csv: column 'status' differs in 1 of")
    assert "row 5" in diffs[0]
    assert diffs[1].startswith("surveys.csv: missing")


def test_compare_is_content_wise_not_byte_wise(demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    meetings = pd.read_csv(copy / DEMO_FILES["meetings"], dtype=str, keep_default_na=False)
    meetings.to_csv(copy / DEMO_FILES["meetings"], index=False, lineterminator="\r\n", quoting=1)  # all quoted, CRLF
    concerns = pd.read_csv(copy / DEMO_FILES["concerns"], dtype=str, keep_default_na=False)
    concerns["lat"] = concerns["lat"].map(lambda v: f"{float(v):.9f}")  # 42.5 -> 42.500000000
    concerns.to_csv(copy / DEMO_FILES["concerns"], index=False)
    for name in ("meetings", "concerns"):
        assert (copy / DEMO_FILES[name]).read_bytes() != (demo_dir / DEMO_FILES[name]).read_bytes()
    assert demo.compare(demo_dir, copy) == []
    concerns.loc[0, "lat"] = f"{float(concerns.loc[0, 'lat']) + 1e-6:.9f}"  # 0.1 m is a difference
    concerns.to_csv(copy / DEMO_FILES["concerns"], index=False)
    assert [d.split(" (")[0] for d in demo.compare(demo_dir, copy)] == [
        f"concerns.csv: column 'lat' differs in 1 of {len(concerns)} rows"
    ]


def test_committed_output_is_small_and_labelled_synthetic() -> None:
    total = sum((DEMO_DIR / f).stat().st_size for f in DEMO_FILES.values())
    assert total < 20 * 1024 * 1024
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    for phrase in (
        "synthetic",
        "not police data",
        "Natural Earth",
        "GeoNames",
        "CC BY 4.0",
        "census 2024",
        f"--seed {demo.DEFAULT_SEED}",
    ):
        assert phrase in readme


def test_pure_library() -> None:
    source = Path(demo.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+streamlit", source, re.MULTILINE)


# --- sections ---------------------------------------------------------------------------------------------------


def test_sections_contract_and_ids(data: SimpleNamespace) -> None:
    s = data.sections
    assert list(s.columns) == [*schema.SECTIONS.field_names, "geometry"]
    assert s.crs.to_epsg() == 4326
    assert len(s) >= 250
    assert s["section_id"].is_unique
    names = [m.name for m in places.municipalities()]
    assert set(s["municipality"]) == set(names)
    for m in places.municipalities():
        own = s[s["municipality"] == m.name]
        assert len(own) >= 1
        assert all(re.fullmatch(rf"{demo.MUNICIPALITY_CODES[m.name]}-\d{{2}}", i) for i in own["section_id"])
        assert (own["region"] == m.region).all()
        assert (own["station"] == f"Stacioni Policor {m.name}").all()
        assert own["section_name"].str.startswith(f"{m.name} ").all()
    assert set(s["geometry"].geom_type) == {"Polygon"}
    assert s.is_valid.all()


def test_sections_population(data: SimpleNamespace) -> None:
    s = data.sections
    assert (s["population"] > 0).all()
    totals = s.groupby("municipality")["population"].sum()
    for m in places.municipalities():
        assert totals[m.name] == m.population
    # about one section per 6,000 residents
    assert abs(len(s) - sum(m.population for m in places.municipalities()) / 6000) < 20
    # town sections hold more people: the seat's section beats the municipality's median section
    big = s[s["municipality"] == "Prishtinë"].set_index("section_id")
    assert big.loc["PR-01", "population"] > big["population"].median()


def test_sections_tile_the_outline(data: SimpleNamespace, outline_m: shapely.Polygon) -> None:
    geoms = data.sections_m.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    pairs = a < b
    overlaps = shapely.area(shapely.intersection(geoms[a[pairs]], geoms[b[pairs]]))
    assert overlaps.max() <= schema.AREA_TOLERANCE_M2
    union = shapely.union_all(geoms)
    assert abs(union.area - outline_m.area) / outline_m.area < 0.001
    holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    assert all(h.area <= schema.AREA_TOLERANCE_M2 for h in holes)
    assert isinstance(union, shapely.Polygon)
    # the union follows the outline: an edge straight in WGS84 bends by up to a few metres in EPSG:9141
    assert outline_m.buffer(-5.0).difference(union).area <= schema.AREA_TOLERANCE_M2
    assert union.difference(outline_m.buffer(5.0)).area <= schema.AREA_TOLERANCE_M2


def test_municipalities_contain_their_seats_and_small_ones_stay_small(data: SimpleNamespace) -> None:
    seats = demo.demo_seats()
    by_mun = data.sections_m.dissolve("municipality")
    for m in places.municipalities():
        lon, lat = seats[m.name]
        seat = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(METRIC).iloc[0]
        ref = gpd.GeoSeries(gpd.points_from_xy([m.seat_lon], [m.seat_lat]), crs=4326).to_crs(METRIC).iloc[0]
        assert seat.distance(ref) < 1000.0
        assert by_mun.geometry[m.name].contains(seat), m.name
        assert isinstance(by_mun.geometry[m.name], shapely.Polygon), m.name
    area_km2 = by_mun.area / 1e6
    assert area_km2["Mitrovica Veriore"] < 30
    assert area_km2["Mamushë"] < 30
    # the rest roughly keeps its real size
    ratio = np.array([area_km2[m.name] / m.area_km2 for m in places.municipalities()])
    assert np.median(np.abs(np.log(ratio))) < 0.1


def test_demo_seats_only_move_seats_outside_the_outline(outline: shapely.Polygon) -> None:
    seats = demo.demo_seats()
    for m in places.municipalities():
        if outline.contains(shapely.Point(m.seat_lon, m.seat_lat)):
            assert seats[m.name] == pytest.approx((m.seat_lon, m.seat_lat), abs=1e-6)
        else:
            assert outline.contains(shapely.Point(seats[m.name]))


def test_officers_are_fictitious(data: SimpleNamespace) -> None:
    pattern = re.compile(r"[^()|]+ \(\+383 49 \d{3} \d{3}, [a-z0-9.]+@example\.invalid\)")
    emails = []
    for cell in data.sections["officers"]:
        officers = cell.split(schema.LIST_SEPARATOR)
        assert 2 <= len(officers) <= 3
        for o in officers:
            assert pattern.fullmatch(o), o
            emails.append(o.rsplit(", ", 1)[1].rstrip(")"))
    assert len(emails) == len(set(emails))
    assert 0 < data.sections["officers_public"].mean() < 1


def test_villages_are_made_up_and_unique(data: SimpleNamespace) -> None:
    lists = data.sections["villages"].str.split(schema.LIST_SEPARATOR)
    assert lists.map(len).between(1, 6).all()
    names = [v for vs in lists for v in vs]
    assert len(names) == len(set(names))
    known = {places.normalize(a) for m in places.municipalities() for a in (m.name, *m.aliases)}
    assert not known & {places.normalize(v) for v in names}


# --- incidents --------------------------------------------------------------------------------------------------


def test_incidents_columns_and_types(data: SimpleNamespace) -> None:
    inc = data.incidents
    assert list(inc.columns) == ["incident_id", "occurred_at", "category", "lat", "lon", "section_id", "count"]
    assert isinstance(inc["category"].dtype, pd.CategoricalDtype)
    assert set(inc["category"].cat.categories) == {t.code for t in schema.INCIDENT_CATEGORIES}
    assert pd.api.types.is_datetime64_dtype(inc["occurred_at"])
    assert inc["occurred_at"].dt.tz is None
    assert inc["lat"].dtype == np.float64 and inc["lon"].dtype == np.float64
    assert inc["incident_id"].is_unique
    assert inc["occurred_at"].min() >= pd.Timestamp("2023-11-01")
    assert inc["occurred_at"].max() <= pd.Timestamp("2026-10-31 23:59")


def test_point_rows(data: SimpleNamespace, outline: shapely.Polygon) -> None:
    p = data.points
    assert p["incident_id"].str.fullmatch(r"I-\d{4}-\d{6}").all()
    assert (p["count"] == 1).all()
    assert p["section_id"].isna().all()
    assert p[["lat", "lon"]].notna().all().all()
    assert shapely.contains_xy(outline, p["lon"].to_numpy(), p["lat"].to_numpy()).all()


def test_ticket_rows(data: SimpleNamespace) -> None:
    t = data.tickets
    assert t["incident_id"].str.fullmatch(r"T-\d{4}-\d{6}").all()
    assert t["lat"].isna().all() and t["lon"].isna().all()
    assert t["section_id"].isin(data.sections["section_id"]).all()
    assert (t["count"] > 0).all()
    assert (t["occurred_at"] == t["occurred_at"].dt.normalize()).all()
    assert not t.duplicated(["occurred_at", "section_id"]).any()
    per_year = t.groupby(t["occurred_at"].dt.year)["count"].sum()
    for year in (2024, 2025):
        assert per_year[year] == pytest.approx(demo.TICKETS_PER_YEAR, rel=0.05)
    per_day = t.groupby("occurred_at")["count"].sum()
    assert len(per_day) == 1096
    assert per_day.between(700, 2700).all()


@pytest.mark.parametrize("year", [2024, 2025])
def test_yearly_volumes(data: SimpleNamespace, year: int) -> None:
    p = data.points
    counts = p[p["occurred_at"].dt.year == year]["category"].value_counts()
    for cat, target in demo.INCIDENT_TARGETS.items():
        assert counts[cat] == pytest.approx(target, rel=0.10), cat
    assert 80 <= counts["accident_fatal"] <= 110
    accidents = counts[list(schema.ACCIDENT_CATEGORIES)].sum()
    crimes = counts[list(schema.CRIME_CATEGORIES)].sum()
    assert accidents == pytest.approx(95 + 6800 + 15500, rel=0.10)
    assert crimes == pytest.approx(24000, rel=0.10)


def test_fatal_accidents_every_period_year(data: SimpleNamespace) -> None:
    p = data.points
    fatal = p[p["category"] == "accident_fatal"]["occurred_at"]
    for start in ("2023-11-01", "2024-11-01", "2025-11-01"):
        a = pd.Timestamp(start)
        n = fatal.between(a, a + pd.DateOffset(years=1), inclusive="left").sum()
        assert 80 <= n <= 110


def test_rhythms(data: SimpleNamespace) -> None:
    p = data.points
    acc = p[p["category"].isin(schema.ACCIDENT_CATEGORIES)]["occurred_at"]
    per_day_month = (
        acc.groupby(acc.dt.month).size()
        / pd.Series(pd.date_range("2023-11-01", "2026-10-31").month).value_counts().sort_index()
    )
    assert per_day_month[[7, 8]].mean() > 1.15 * per_day_month[[3, 4]].mean()  # diaspora summer
    assert per_day_month[[12, 1]].mean() > 1.1 * per_day_month[[3, 4]].mean()  # and winter
    dow = acc.dt.day_of_week.value_counts()
    assert dow[[4, 5]].mean() > 1.1 * dow[[0, 1, 2, 3]].mean()  # Friday, Saturday
    hours = acc.dt.hour.value_counts()
    assert hours[[16, 17]].mean() > 3 * hours[[3, 4]].mean()


def test_incidents_concentrate_in_towns_and_on_roads(data: SimpleNamespace, outline_m: shapely.Polygon) -> None:
    p = data.points
    g = gpd.GeoSeries(gpd.points_from_xy(p["lon"], p["lat"]), crs=4326, index=p.index).to_crs(METRIC)
    prishtine = demo.demo_seats()["Prishtinë"]
    seat = gpd.GeoSeries(gpd.points_from_xy([prishtine[0]], [prishtine[1]]), crs=4326).to_crs(METRIC).iloc[0]
    area_share = np.pi * 5000.0**2 / outline_m.area  # 5 km around the capital's seat: 0.7 % of the territory
    assert (g.distance(seat) < 5000).mean() > 10 * area_share
    # accidents line the Prishtinë-Pejë road (far from both towns), crimes do not
    seats = demo.demo_seats()
    road = gpd.GeoSeries([shapely.LineString([seats["Prishtinë"], seats["Pejë"]])], crs=4326).to_crs(METRIC).iloc[0]
    middle = road.interpolate(0.5, normalized=True).buffer(10_000)
    on_road = (g.distance(road) < 300) & g.within(middle)
    accident = p["category"].isin(schema.ACCIDENT_CATEGORIES)
    assert on_road[accident].sum() > 200
    assert on_road[accident].sum() > 5 * on_road[~accident].sum()


def test_planted_hotspots(data: SimpleNamespace) -> None:
    p = data.points
    g = gpd.GeoSeries(gpd.points_from_xy(p["lon"], p["lat"]), crs=4326, index=p.index).to_crs(METRIC)
    assert 3 <= len(demo.HOTSPOTS) <= 5
    assert [h.start > demo.PERIOD_START for h in demo.HOTSPOTS].count(True) == 1
    last = p["occurred_at"] >= pd.Timestamp("2025-11-01")
    before = p["occurred_at"].between(pd.Timestamp("2024-11-01"), pd.Timestamp("2025-11-01"), inclusive="left")
    for h, (lon, lat) in zip(demo.HOTSPOTS, demo.hotspot_centres(), strict=True):
        centre = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(METRIC).iloc[0]
        inside = g.distance(centre) < 2 * h.sigma_m
        # far denser than the town around it: the 2-sigma disc vs the ring 1-2 km further out
        ring = (g.distance(centre) > 2 * h.sigma_m + 1000) & (g.distance(centre) < 2 * h.sigma_m + 2000)
        disc_area = np.pi * (2 * h.sigma_m) ** 2
        ring_area = np.pi * ((2 * h.sigma_m + 2000) ** 2 - (2 * h.sigma_m + 1000) ** 2)
        assert (inside & last).sum() / disc_area > 5 * (ring & last).sum() / ring_area, h.municipality
        # in one or two sections of its municipality
        where = _located(p[inside & last], data.sections)
        assert (where["municipality"] == h.municipality).mean() > 0.95
        assert where["section_id"].value_counts(normalize=True).iloc[:2].sum() > 0.8
        if h.start > demo.PERIOD_START:  # appears only in the last 12 months
            assert (inside & last).sum() > 4 * (inside & before).sum()
        else:
            assert (inside & before).sum() > 0.5 * (inside & last).sum()


# --- committees, meetings, concerns -----------------------------------------------------------------------------


def test_committees(data: SimpleNamespace) -> None:
    c = data.committees
    assert list(c.columns) == list(schema.COMMITTEES.field_names)
    assert c["committee_id"].is_unique
    assert set(c["type"]) == {"MCPS", "LCPS", "ACPS"}
    mcps = c[c["type"] == "MCPS"]
    assert sorted(mcps["municipality"]) == sorted(m.name for m in places.municipalities())
    assert (mcps["sections"] == "").all()
    assert 25 <= (c["type"] == "LCPS").sum() <= 35
    assert 10 <= (c["type"] == "ACPS").sum() <= 14
    assert set(c["active"]) == {"true", "false"}
    assert 2 <= (c["active"] == "false").sum() <= 20
    sections = data.sections_m.set_index("section_id")
    for _, row in c[c["type"] == "LCPS"].iterrows():
        ids = row["sections"].split(schema.LIST_SEPARATOR)
        assert 1 <= len(ids) <= 3
        assert (sections.loc[ids, "municipality"] == row["municipality"]).all()
        merged = shapely.union_all(sections.loc[ids].geometry.to_numpy())
        assert isinstance(merged, shapely.Polygon), row["committee_id"]  # adjacent sections
    lcps_sections = [s for v in c.loc[c["type"] == "LCPS", "sections"] for s in v.split(schema.LIST_SEPARATOR)]
    assert len(lcps_sections) == len(set(lcps_sections))


def test_meetings(data: SimpleNamespace) -> None:
    m, c = data.meetings, data.committees
    assert list(m.columns) == list(schema.MEETINGS.field_names)
    assert m["meeting_id"].is_unique
    assert m["committee_id"].isin(c["committee_id"]).all()
    held = pd.to_datetime(m["held_on"])
    assert held.between(pd.Timestamp("2023-11-01"), pd.Timestamp("2026-10-31")).all()
    established = pd.to_datetime(m["committee_id"].map(c.set_index("committee_id")["established_on"]))
    assert (held >= established).all()
    assert (m["attendance"].astype(int) > 0).all()
    kind = m["committee_id"].map(c.set_index("committee_id")["type"])
    per_mcps = m[kind == "MCPS"].groupby("committee_id").size()
    assert len(per_mcps) == 38 and per_mcps.median() >= 25  # about monthly over 36 months
    last = held.groupby(m["committee_id"]).max()
    recent = pd.Timestamp("2026-10-31") - pd.DateOffset(months=6)
    lapsed_mcps = [k for k in per_mcps.index if last[k] < recent]
    assert 3 <= len(lapsed_mcps) <= 4
    assert all(last[k] >= recent - pd.DateOffset(months=6) for k in lapsed_mcps)


def test_concerns_link_to_meetings(data: SimpleNamespace) -> None:
    con, m, c = data.concerns, data.meetings, data.committees
    linked = con[con["meeting_id"] != ""]
    assert len(linked) > 500
    assert linked["meeting_id"].isin(m["meeting_id"]).all()
    counts = linked["meeting_id"].value_counts()
    assert (m["concerns_raised"].astype(int) == m["meeting_id"].map(counts).fillna(0).astype(int)).all()
    meeting = m.set_index("meeting_id").loc[linked["meeting_id"]]
    committee = c.set_index("committee_id").loc[meeting["committee_id"]]
    assert (linked["raised_on"].to_numpy() == meeting["held_on"].to_numpy()).all()
    expected_source = committee["type"].map({"MCPS": "mcps_meeting", "LCPS": "lcps_meeting"}).to_numpy()
    assert (linked["source"].to_numpy() == expected_source).all()
    where = _municipality_of(linked, data.sections)
    assert (where.to_numpy() == committee["municipality"].to_numpy()).all()
    assert not con.loc[con["meeting_id"] == "", "source"].isin(["mcps_meeting", "lcps_meeting"]).any()


def test_concerns_fields_and_lifecycle(data: SimpleNamespace, outline: shapely.Polygon) -> None:
    con = data.concerns
    assert list(con.columns) == [*schema.CONCERNS.field_names[:10], "lat", "lon", "section_id"]
    assert 2500 <= len(con) <= 3500
    assert con["concern_id"].is_unique
    assert con["category"].isin(schema.CONCERNS.field("category").allowed).all()
    assert con["source"].isin(schema.CONCERNS.field("source").allowed).all()
    assert con["status"].isin(schema.CONCERNS.field("status").allowed).all()
    assert set(con["description_public"]) == {"true", "false"}
    assert (con.loc[con["category"] == "domestic_violence", "description_public"] == "false").all()
    assert (con["section_id"] == "").all()
    assert shapely.contains_xy(outline, con["lon"].astype(float), con["lat"].astype(float)).all()
    resolved = con["status"] == "resolved"
    assert (con.loc[resolved, "resolved_on"] != "").all()
    assert (con.loc[~resolved, "resolved_on"] == "").all()
    assert (con.loc[resolved, "resolved_on"] >= con.loc[resolved, "raised_on"]).all()
    assert (con.loc[resolved, "resolved_on"] <= "2026-10-31").all()
    assert (con.loc[con["status"] == "open", "action_taken"] == "").all()
    assert (con.loc[con["status"] != "open", "action_taken"] != "").all()
    first_year = con["raised_on"] < "2024-11-01"
    last_quarter = con["raised_on"] >= "2026-08-01"
    assert (con.loc[first_year, "status"] == "resolved").mean() > 0.75
    assert (con.loc[last_quarter, "status"] == "resolved").mean() < 0.5


def test_concern_mix_and_language(data: SimpleNamespace) -> None:
    con = data.concerns
    share = con["category"].value_counts(normalize=True)
    assert share.index[0] == "road_safety"
    assert share["public_lighting"] > 0.05 and share["stray_animals"] > 0.05
    where = _municipality_of(con, data.sections)
    north = con[where.isin(NORTH)]
    assert len(north) > 0
    assert not north["description"].str.contains("ë").any()  # Serbian texts
    assert con.loc[~where.isin(NORTH), "description"].str.contains("ë").mean() > 0.3  # Albanian ones


def test_surveys(data: SimpleNamespace) -> None:
    s = data.surveys
    assert list(s.columns) == list(schema.SURVEYS.field_names)
    regions = s[s["area"].map(places.match_region).notna()]
    assert len(regions) == 8 * 4
    assert set(regions["period"]) == {"2023", "2024", "2025", "2026"}
    for area in s["area"]:  # every area names a region or a municipality, never ambiguously both
        assert (places.match_region(area) is None) != (places.match_municipality(area) is None), area
    assert 0 < (s["area"].map(places.match_municipality).notna()).sum() < len(s)
    for col in ("trust_pct", "satisfaction_pct"):
        values = s[col].astype(float)
        assert values.between(0, 100).all()
        assert (values.round(1) == values).all()
    assert (s["respondents"].astype(int) > 0).all()
