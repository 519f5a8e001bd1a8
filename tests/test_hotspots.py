"""Hotspot statistics with known answers."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import hotspots as h

X0, Y0 = 7_490_000, 4_720_000  # metres, EPSG:9141, near Prishtinë
N = 15


@pytest.fixture(scope="module")
def grid():
    cells = [
        shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
        for j in range(N)
        for i in range(N)
    ]
    g = gpd.GeoDataFrame({"section_id": [f"S{k:03d}" for k in range(N * N)]}, geometry=cells, crs="EPSG:9141")
    return g.to_crs(4326)


@pytest.fixture(scope="module")
def queen(grid):
    return h.neighbours(grid, "queen")


def _cell(i, j):
    return j * N + i


def test_queen_neighbours_of_a_corner_and_an_inner_cell(queen):
    card = queen.cardinalities
    assert card.iloc[_cell(0, 0)] == 3
    assert card.iloc[_cell(5, 5)] == 8


def test_planted_cluster_is_hot_at_99(queen):
    rng = np.random.default_rng(7)
    y = rng.poisson(4, N * N).astype(float)
    cluster = [_cell(7, 7), _cell(7, 8), _cell(8, 7), _cell(8, 8)]
    y[cluster] += 40
    res = h.getis_ord(y, queen)
    assert (res.loc[cluster, "label"] == h.HOT_99).all()
    far = [_cell(0, 14), _cell(14, 0)]
    assert (res.loc[far, "label"] != h.HOT_99).all()
    assert set(res["label"]) <= set(h.LABELS)


def test_random_pattern_yields_almost_nothing_after_fdr(queen):
    rng = np.random.default_rng(11)
    significant = 0
    for _ in range(5):
        y = rng.poisson(5, N * N).astype(float)
        res = h.getis_ord(y, queen)
        significant += (res["label"] != h.NOT_SIGNIFICANT).sum()
    assert significant <= 5  # of 1,125 unit tests at up to 90 % with FDR


def test_planted_hole_is_cold(queen):
    y = np.full(N * N, 20.0)
    rng = np.random.default_rng(3)
    y += rng.poisson(2, N * N)
    hole = [_cell(i, j) for i in range(6, 9) for j in range(6, 9)]
    y[hole] = 0
    res = h.getis_ord(y, queen)
    assert res.loc[_cell(7, 7), "label"] in (h.COLD_99, h.COLD_95)


def test_permutations_are_seeded_and_limited_by_their_count(queen):
    rng = np.random.default_rng(5)
    y = rng.poisson(4, N * N).astype(float)
    y[[_cell(3, 3), _cell(3, 4)]] += 30
    a = h.getis_ord(y, queen, permutations=99, seed=1)
    b = h.getis_ord(y, queen, permutations=99, seed=1)
    assert np.array_equal(a["p_sim"], b["p_sim"])
    assert a["p_sim"].min() >= 1 / 100 - 1e-6


def test_constant_values_give_no_hotspots(queen):
    res = h.getis_ord(np.full(N * N, 3.0), queen)
    assert (res["label"] == h.NOT_SIGNIFICANT).all()


def test_fdr_matches_hand_computed_bh():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01,0.03,0.04,0.20 -> 0.04,0.0533,0.0533,0.20
    assert np.allclose(h.fdr_bh(p), [0.04, 0.05333333, 0.05333333, 0.2])


def test_classify_levels():
    z = np.array([5.0, 2.2, -5.0, 0.1])
    p = np.array([1e-6, 0.028, 1e-6, 0.9])
    labels = h.classify(z, p)
    assert labels[0] == h.HOT_99 and labels[2] == h.COLD_99 and labels[3] == h.NOT_SIGNIFICANT
    assert labels[1] in (h.HOT_95, h.HOT_90)


def test_distance_weights_need_a_threshold(grid):
    with pytest.raises(ValueError, match="threshold_m"):
        h.neighbours(grid, "distance")
    with pytest.raises(ValueError, match="kind"):
        h.neighbours(grid, "king")


def test_density_peaks_at_the_cluster():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(X0 + 5000, 200, 500), rng.uniform(X0, X0 + 20000, 200)])
    y = np.concatenate([rng.normal(Y0 + 12000, 200, 500), rng.uniform(Y0, Y0 + 20000, 200)])
    grid = h.density(x, y, bandwidth_m=500, bounds=(X0, Y0, X0 + 20000, Y0 + 20000))
    i, j = np.unravel_index(np.argmax(grid.density), grid.density.shape)
    cx, cy = grid.cell_centres()
    assert abs(cx[i, j] - (X0 + 5000)) < 500 and abs(cy[i, j] - (Y0 + 12000)) < 500
    # the surface integrates to the number of points (km² units), up to what falls off the edge
    total = grid.density.sum() * (grid.cell_m**2) / 1e6
    assert 650 < total <= 700.5


def test_density_rejects_a_bad_bandwidth():
    with pytest.raises(ValueError, match="bandwidth_m"):
        h.density([0], [0], 0, (0, 0, 1, 1))


def test_pai_and_hit_rate_by_hand():
    # 4 units of equal area; flag the top 25 % by score
    score = np.array([10, 5, 1, 0])
    area = np.array([1.0, 1.0, 1.0, 1.0])
    flagged = h.top_share_by_area(score, area, 0.25)
    assert flagged.tolist() == [True, False, False, False]
    test = np.array([6, 2, 1, 1])
    ev = h.evaluate(flagged, test, area)
    assert ev["hit_rate"] == pytest.approx(0.6)
    assert ev["pai"] == pytest.approx(0.6 / 0.25)
    assert ev["area_share"] == pytest.approx(0.25)
    assert np.isnan(h.pai(1, 0, 1, 1))
    with pytest.raises(ValueError):
        h.top_share_by_area(score, area, 0)


# ---------------------------------------------------------------- sections, grid cells, permutations


def test_section_hotspots_are_keyed_by_section_and_find_the_cluster(grid):
    rng = np.random.default_rng(7)
    counts = pd.Series(rng.poisson(4, N * N).astype(float), index=grid["section_id"])
    cluster = [grid["section_id"].iloc[_cell(i, j)] for i in (7, 8) for j in (7, 8)]
    counts[cluster] += 40
    res = h.section_hotspots(grid, counts.drop(grid["section_id"].iloc[0]))  # a missing section counts 0
    assert list(res.index) == list(grid["section_id"]) and res.index.name == "section_id"
    assert res.loc[grid["section_id"].iloc[0], "count"] == 0
    assert (res.loc[cluster, "label"] == h.HOT_99).all()
    assert res["neighbours"].iloc[_cell(5, 5)] == 8 and res["neighbours"].iloc[_cell(0, 0)] == 3


def test_section_hotspots_survive_a_filtered_index(grid):
    # sections selected from a larger frame keep their original index: positions must still match
    sub = grid.iloc[N * 5 :].copy()
    counts = pd.Series(1.0, index=sub["section_id"])
    counts.iloc[:4] = 30
    res = h.section_hotspots(sub, counts, permutations=9, seed=1)
    assert len(res) == len(sub) and res["neighbours"].min() >= 3


def test_rates_need_every_population(grid):
    counts = pd.Series(2.0, index=grid["section_id"])
    with pytest.raises(ValueError, match="population"):
        h.section_hotspots(grid, counts, measure="rate")
    with_pop = grid.assign(population=500)
    res = h.section_hotspots(with_pop, counts, measure="rate")
    assert res["value"].iloc[0] == pytest.approx(2 / 500 * 1000)
    with pytest.raises(ValueError, match="measure"):
        h.unit_values([1], [1], "share")


def test_one_section_or_two_give_no_hotspots(grid):
    res = h.section_hotspots(grid.iloc[:2], pd.Series([5.0, 1.0], index=grid["section_id"].iloc[:2]))
    assert (res["label"] == h.NOT_SIGNIFICANT).all()


@pytest.fixture(scope="module")
def strip():
    """Two sections in EPSG:9141: a 3 × 2 km rectangle off the 1 km grid by 500 m, and a 1 km square beside it."""
    rect = shapely.box(X0 + 500, Y0, X0 + 3500, Y0 + 2000)
    square = shapely.box(X0 + 3500, Y0, X0 + 4500, Y0 + 1000)
    return gpd.GeoDataFrame(
        {"section_id": ["A", "B"], "population": [6000, 1000]}, geometry=[rect, square], crs="EPSG:9141"
    ).to_crs(4326)


def test_grid_cells_cover_the_sections_exactly(strip):
    cells = h.grid_cells(strip, 1000)
    union = shapely.union_all(strip.to_crs(9141).geometry.values)
    cell_union = shapely.union_all(cells.geometry.values)
    assert cells.crs.equals("EPSG:9141")
    assert cells["area_km2"].sum() == pytest.approx(union.area / 1e6, rel=1e-6)  # no overlaps, no gaps
    assert shapely.symmetric_difference(union, cell_union).area < 1.0
    assert cells["cell_id"].is_unique
    # columns from X0 (a multiple of 1 km): 0 half, 1–2 whole, 3 two halves (A and B), 4 half of B
    assert len(cells) == 9
    half = cells[cells["col"] == 0]
    assert half["area_km2"].tolist() == pytest.approx([0.5, 0.5])
    # residents shared by area: 6,000 over A's 6 km², 1,000 over B's 1 km²
    assert cells["population"].sum() == pytest.approx(7000)
    assert half["population"].tolist() == pytest.approx([500, 500])
    mixed = cells[(cells["col"] == 3) & (cells["row"] == cells["row"].min())]
    assert mixed["population"].iloc[0] == pytest.approx(500 + 500)


def test_grid_cells_refuse_too_many_cells(strip):
    with pytest.raises(ValueError, match="larger cells"):
        h.grid_cells(strip, 10, max_cells=100)
    with pytest.raises(ValueError, match="cell_m"):
        h.grid_cells(strip, 0)


def test_cell_counts_place_points_and_edges(strip):
    cells = h.grid_cells(strip, 1000).reset_index(drop=True)
    x = np.array([X0 + 1500, X0 + 2000, X0 + 2000, X0 + 9000])  # inside; on an edge (goes east); again; outside
    y = np.array([Y0 + 500, Y0 + 1500, Y0 + 1500, Y0 + 500])
    counts = h.cell_counts(cells, x, y, weights=np.array([1, 2, 1, 5]))
    by_id = dict(zip(cells["cell_id"], counts, strict=True))
    row0 = cells["row"].min()
    assert by_id[f"r{row0}c1"] == 1
    assert by_id[f"r{row0 + 1}c2"] == 3  # the edge x = X0 + 2000 belongs to the cell east of it
    assert counts.sum() == 4  # the point outside every cell is not counted


def test_grid_hotspots_find_a_dense_patch():
    square = shapely.box(X0, Y0, X0 + 15000, Y0 + 15000)
    area = gpd.GeoDataFrame({"section_id": ["A"], "population": [15000]}, geometry=[square], crs=9141).to_crs(4326)
    cells = h.grid_cells(area, 1000)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(X0, X0 + 15000, 600), rng.uniform(X0 + 7000, X0 + 9000, 200)])
    y = np.concatenate([rng.uniform(Y0, Y0 + 15000, 600), rng.uniform(Y0 + 7000, Y0 + 9000, 200)])
    res = h.grid_hotspots(cells, h.cell_counts(cells, x, y), permutations=99, seed=2)
    assert res.index.name == "cell_id" and len(res) == 225
    patch = cells[(cells["col"] - cells["col"].min()).isin([7, 8]) & (cells["row"] - cells["row"].min()).isin([7, 8])]
    assert (res.loc[patch["cell_id"], "label"] == h.HOT_99).all()


def test_permutation_p_counts_ties_as_extreme(queen):
    # sparse counts: a unit of 0 among neighbours of 0 must never look significant
    y = np.zeros(N * N)
    y[[_cell(2, 2), _cell(10, 4), _cell(5, 12)]] = 1
    p = h.permutation_p(y, queen, permutations=199, seed=0)
    assert p[_cell(14, 14)] == 1.0  # nothing in or around it: every draw is at least as far from expectation
    assert p.min() > 0.05  # a single event is never significant
    res = h.getis_ord(y, queen, permutations=199, seed=0)
    assert (res["label_sim"] == h.NOT_SIGNIFICANT).all()


def test_permutation_p_is_small_for_a_planted_cluster_and_bounded(queen):
    rng = np.random.default_rng(5)
    y = rng.poisson(4, N * N).astype(float)
    cluster = [_cell(7, 7), _cell(7, 8), _cell(8, 7), _cell(8, 8)]
    y[cluster] += 40
    p = h.permutation_p(y, queen, permutations=99, seed=4)
    assert p.min() == pytest.approx(h.smallest_permutation_p(99)) and p.max() <= 1
    assert (p[cluster] <= 0.02).all()
    with pytest.raises(ValueError, match="permutations"):
        h.permutation_p(y, queen, permutations=0)


def test_label_counts_and_smallest_p():
    counts = h.label_counts(pd.Series([h.HOT_99, h.HOT_99, h.NOT_SIGNIFICANT]))
    assert list(counts.index) == list(h.LABELS)
    assert counts[h.HOT_99] == 2 and counts[h.COLD_99] == 0
    assert h.smallest_permutation_p(999) == pytest.approx(0.001)


# ---------------------------------------------------------------- density by unit and the prediction test


def test_density_by_unit_mean_and_sum_by_hand():
    grid_ = h.DensityGrid(np.full((10, 10), 5.0), X0, Y0, 500.0, 1000.0)  # 5 per km² over 5 × 5 km
    units = gpd.GeoDataFrame(
        {"section_id": ["big", "tiny"]},
        geometry=[
            shapely.box(X0 + 1000, Y0 + 1000, X0 + 3000, Y0 + 3000),
            shapely.box(X0 + 4100, Y0 + 4100, X0 + 4200, Y0 + 4200),
        ],
        crs=9141,
    ).to_crs(4326)
    assert h.density_by_unit(grid_, units, "mean") == pytest.approx([5.0, 5.0], rel=1e-6)
    assert h.density_by_unit(grid_, units, "sum") == pytest.approx([20.0, 0.05], rel=1e-4)  # density × km²
    with pytest.raises(ValueError, match="how"):
        h.density_by_unit(grid_, units, "max")


def test_compare_predictors_by_hand():
    area = np.array([1.0, 1.0, 2.0, 4.0])  # 8 in all; 25 % is 2
    test = np.array([10, 0, 5, 5])  # 20 in all
    out = h.compare_predictors(
        {"a": np.array([3, 2, 1, 0]), "b": np.array([0, 0, 5, 1]), "none": np.zeros(4)}, test, area, 0.25
    )
    assert out.loc["a", "units"] == 2 and out.loc["a", "area_share"] == pytest.approx(0.25)
    assert out.loc["a", "hit_rate"] == pytest.approx(0.5) and out.loc["a", "pai"] == pytest.approx(2.0)
    assert out.loc["b", "units"] == 1 and out.loc["b", "captured"] == 5
    assert out.loc["b", "hit_rate"] == pytest.approx(0.25) and out.loc["b", "pai"] == pytest.approx(1.0)
    assert out.loc["none", "units"] == 0 and np.isnan(out.loc["none", "pai"])
    with pytest.raises(ValueError, match="units"):
        h.compare_predictors({"a": np.zeros(3)}, test, area, 0.25)


def test_gi_score_keeps_only_hot_spots():
    res = pd.DataFrame({"label": [h.HOT_99, h.COLD_99, h.NOT_SIGNIFICANT, h.HOT_90], "z": [4.0, -3.0, 1.0, 1.8]})
    assert h.gi_score(res).tolist() == [4.0, 0.0, 0.0, 1.8]


def test_every_predictor_finds_a_persistent_cluster(grid):
    rng = np.random.default_rng(9)
    cells = [_cell(i, j) for i in (3, 4) for j in (10, 11)]
    train_counts = pd.Series(rng.poisson(2, N * N).astype(float), index=grid["section_id"])
    train_counts.iloc[cells] += 30
    centres = grid.to_crs(9141).geometry.centroid
    x = np.repeat(centres.x.to_numpy(), train_counts.astype(int).to_numpy())
    y = np.repeat(centres.y.to_numpy(), train_counts.astype(int).to_numpy())
    scores = h.prediction_scores(grid, train_counts, x, y, None, bandwidth_m=500)
    assert set(scores) == set(h.PREDICTORS)
    test = np.ones(N * N)
    test[cells] = 20
    out = h.compare_predictors(scores, test, h.areas_km2(grid), 4 / (N * N))
    # each predictor flags exactly the four cluster cells
    assert out["hit_rate"].tolist() == pytest.approx([80 / (80 + N * N - 4)] * 3)
    assert (out["units"] == 4).all()
    assert scores["last_period"][cells[0]] == pytest.approx(train_counts.iloc[cells[0]] / 1.0, rel=1e-3)  # 1 km² cells
