"""Points to sections (one boundary rule for edges and overlaps) and roll-ups to municipality and region."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.dataset import SECTION_ID_DTYPE
from geo.joins import SectionIndex, assign_sections, join_points, rollup, section_ids

#: Every boundary-rule test runs with exact tests only and with the grid (which must give the same answers).
METHODS = ("exact", "grid")


@pytest.fixture(params=METHODS)
def method(request) -> str:
    return request.param


def ids_of(lon, lat, sections, method: str = "exact") -> list:
    pos = assign_sections(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), sections, method)
    return [None if p < 0 else sections["section_id"].iloc[p] for p in pos]


# ---------------------------------------------------------------- the boundary rule


def test_interior_points(grid, inside, method):
    lon = [inside[s][0] for s in ("S1", "S2", "S3", "S4")]
    lat = [inside[s][1] for s in ("S1", "S2", "S3", "S4")]
    assert ids_of(lon, lat, grid, method) == ["S1", "S2", "S3", "S4"]


@pytest.mark.parametrize(
    "lon, lat, expected",
    [
        (21.2, 42.65, "S1"),  # edge S1|S2
        (21.2, 42.75, "S3"),  # edge S3|S4
        (21.15, 42.7, "S1"),  # edge S1|S3
        (21.25, 42.7, "S2"),  # edge S2|S4
        (21.2, 42.7, "S1"),  # the corner of all four
        (21.1, 42.65, "S1"),  # outer edge: closed polygons contain their boundary
        (21.3, 42.8, "S4"),  # outer corner
    ],
)
def test_points_on_shared_edges_go_to_the_smaller_id(grid, lon, lat, expected, method):
    assert ids_of([lon], [lat], grid, method) == [expected]


def test_grid_neighbours_share_edges_exactly(grid):
    s1, s2 = grid.geometry.iloc[0], grid.geometry.iloc[1]
    assert s1.intersection(s2).equals(shapely.LineString([(21.2, 42.6), (21.2, 42.7)]))


def test_the_rule_follows_ids_not_position(grid, method):
    # the same grid with the ids mirrored east-west: the western section now has the larger id
    mirrored = grid.assign(section_id=["S2", "S1", "S4", "S3"])
    assert ids_of([21.2, 21.2, 21.2], [42.65, 42.75, 42.7], mirrored, method) == ["S1", "S3", "S1"]


def test_the_rule_follows_ids_not_row_order(grid, method):
    shuffled = grid.iloc[[3, 1, 2, 0]].reset_index(drop=True)
    assert ids_of([21.2, 21.2], [42.7, 42.65], shuffled, method) == ["S1", "S1"]
    pos = assign_sections(np.array([21.2]), np.array([42.7]), shuffled, method)
    assert pos.tolist() == [3]  # the position in the given frame


def test_ids_compare_as_text(make_sections, square, method):
    # "S10" < "S9" as text: the documented rule is string order
    sections = make_sections([square(21.1, 42.6), square(21.2, 42.6)], ids=["S9", "S10"])
    assert ids_of([21.2], [42.65], sections, method) == ["S10"]


def test_points_inside_an_overlap_go_to_the_smaller_id(make_sections, square, method):
    sections = make_sections([square(21.15, 42.6), square(21.1, 42.6)], ids=["B", "A"])
    # in the overlap; only in B; only in A
    assert ids_of([21.18, 21.22, 21.12], [42.65, 42.65, 42.65], sections, method) == ["A", "B", "A"]


def test_points_in_a_section_nested_in_another(make_sections, square, method):
    sections = make_sections([square(21.1, 42.6, 0.2), square(21.15, 42.65, 0.05)], ids=["Z", "A"])
    assert ids_of([21.17, 21.12], [42.67, 42.62], sections, method) == ["A", "Z"]


def test_points_outside_every_section(grid, inside, method):
    lon, lat = inside["far"]
    assert ids_of([lon, 21.3000001, 21.15], [lat, 42.65, 42.5999999], grid, method) == [None, None, None]


def test_points_in_a_hole_are_outside(make_sections, method):
    donut = shapely.box(21.1, 42.6, 21.3, 42.8).difference(shapely.box(21.15, 42.65, 21.25, 42.75))
    sections = make_sections([donut])
    assert ids_of([21.2, 21.12, 21.15], [42.7, 42.62, 42.7], sections, method) == [None, "S1", "S1"]


def test_multipolygon_sections(make_sections, square, method):
    sections = make_sections([shapely.MultiPolygon([square(21.1, 42.6), square(21.5, 42.6)])])
    assert ids_of([21.15, 21.55, 21.35], [42.65, 42.65, 42.65], sections, method) == ["S1", "S1", None]


def test_missing_coordinates_and_empty_inputs(grid, method):
    assert assign_sections(np.array([np.nan, 21.15]), np.array([42.65, np.nan]), grid, method).tolist() == [-1, -1]
    assert assign_sections(np.array([]), np.array([]), grid, method).tolist() == []
    assert assign_sections(np.array([21.15]), np.array([42.65]), grid.iloc[0:0], method).tolist() == [-1]


# ---------------------------------------------------------------- against a reference join


def test_join_equals_sjoin_within_for_interior_points(make_sections, square, method):
    """Random points (seeded) over a hand-made 4×3 grid: where a point is strictly inside one
    section, the join equals ``geopandas.sjoin(predicate="within")``."""
    squares, ids = [], []
    for j in range(3):
        for i in range(4):
            squares.append(square(21.0 + 0.05 * i, 42.6 + 0.05 * j, 0.05))
            ids.append(f"S{(j * 4 + i) * 7 % 12:02d}")  # ids not in row order
    sections = make_sections(squares, ids=ids)
    rng = np.random.default_rng(20240318)
    lon = rng.uniform(20.98, 21.22, 2000)
    lat = rng.uniform(42.58, 42.77, 2000)
    # points on a boundary (to 1e-9°) are left to the boundary tests
    on_edge = np.zeros(len(lon), dtype=bool)
    for k in range(5):
        on_edge |= np.isclose(lon, 21.0 + 0.05 * k, atol=1e-9)
    for k in range(4):
        on_edge |= np.isclose(lat, 42.6 + 0.05 * k, atol=1e-9)
    lon, lat = lon[~on_edge], lat[~on_edge]

    points = gpd.GeoDataFrame({"n": np.arange(len(lon))}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    ref = gpd.sjoin(points, sections[["section_id", "geometry"]], how="left", predicate="within")
    assert not ref["n"].duplicated().any()  # strictly inside: never two sections
    expected = ref.sort_values("n")["section_id"].tolist()
    got = ids_of(lon, lat, sections, method)
    assert [None if pd.isna(e) else e for e in expected] == got
    # the sample covers every section and the outside
    assert set(got) == set(ids) | {None}


# ---------------------------------------------------------------- the grid gives the exact answers


def tricky_sections(make_sections, square) -> gpd.GeoDataFrame:
    """Shared straight and diagonal edges, an overlap, a section nested in another, a hole, two parts,
    a long thin sliver and a tiny section; ids not in row order."""
    donut = shapely.box(21.5, 42.6, 21.7, 42.8).difference(shapely.box(21.55, 42.65, 21.65, 42.75))
    return make_sections(
        [
            shapely.Polygon([(21.1, 42.6), (21.3, 42.6), (21.3, 42.8)]),  # triangle below the diagonal
            shapely.Polygon([(21.1, 42.6), (21.3, 42.8), (21.1, 42.8)]),  # triangle above it
            square(21.25, 42.55, 0.1),  # overlaps the lower triangle
            square(21.15, 42.7, 0.03),  # nested in the upper triangle
            donut,
            shapely.MultiPolygon([square(21.8, 42.6, 0.05), square(21.9, 42.7, 0.05)]),
            shapely.box(21.1, 42.5, 21.7, 42.5003),  # a sliver thinner than a grid cell
            square(21.58, 42.68, 0.001),  # tiny, inside the donut's hole
        ],
        ids=["T7", "T2", "T5", "T1", "T9", "T3", "T8", "T4"],
    )


def probe_points(sections: gpd.GeoDataFrame, n: int = 20_000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Random points over (and beyond) the sections, plus every vertex and every edge midpoint."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = sections.total_bounds
    lon = rng.uniform(minx - 0.05, maxx + 0.05, n)
    lat = rng.uniform(miny - 0.05, maxy + 0.05, n)
    rings = shapely.get_rings(shapely.get_parts(sections.geometry.values))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    mid = (xy[:-1][same] + xy[1:][same]) / 2
    return np.concatenate([lon, xy[:, 0], mid[:, 0]]), np.concatenate([lat, xy[:, 1], mid[:, 1]])


@pytest.mark.parametrize("cells", [16, 1_000, 200_000])
def test_grid_equals_exact_tests_on_tricky_sections(make_sections, square, cells):
    sections = tricky_sections(make_sections, square)
    lon, lat = probe_points(sections)
    exact = assign_sections(lon, lat, sections, "exact")
    index = SectionIndex(sections, cells=cells)
    assert index.grid is not None
    assert np.array_equal(index.locate(lon, lat), exact)
    assert set(exact) >= set(range(len(sections))) | {-1}  # the probe reaches every section and the outside


def test_grid_equals_exact_tests_on_cell_lines(make_sections, square):
    # points exactly on the grid's own cell edges and corners
    sections = tricky_sections(make_sections, square)
    index = SectionIndex(sections, cells=5_000)
    ny, nx = index.grid.shape
    gx = index._x0 + np.arange(nx + 1) * index._cx
    gy = index._y0 + np.arange(ny + 1) * index._cy
    lon, lat = (a.ravel() for a in np.meshgrid(gx, gy))
    assert np.array_equal(index.locate(lon, lat), assign_sections(lon, lat, sections, "exact"))


def test_grid_equals_exact_tests_on_a_voronoi_coverage():
    rng = np.random.default_rng(11)
    seeds = shapely.MultiPoint(rng.uniform([20.5, 42.2], [21.0, 42.6], (80, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(20.5, 42.2, 21.0, 42.6)))
    cells = shapely.intersection(cells, shapely.box(20.5, 42.2, 21.0, 42.6))
    sections = gpd.GeoDataFrame(
        {"section_id": [f"V{i:02d}" for i in rng.permutation(len(cells))]}, geometry=cells, crs="EPSG:4326"
    )
    lon, lat = probe_points(sections, n=50_000)
    exact = assign_sections(lon, lat, sections, "exact")
    assert np.array_equal(assign_sections(lon, lat, sections, "grid"), exact)
    assert np.array_equal(assign_sections(lon, lat, sections, "auto"), exact)  # 50,000 points: the grid


def test_the_index_leaves_the_sections_alone_and_can_be_reused(grid, inside):
    before = grid.copy()
    index = SectionIndex(grid, cells=10_000)
    lon = np.array([inside["S1"][0], 21.2, inside["far"][0], np.nan])
    lat = np.array([inside["S1"][1], 42.7, inside["far"][1], 42.7])
    assert index.locate(lon, lat).tolist() == [0, 0, -1, -1]
    assert index.locate(lon[::-1], lat[::-1]).tolist() == [-1, -1, 0, 0]
    assert not shapely.is_prepared(grid.geometry.values).any()
    assert grid.equals(before)
    assert 0.0 <= index.exact_share(lon, lat) <= 1.0


def test_the_method_is_checked(grid):
    with pytest.raises(ValueError, match="'grid'"):
        assign_sections(np.array([21.15]), np.array([42.65]), grid, method="raster")


def test_section_ids_of_positions(grid):
    ids = section_ids(np.array([1, -1, 0]), grid)
    assert ids.dtype == SECTION_ID_DTYPE  # the dataset's section id dtype: missing is NaN
    assert ids.tolist()[0] == "S2" and pd.isna(ids.iloc[1]) and ids.iloc[2] == "S1"
    assert section_ids(np.array([-1]), grid.iloc[0:0]).isna().all()


# ---------------------------------------------------------------- join_points


def test_join_points_sets_ids_from_coordinates_and_keeps_section_only_rows(grid, inside):
    frame = pd.DataFrame(
        {
            "lon": [inside["S2"][0], np.nan, inside["far"][0], 21.2],
            "lat": [inside["S2"][1], np.nan, inside["far"][1], 42.7],
            "section_id": pd.array([None, "S3", "S4", None], dtype="string"),
        }
    )
    out = join_points(frame, grid)
    assert out["section_id"].tolist()[:2] == ["S2", "S3"]
    assert pd.isna(out["section_id"].iloc[2])  # outside: the id it came with is not used
    assert out["section_id"].iloc[3] == "S1"
    assert frame["section_id"].isna().sum() == 2  # the input is not modified


def test_join_points_with_a_prebuilt_index(grid, inside):
    frame = pd.DataFrame({"lon": [inside["S4"][0]], "lat": [inside["S4"][1]], "section_id": pd.array([None], "string")})
    out = join_points(frame, grid, index=SectionIndex(grid))
    assert out["section_id"].tolist() == ["S4"]


def test_join_points_on_an_empty_table(grid):
    frame = pd.DataFrame({"lon": pd.Series(dtype=float), "lat": pd.Series(dtype=float), "section_id": []})
    assert len(join_points(frame, grid)) == 0


# ---------------------------------------------------------------- roll-ups


@pytest.fixture
def two_municipalities(grid):
    gdf = grid.copy()
    gdf["municipality"] = ["Prishtinë", "Prishtinë", "Podujevë", "Podujevë"]
    gdf["region"] = "Prishtinë"
    gdf["population"] = pd.array([1000, 3000, 2000, 2000], dtype="Int64")
    return gdf


def test_rollup_to_municipality_and_region(two_municipalities):
    values = pd.DataFrame({"section_id": ["S1", "S2", "S3"], "incidents": [1, 5, 4]})
    by_muni = rollup(values, two_municipalities, "municipality")
    assert by_muni["incidents"].to_dict() == {"Podujevë": 4, "Prishtinë": 6}
    assert by_muni["population"].to_dict() == {"Podujevë": 4000, "Prishtinë": 4000}
    assert by_muni["incidents_per_1000"].to_dict() == {"Podujevë": 1.0, "Prishtinë": 1.5}
    by_region = rollup(values, two_municipalities, "region")
    assert by_region.loc["Prishtinë", "incidents"] == 10
    assert by_region.loc["Prishtinë", "incidents_per_1000"] == pytest.approx(1.25)


def test_rollup_by_section_includes_sections_without_values(two_municipalities):
    values = pd.DataFrame({"incidents": [2]}, index=pd.Index(["S4"], name="section_id"))
    out = rollup(values, two_municipalities, "section")
    assert out["incidents"].to_dict() == {"S1": 0, "S2": 0, "S3": 0, "S4": 2}
    assert out.loc["S4", "incidents_per_1000"] == 1.0


def test_rollup_population_unknown_when_a_section_lacks_it(two_municipalities):
    two_municipalities["population"] = pd.array([1000, None, 2000, 2000], dtype="Int64")
    out = rollup(pd.DataFrame({"section_id": ["S1"], "incidents": [1]}), two_municipalities, "municipality")
    assert pd.isna(out.loc["Prishtinë", "population"])
    assert pd.isna(out.loc["Prishtinë", "incidents_per_1000"])
    assert out.loc["Podujevë", "population"] == 4000


def test_rollup_level_is_checked(two_municipalities):
    with pytest.raises(ValueError, match="municipality"):
        rollup(pd.DataFrame({"section_id": [], "n": []}), two_municipalities, "district")
