"""Hotspot statistics with known answers."""

import geopandas as gpd
import numpy as np
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
